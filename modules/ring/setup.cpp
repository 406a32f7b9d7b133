// Ring creation, validation and teardown (declared in setup.cppm); resizing is in resize.cpp.
module;
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <system_error>
#include <utility>
module urine.ring;
import urine.abi;

namespace urine {

namespace {

constexpr unsigned registered_ring_slots = 16;  // IO_RINGFD_REG_MAX, per thread
constexpr std::size_t rings_header_bytes = 64;  // struct io_rings up to its cache-aligned CQEs

std::size_t page_size() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// Why a valid-looking request was refused, in words: the flags this kernel does not know, or,
// when it knows them all, which of the well-known pairing rules the set breaks.
std::string diagnose_refusal(setup_flags requested, const setup& s) {
  // Which of the flags the kernel lacks: told by QUERY (6.18), and before that by the running
  // release against each flag's first kernel.
  const kernel_support k = query_kernel_support();
  const kernel_version running = running_kernel();
  setup_flags unknown = setup_flags::none;
  for (const auto& f : setup_flag_table)
    if (any(requested, f.value) &&
        (k.known ? !any(k.setup, f.value) : running.major != 0 && running < f.since))
      unknown = unknown | f.value;
  if (unknown != setup_flags::none) {
    std::string text =
        k.known ? "the running kernel does not support IORING_SETUP_"
                : "the running kernel (" + to_string(running) + ") predates IORING_SETUP_";
    text += describe(unknown);
    for (const auto& f : setup_flag_table)
      if (any(unknown, f.value))
        text += " (" + std::string(f.name) + " needs kernel " + to_string(f.since) + ")";
    return text;
  }
  if (has(requested, setup_flags::registered_fd_only) && !has(requested, setup_flags::no_mmap))
    return "IORING_SETUP_REGISTERED_FD_ONLY needs NO_MMAP (caller memory)";
  if (has(requested, setup_flags::attach_wq))
    return "IORING_SETUP_ATTACH_WQ: fd " + std::to_string(s.attach_wq) + " is not an io_uring";
  if (has(requested, setup_flags::sq_aff))
    return "IORING_SETUP_SQ_AFF: CPU " + std::to_string(s.sq_thread_cpu) + " refused";
  if (has(requested, setup_flags::no_mmap))
    return "IORING_SETUP_NO_MMAP: caller memory refused (too small or not page-aligned)";
  return "io_uring_setup refused IORING_SETUP_" + describe(requested) + " with " +
         std::to_string(s.entries) + " entries";
}

}  // namespace

std::string describe(setup_flags flags) {
  if (flags == setup_flags::none) return "none";
  std::string out;
  for (const auto& f : setup_flag_table) {
    if (!any(flags, f.value)) continue;
    if (!out.empty()) out += '|';
    out += f.name;
    flags = flags & ~f.value;
  }
  if (flags != setup_flags::none) {
    if (!out.empty()) out += '|';
    out += "0x" + [](std::uint32_t v) {
      constexpr char digits[] = "0123456789abcdef";
      std::string h;
      do h.insert(h.begin(), digits[v & 0xf]);
      while (v >>= 4);
      return h;
    }(bits(flags));
  }
  return out;
}

kernel_support query_kernel_support() noexcept {
  return detail::query_opcodes().value_or(kernel_support{});
}

ring_memory_size no_mmap_size(std::uint32_t sq_entries, std::uint32_t cq_entries,
                              std::size_t sqe_size, std::size_t cqe_size) {
  const std::size_t sq = std::bit_ceil(sq_entries == 0 ? 1u : sq_entries);
  const std::size_t cq = cq_entries == 0 ? 2 * sq : std::bit_ceil(cq_entries);
  const std::size_t rings =
      round_up(rings_header_bytes + cq * cqe_size, 64) + sq * sizeof(std::uint32_t);
  return {round_up(rings, page_size()), round_up(sq * sqe_size, page_size())};
}

}  // namespace urine

