// Registrations that configure or query rather than hold memory: probe, query and the
// capability report, restrictions, io-wq, sync cancel, the wait clock, ring-less messages and
// NAPI (declared in probe, restrictions, iowq, sync_cancel, clock, send_msg_ring and napi).
module;
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <vector>
module urine.registration;
import urine.abi;
import urine.ring;

namespace urine {

// ---- probe and query ---------------------------------------------------------------------------

result<probe> probe_ring(ring_ref ring) {
  constexpr auto op = register_opcode::register_probe;
  // The kernel wants zeroed memory for the header and 256 entries (one per possible opcode).
  struct {
    abi::probe header;
    abi::probe_op ops[256];
  } raw{};
  const int ret = ring.call(op, &raw, 256);
  if (ret < 0) return detail::refused(op, ret, detail::asked(op, "256 entries"));
  probe p;
  p.last_op_ = raw.header.last_op;
  for (unsigned i = 0; i < raw.header.ops_len && i < 256; ++i)
    p.supported_[raw.ops[i].op] = (raw.ops[i].flags & op_supported) != 0;
  return p;
}

namespace {
// A minimal ring for questions that need one: raw setup, closed on scope exit.
struct throwaway_ring {
  abi::params params{};  // before fd: the setup call fills it
  int fd;
  throwaway_ring() : fd(abi::io_uring_setup(1, &params)) {}
  ~throwaway_ring() {
    if (fd >= 0) ::close(fd);
  }
  throwaway_ring(const throwaway_ring&) = delete;
  throwaway_ring& operator=(const throwaway_ring&) = delete;
};
}  // namespace

result<probe> probe_kernel() {
  auto r = ring<>::create(1);
  if (!r) return std::unexpected(std::move(r.error()));
  return probe_ring(*r);
}

result<query_result> query() {
  constexpr auto op = register_opcode::register_query;
  const auto answer = detail::query_opcodes();
  if (!answer) {
    std::string text = detail::asked(op, "IO_URING_QUERY_OPCODES");
    if (answer.error() == -EINVAL) text += ": the kernel predates QUERY (6.18)";
    return fail(answer.error(), std::move(text));
  }
  return *answer;
}

result<capability_report> capabilities() {
  capability_report report;
  ::utsname u{};
  if (::uname(&u) == 0) report.kernel_release = u.release;
  auto p = probe_kernel();
  if (!p) return std::unexpected(std::move(p.error()));
  report.ops = *p;
  {
    throwaway_ring r;
    if (r.fd < 0) return fail(r.fd, "io_uring_setup(1) for the capability report");
    report.features = feature_flags(r.params.features);
  }
  if (auto q = query()) {
    report.queried = true;
    report.setup = q->setup;
    report.enter = q->enter;
    report.sqe = q->sqe;
    report.register_opcodes = q->register_opcodes;
  } else {
    // Before 6.18: a setup flag is known when a ring asking for it alone is not refused with
    // EINVAL (flags that need a partner are tried with it).
    for (const auto& f : setup_flag_table) {
      setup_flags trial = f.value;
      if (f.value == setup_flags::sq_aff) trial |= setup_flags::sqpoll;
      if (f.value == setup_flags::defer_taskrun || f.value == setup_flags::registered_fd_only)
        trial |= setup_flags::single_issuer;
      if (f.value == setup_flags::hybrid_iopoll) trial |= setup_flags::iopoll;
      if (f.value == setup_flags::taskrun_flag) trial |= setup_flags::coop_taskrun;
      if (f.value == setup_flags::attach_wq || f.value == setup_flags::no_mmap ||
          f.value == setup_flags::registered_fd_only)
        continue;  // need resources to pass validation; reported unknown
      abi::params params{};
      params.flags = bits(trial);
      if (has(trial, setup_flags::cqsize)) params.cq_entries = 4;
      const int fd = abi::io_uring_setup(2, &params);
      if (fd >= 0) {
        ::close(fd);
        report.setup |= f.value;
      }
    }
  }
  return report;
}

// ---- restrictions ------------------------------------------------------------------------------

result<void> restrictions::apply(ring_ref ring) const {
  constexpr auto op = register_opcode::register_restrictions;
  std::vector<abi::restriction> list;
  const auto push = [&](restriction_kind kind, std::uint8_t value) {
    abi::restriction r{};
    r.opcode = static_cast<std::uint16_t>(kind);
    r.register_op = value;  // the one-byte union: register_op, sqe_op and sqe_flags share it
    list.push_back(r);
  };
  for (unsigned i = 0; i < 256; ++i) {
    if (ops_.test(i)) push(restriction_kind::sqe_op, static_cast<std::uint8_t>(i));
    if (register_ops_.test(i)) push(restriction_kind::register_op, static_cast<std::uint8_t>(i));
  }
  if (allowed_flags_ != sqe_flags::none)
    push(restriction_kind::sqe_flags_allowed, bits(allowed_flags_));
  if (required_flags_ != sqe_flags::none)
    push(restriction_kind::sqe_flags_required, bits(required_flags_));
  if (list.empty())
    return fail(std::errc::invalid_argument,
                detail::asked(op) + ": the allow-list is empty (a ring that may do nothing)");
  const int ret = ring.call(op, list.data(), static_cast<std::uint32_t>(list.size()));
  if (ret < 0) {
    std::string text = detail::asked(op, std::to_string(list.size()) + " entries");
    if (ret == -EBADFD)
      text += ": the ring is running; restrictions need a ring created with setup::disabled";
    if (ret == -EBUSY) text += ": the ring already has restrictions";
    return detail::refused(op, ret, std::move(text));
  }
  return {};
}

result<void> enable_rings(ring_ref ring) {
  constexpr auto op = register_opcode::register_enable_rings;
  const int ret = ring.call(op, nullptr, 0);
  if (ret < 0) {
    std::string text = detail::asked(op);
    if (ret == -EBADFD) text += ": the ring is not disabled (already enabled, or created running)";
    return detail::refused(op, ret, std::move(text));
  }
  return {};
}

// ---- io-wq -------------------------------------------------------------------------------------

result<void> set_iowq_affinity(ring_ref ring, const ::cpu_set_t& cpus) {
  constexpr auto op = register_opcode::register_iowq_aff;
  if (CPU_COUNT(&cpus) == 0)
    return fail(std::errc::invalid_argument, detail::asked(op) + ": the CPU set is empty");
  const int ret = ring.call(op, &cpus, sizeof cpus);
  if (ret < 0)
    return detail::refused(op, ret, detail::asked(op, std::to_string(CPU_COUNT(&cpus)) + " CPUs"));
  return {};
}

result<void> clear_iowq_affinity(ring_ref ring) {
  constexpr auto op = register_opcode::unregister_iowq_aff;
  const int ret = ring.call(op, nullptr, 0);
  if (ret < 0) return detail::refused(op, ret, detail::asked(op));
  return {};
}

result<iowq_limits> set_iowq_max_workers(ring_ref ring, iowq_limits limits) {
  constexpr auto op = register_opcode::register_iowq_max_workers;
  constexpr std::uint32_t int_max = 0x7fffffff;
  if (limits.bounded > int_max || limits.unbounded > int_max)
    return fail(std::errc::invalid_argument, detail::asked(op) + ": a limit above INT_MAX");
  std::uint32_t counts[2] = {};
  counts[io_wq_bound] = limits.bounded;
  counts[io_wq_unbound] = limits.unbounded;
  const int ret = ring.call(op, counts, 2);
  if (ret < 0)
    return detail::refused(
        op, ret,
        detail::asked(op, "bounded " + std::to_string(limits.bounded) + ", unbounded " +
                              std::to_string(limits.unbounded)));
  return iowq_limits{counts[io_wq_bound], counts[io_wq_unbound]};
}

result<iowq_limits> iowq_max_workers(ring_ref ring) { return set_iowq_max_workers(ring, {}); }

// ---- sync cancel -------------------------------------------------------------------------------

result<unsigned> sync_cancel(ring_ref ring, const cancel_request& request) {
  constexpr auto op = register_opcode::register_sync_cancel;
  abi::sync_cancel_reg reg{};
  cancel_flags flags = cancel_flags::none;
  if (request.all) flags |= cancel_flags::all;
  if (request.any) flags |= cancel_flags::any;
  if (request.file)
    flags |=
        cancel_flags::fd | (request.file->fixed() ? cancel_flags::fd_fixed : cancel_flags::none);
  if (request.match_op) flags |= cancel_flags::op;
  // Matching by user data is the default; with other criteria it must be asked for explicitly.
  if (!request.any && (request.file || request.match_op) && request.data.value() != 0)
    flags |= cancel_flags::userdata;
  reg.addr = request.data.value();
  reg.fd = request.file ? request.file->value() : -1;
  reg.flags = bits(flags);
  reg.opcode = static_cast<std::uint8_t>(request.op);
  if (request.timeout == std::chrono::nanoseconds::max()) {
    reg.timeout = {-1, -1};  // the kernel's "no timeout"
  } else {
    if (request.timeout.count() < 0)
      return fail(std::errc::invalid_argument, detail::asked(op) + ": a negative timeout");
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(request.timeout);
    reg.timeout = {secs.count(), (request.timeout - secs).count()};
  }
  const int ret = ring.call(op, &reg, 1);
  if (ret < 0) {
    std::string text = detail::asked(op, "user data " + std::to_string(request.data.value()));
    if (ret == -ENOENT) text += ": no pending request matched";
    if (ret == -ETIME) text += ": the timeout passed before the requests finished";
    return detail::refused(op, ret, std::move(text));
  }
  return request.all ? static_cast<unsigned>(ret) : 1u;
}

// ---- clock -------------------------------------------------------------------------------------

result<void> set_wait_clock(ring_ref ring, wait_clock clock) {
  constexpr auto op = register_opcode::register_clock;
  abi::clock_register reg{};
  reg.clockid =
      static_cast<std::uint32_t>(clock == wait_clock::boottime ? CLOCK_BOOTTIME : CLOCK_MONOTONIC);
  // The kernel wants the struct and nr_args = 0.
  const int ret = ring.call(op, &reg, 0);
  if (ret < 0)
    return detail::refused(
        op, ret,
        detail::asked(op, clock == wait_clock::boottime ? "CLOCK_BOOTTIME" : "CLOCK_MONOTONIC"));
  return {};
}

// ---- ring-less messages ------------------------------------------------------------------------

result<void> send_msg_ring(int target_fd, user_data data, std::int32_t res, cqe_flags flags) {
  constexpr auto op = register_opcode::register_send_msg_ring;
  if (target_fd < 0)
    return fail(std::errc::bad_file_descriptor, detail::asked(op) + ": the target ring has no fd");
  // The argument is an IORING_OP_MSG_RING SQE: target fd, data (user data), len (result).
  abi::sqe s{};
  s.opcode = static_cast<std::uint8_t>(opcode::msg_ring);
  s.fd = target_fd;
  s.addr = static_cast<std::uint64_t>(msg_ring_command::data);
  s.off = data.value();
  s.len = static_cast<std::uint32_t>(res);
  if (flags != cqe_flags::none) {
    s.msg_ring_flags = bits(msg_ring_flags::flags_pass);
    s.file_index = bits(flags);
  }
  const int ret = abi::io_uring_register(-1, static_cast<std::uint32_t>(op), &s, 1);
  if (ret < 0) {
    std::string text = detail::asked(op, "to ring fd " + std::to_string(target_fd));
    if (ret == -EBADFD) text += ": the target ring is disabled";
    if (ret == -EBADF) text += ": not an io_uring fd";
    return detail::refused(op, ret, std::move(text));
  }
  return {};
}

result<void> send_msg_ring(ring_ref target, user_data data, std::int32_t res, cqe_flags flags) {
  return send_msg_ring(target.fd(), data, res, flags);
}

// ---- napi --------------------------------------------------------------------------------------

namespace {
napi_settings settings_of(const abi::napi& n) {
  return {std::chrono::microseconds(n.busy_poll_to), n.prefer_busy_poll != 0};
}
}  // namespace

result<napi_settings> registered_napi::unregister_from(ring_ref ring, const napi_settings&) {
  abi::napi n{};
  const int ret = ring.call(unregister_opcode, &n, 1);
  if (ret < 0) return detail::refused(unregister_opcode, ret, detail::asked(unregister_opcode));
  return settings_of(n);
}

result<registered_napi> register_napi(ring_ref ring, napi_settings settings) {
  constexpr auto op = register_opcode::register_napi;
  if (settings.busy_poll_timeout.count() < 0 || settings.busy_poll_timeout.count() > 0xffffffff)
    return fail(std::errc::invalid_argument,
                detail::asked(op) + ": the busy-poll timeout does not fit 32 bits of µs");
  abi::napi n{};
  n.busy_poll_to = static_cast<std::uint32_t>(settings.busy_poll_timeout.count());
  n.prefer_busy_poll = settings.prefer_busy_poll ? 1 : 0;
  // pad[0] is the operation (0: register with dynamic tracking) in kernels that know several.
  const int ret = ring.call(op, &n, 1);
  if (ret < 0) {
    std::string text =
        detail::asked(op, std::to_string(settings.busy_poll_timeout.count()) + " µs");
    if (ret == -EOPNOTSUPP) text += ": the kernel was built without CONFIG_NET_RX_BUSY_POLL";
    if (ret == -EEXIST) text += ": busy polling is already registered on this ring";
    return detail::refused(op, ret, std::move(text));
  }
  return registered_napi(detail::handle_key{}, ring, settings_of(n));
}

}  // namespace urine