namespace urine::detail {

std::expected<kernel_support, int> query_opcodes() noexcept {
  abi::query_opcode data{};
  abi::query_hdr hdr{};
  hdr.query_data = reinterpret_cast<std::uintptr_t>(&data);
  hdr.query_op = static_cast<std::uint32_t>(query_op::opcodes);
  hdr.size = sizeof data;
  // No ring needed (fd -1); the kernel takes a chain of headers and wants nr_args = 0. Each
  // header carries its own result besides the call's.
  const int ret = abi::io_uring_register(
      -1, static_cast<std::uint32_t>(register_opcode::register_query), &hdr, 0);
  if (ret < 0) return std::unexpected(ret);
  if (hdr.result < 0) return std::unexpected(hdr.result);
  return kernel_support{
      .known = true,
      .request_opcodes = data.nr_request_opcodes,
      .register_opcodes = data.nr_register_opcodes,
      .setup = setup_flags(static_cast<std::uint32_t>(data.ring_setup_flags)),
      .enter = enter_flags(static_cast<std::uint32_t>(data.enter_flags)),
      .features = feature_flags(static_cast<std::uint32_t>(data.feature_flags)),
      .sqe = sqe_flags(static_cast<std::uint8_t>(data.sqe_flags)),
      .query_opcodes = data.nr_query_opcodes,
  };
}

namespace {

// What the library can know is checked here, before the kernel says only "Invalid argument".
result<void> validate(const setup& s, const ring_shape& shape) {
  if (s.entries == 0) return fail(std::errc::invalid_argument, "a ring needs at least 1 SQ entry");
  if (s.entries > ring_core::max_sq_entries && !s.clamp)
    return fail(std::errc::invalid_argument,
                "SQ entries " + std::to_string(s.entries) + " exceed the kernel maximum " +
                    std::to_string(ring_core::max_sq_entries) + " (set clamp to cap them)");
  if (s.cq_entries > ring_core::max_cq_entries && !s.clamp)
    return fail(std::errc::invalid_argument,
                "CQ entries " + std::to_string(s.cq_entries) + " exceed the kernel maximum " +
                    std::to_string(ring_core::max_cq_entries) + " (set clamp to cap them)");
  if (s.cq_entries != 0 && s.cq_entries < s.entries && !s.clamp)
    return fail(std::errc::invalid_argument, "CQ entries " + std::to_string(s.cq_entries) +
                                                 " are fewer than SQ entries " +
                                                 std::to_string(s.entries));
  if (s.registered_fd_only && !shape.register_fd)
    return fail(std::errc::invalid_argument,
                "REGISTERED_FD_ONLY needs the registered_ring_fd policy: the ring has no fd");
  if (s.registered_fd_only && s.memory.empty())
    return fail(std::errc::invalid_argument,
                "REGISTERED_FD_ONLY needs caller memory (setup::memory, IORING_SETUP_NO_MMAP)");
  if (!s.memory.empty()) {
    const auto aligned = [](std::span<std::byte> area) {
      return reinterpret_cast<std::uintptr_t>(area.data()) % page_size() == 0;
    };
    if (!aligned(s.memory.rings) || !aligned(s.memory.sqes))
      return fail(std::errc::invalid_argument, "NO_MMAP ring memory must be page-aligned");
    const ring_memory_size need =
        no_mmap_size(s.entries, s.cq_entries, shape.sqe_size, shape.cqe_size);
    if (s.memory.rings.size() < need.rings || s.memory.sqes.size() < need.sqes)
      return fail(std::errc::invalid_argument,
                  "NO_MMAP ring memory too small: need " + std::to_string(need.rings) +
                      " bytes for the rings and " + std::to_string(need.sqes) + " for the SQEs");
  }
  return {};
}

// io_uring_setup's parameters: the flags the ring type fixes, plus what the run-time setup asks.
abi::params build_params(const setup& s, const ring_shape& shape) {
  abi::params p{};
  setup_flags flags = shape.flags;
  if (s.cq_entries != 0) {
    flags |= setup_flags::cqsize;
    p.cq_entries = s.cq_entries;
  }
  if (s.clamp) flags |= setup_flags::clamp;
  if (s.attach_wq >= 0) {
    flags |= setup_flags::attach_wq;
    p.wq_fd = static_cast<std::uint32_t>(s.attach_wq);
  }
  if (s.disabled) flags |= setup_flags::r_disabled;
  if (s.submit_all) flags |= setup_flags::submit_all;
  if (s.sq_array != sq_array_mode::keep) flags |= setup_flags::no_sqarray;
  if (!s.memory.empty()) {
    flags |= setup_flags::no_mmap;
    // Crosswise, as the kernel reads them: the SQE array from sq_off, the rings from cq_off.
    p.sq_off.user_addr = reinterpret_cast<std::uintptr_t>(s.memory.sqes.data());
    p.cq_off.user_addr = reinterpret_cast<std::uintptr_t>(s.memory.rings.data());
  }
  if (s.registered_fd_only) flags |= setup_flags::registered_fd_only;
  if (has(flags, setup_flags::sqpoll)) {
    p.sq_thread_idle = s.sq_thread_idle_ms;
    if (s.sq_thread_cpu >= 0) {
      flags |= setup_flags::sq_aff;
      p.sq_thread_cpu = static_cast<std::uint32_t>(s.sq_thread_cpu);
    }
  }
  p.flags = bits(flags);
  return p;
}

// io_uring_setup(2), retried without NO_SQARRAY on a kernel before 6.6 that does not know it
// (it was only asked for where supported). `p` holds the kernel's answer; returns its result.
int setup_ring(const setup& s, abi::params& p) {
  const abi::params request = p;
  int ret = abi::io_uring_setup(s.entries, &p);
  if (ret == -EINVAL && s.sq_array == sq_array_mode::omit_if_supported &&
      has(setup_flags(request.flags), setup_flags::no_sqarray)) {
    p = request;
    p.flags = bits(setup_flags(request.flags) & ~setup_flags::no_sqarray);
    ret = abi::io_uring_setup(s.entries, &p);
  }
  return ret;
}

std::string limit_text(int resource) {
  ::rlimit limit{};
  if (::getrlimit(resource, &limit) != 0) return "unknown";
  return limit.rlim_cur == RLIM_INFINITY ? std::string("unlimited")
                                         : std::to_string(limit.rlim_cur);
}

// Why io_uring_setup failed, in a sentence a user can act on.
std::unexpected<error> setup_failure(int ret, const abi::params& p, const setup& s) {
  const auto flags = setup_flags(p.flags);
  switch (-ret) {
    case EINVAL:
      return fail(ret, diagnose_refusal(flags, s));
    case EBADF:
    case ENXIO:
      if (has(flags, setup_flags::attach_wq))
        return fail(ret, "IORING_SETUP_ATTACH_WQ: fd " + std::to_string(s.attach_wq) +
                             " is not an open io_uring (closed, or never a ring)");
      break;
    case EMFILE:
      return fail(ret,
                  "io_uring_setup: the process has reached its open-file limit (RLIMIT_NOFILE " +
                      limit_text(RLIMIT_NOFILE) +
                      "): a ring needs a descriptor; close some or raise the limit");
    case ENFILE:
      return fail(ret, "io_uring_setup: the system-wide open-file limit is reached (fs.file-max)");
    case EPERM:
      return fail(ret,
                  "io_uring_setup not permitted (io_uring disabled by sysctl "
                  "kernel.io_uring_disabled, or SQPOLL/SQ_AFF without privilege)");
    case ENOMEM:
      return fail(ret,
                  "io_uring_setup: out of memory, or over the locked-memory limit "
                  "(RLIMIT_MEMLOCK " +
                      limit_text(RLIMIT_MEMLOCK) +
                      " bytes, which kernels before 5.12 charge rings to)");
    default:
      break;
  }
  return fail(ret, "io_uring_setup(" + std::to_string(s.entries) + ", IORING_SETUP_" +
                       describe(flags) + ")");
}

}  // namespace

std::uint64_t this_thread_number() noexcept {
  static std::atomic<std::uint64_t> next{1};
  thread_local const std::uint64_t number = next.fetch_add(1, std::memory_order_relaxed);
  return number;
}

result<ring_core> ring_core::create(const setup& s, const ring_shape& shape) {
  if (auto valid = validate(s, shape); !valid) return std::unexpected(std::move(valid.error()));

  abi::params p = build_params(s, shape);
  const int ret = setup_ring(s, p);
  if (ret < 0) return setup_failure(ret, p, s);
  const auto flags = setup_flags(p.flags);

  ring_core core;
  if (s.registered_fd_only)
    core.registered_index_ = ret;
  else
    core.fd_ = ret;
  core.owner_thread_ = this_thread_number();
  core.params_ = p;

  if (!s.memory.empty()) {
    core.areas_.sq_ring = core.areas_.cq_ring = s.memory.rings.data();
    core.areas_.sqes = s.memory.sqes.data();
  } else {
    auto mapped = core.map_areas(p, flags, shape.sqe_size, shape.cqe_size);
    if (!mapped) return std::unexpected(std::move(mapped.error()));
    core.areas_ = *mapped;
  }
  fill_sq_array(core.areas_.sq_ring, p, flags);

  if (shape.register_fd && !s.registered_fd_only) {
    abi::rsrc_update update{};
    update.offset = ~0u;  // any free slot
    update.data = static_cast<std::uint64_t>(core.fd_);
    const int r = abi::io_uring_register(
        core.fd_, static_cast<std::uint32_t>(register_opcode::register_ring_fds), &update, 1);
    if (r == -EBUSY)
      return fail(r, "IORING_REGISTER_RING_FDS: this thread's " +
                         std::to_string(registered_ring_slots) +
                         " registered-ring slots are all in use (each registered_ring_fd ring "
                         "holds one until it is destroyed); use a plain_ring_fd ring or another "
                         "thread");
    if (r == -EINVAL)
      return fail(r,
                  "IORING_REGISTER_RING_FDS: the registered_ring_fd policy needs kernel 5.18, "
                  "which brought registered ring fds; on this kernel use plain_ring_fd");
    if (r != 1) return fail(r < 0 ? r : -EINVAL, "IORING_REGISTER_RING_FDS for the ring fd");
    core.registered_index_ = static_cast<int>(update.offset);
  }
  return core;
}

result<ring_core::areas> ring_core::map_areas(const abi::params& p, setup_flags flags,
                                              std::uint32_t sqe_size,
                                              std::uint32_t cqe_size) const {
  // The kernel never answers a successful setup with an empty ring; a zero-length mmap would be
  // refused anyway, but naming the cause is kinder than EINVAL from mmap.
  if (p.sq_entries == 0 || p.cq_entries == 0 || sqe_size == 0 || cqe_size == 0)
    return fail(std::errc::protocol_error, "io_uring_setup reported an empty ring");
  const bool single = has(feature_flags(p.features), feature_flags::single_mmap);
  const bool sq_array = !has(flags, setup_flags::no_sqarray);
  std::size_t sq_size = p.sq_off.array + (sq_array ? p.sq_entries * sizeof(std::uint32_t) : 0);
  if (!sq_array) sq_size = p.sq_off.flags + sizeof(std::uint32_t);
  std::size_t cq_size = p.cq_off.cqes + std::size_t{p.cq_entries} * cqe_size;
  if (single) sq_size = cq_size = std::max(sq_size, cq_size);
  const auto map = [&](std::size_t size, std::uint64_t offset) -> std::byte* {
    void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
                     static_cast<off_t>(offset));
    return m == MAP_FAILED ? nullptr : static_cast<std::byte*>(m);
  };
  const auto failed = [](areas& a, const char* what) {
    const int err = errno;
    unmap(a);
    return fail(-err, std::string("mmap of the ") + what);
  };
  areas a;
  a.sq_ring = map(sq_size, abi::off_sq_ring);
  if (a.sq_ring == nullptr) return failed(a, "SQ ring");
  a.sq_ring_size = sq_size;
  if (single) {
    a.cq_ring = a.sq_ring;
  } else {
    a.cq_ring = map(cq_size, abi::off_cq_ring);
    if (a.cq_ring == nullptr) return failed(a, "CQ ring");
    a.cq_ring_size = cq_size;
  }
  a.sqes = map(std::size_t{p.sq_entries} * sqe_size, abi::off_sqes);
  if (a.sqes == nullptr) return failed(a, "SQE array");
  a.sqes_size = std::size_t{p.sq_entries} * sqe_size;
  return a;
}

void ring_core::fill_sq_array(std::byte* sq_ring, const abi::params& p,
                              setup_flags flags) noexcept {
  if (has(flags, setup_flags::no_sqarray)) return;
  auto* array = reinterpret_cast<std::uint32_t*>(sq_ring + p.sq_off.array);
  for (std::uint32_t i = 0; i < p.sq_entries; ++i) array[i] = i;
}

void ring_core::unmap(areas& a) noexcept {
  if (a.sqes_size != 0) ::munmap(a.sqes, a.sqes_size);
  if (a.cq_ring_size != 0) ::munmap(a.cq_ring, a.cq_ring_size);
  if (a.sq_ring_size != 0) ::munmap(a.sq_ring, a.sq_ring_size);
  a = {};
}

void ring_core::release() noexcept {
  // Registered ring fds belong to a thread, not to the ring: without an unregister the ring
  // would live on in that thread's table. Only the creating thread can reach its own table; the
  // same index in another thread's table is another ring, which must not be touched. Released
  // on another thread, the slot (and with it the ring) goes when the creating thread exits.
  // The call goes through the fd where there is one: reaching a ring by its registered index
  // (IORING_REGISTER_USE_REGISTERED_RING) came in 6.3, and before it the call would fail and
  // leave the slot taken. A ring without an fd (REGISTERED_FD_ONLY, 6.5) has only its index.
  if (registered_index_ >= 0 && owner_thread_ == this_thread_number()) {
    abi::rsrc_update update{};
    update.offset = static_cast<std::uint32_t>(registered_index_);
    (void)do_register(register_opcode::unregister_ring_fds, &update, 1);
  }
  registered_index_ = -1;
  unmap(areas_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void ring_core::swap(ring_core& o) noexcept {
  std::swap(fd_, o.fd_);
  std::swap(registered_index_, o.registered_index_);
  std::swap(owner_thread_, o.owner_thread_);
  std::swap(params_, o.params_);
  std::swap(areas_, o.areas_);
}

}  // namespace urine::detail
