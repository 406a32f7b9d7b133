// libFuzzer target: random bytes become a sequence of operations and ring actions, run against the
// real kernel on rings with tiny CQs (so the overflow path is hit), 16-byte, 32-byte and mixed
// completions, moves of the ring and resizes of it. Invariants, checked after every input: each
// request that must complete does so exactly once, no other completion appears, each result is
// what its operation can produce, and a moved-from ring refuses everything. A violation traps,
// which libFuzzer reports; a reaping loop that never ends is a libFuzzer timeout.
#include <fcntl.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <system_error>
#include <vector>
import urine;

namespace {

using namespace urine;

// Says which invariant broke (the line), then traps.
[[noreturn]] void violated(int line = __builtin_LINE()) {
  std::fprintf(stderr, "ring_fuzz: invariant at line %d broken\n", line);
  __builtin_trap();
}

enum class kind : std::uint8_t { nop, failing_nop, read, write, linked_nop, skipped_nop, big_nop };

struct expectation {
  kind what;
  std::uint32_t bytes;  // read/write length
  unsigned seen = 0;
};

// The file every read and write goes to, created once, 64 KiB of known bytes.
int data_file() {
  static const int fd = [] {
    char path[] = "/tmp/urine-fuzz-XXXXXX";
    const int f = ::mkstemp(path);
    ::unlink(path);
    std::vector<char> bytes(65536, 'u');
    if (f < 0 || ::pwrite(f, bytes.data(), bytes.size(), 0) != 65536) std::abort();
    return f;
  }();
  return fd;
}

bool plausible(const expectation& e, int result) {
  switch (e.what) {
    case kind::nop:
    case kind::big_nop:
    case kind::linked_nop:
      return result == 0;
    case kind::failing_nop:
      return result == -EIO;
    case kind::read:
    case kind::write:
      return result == static_cast<int>(e.bytes);
    case kind::skipped_nop:
      return false;  // a skipped success must post nothing
  }
  return false;
}

// The byte's action, and a parameter from the rest of it.
enum class action : std::uint8_t {
  nop,
  failing_nop,
  read,
  write,
  linked_pair,
  skipped_nop,
  submit,
  reap,
  big_nop,
  move_round_trip,
  resize,
  count
};

template <class Ring>
void check_moved_from(Ring& r) {
  if (static_cast<bool>(r) || r.push(ops::nop{}, 0) || r.peek_cqe() || r.cq_ready() != 0)
    violated();
  const auto s = r.submit();
  if (s || s.error().value() != EBADF) violated();
}

bool kernel_resizes() {
  static const bool yes = query_kernel_support().known &&
                          query_kernel_support().register_opcodes >
                              static_cast<unsigned>(register_opcode::register_resize_rings);
  return yes;
}

template <class Ring>
void run(std::span<const std::uint8_t> input, std::uint32_t cq_entries) {
  auto created = Ring::create(setup{.entries = 4, .cq_entries = cq_entries});
  if (!created) {
    if (created.error().code().value() == EINVAL) return;  // a layout this kernel lacks
    std::abort();
  }
  Ring ring = std::move(*created);
  static char buffers[64][256];
  std::vector<expectation> expected;
  // CQ slots that requests pushed and not yet reaped may take. A cqe_mixed ring is kept from
  // overflowing, as docs/reliability.md asks (6.18 can lose a completion of an overflowing one);
  // its tiny CQ still wraps, pads and resizes under the walk.
  constexpr bool mixed = Ring::config::cqe_layout::mixed;
  unsigned outstanding = 0;
  const auto slots = [](kind what) {
    return what == kind::skipped_nop ? 0u : what == kind::big_nop ? 2u : 1u;
  };
  const auto check = [&](auto c) {
    const std::uint64_t id = c.user_data().value();
    if (id >= expected.size() || !plausible(expected[id], c.result()) || ++expected[id].seen != 1) {
      std::fprintf(stderr, "ring_fuzz: completion %llu of %zu: result %d, flags 0x%x\n",
                   static_cast<unsigned long long>(id), expected.size(), c.result(),
                   bits(c.flags()));
      violated();
    }
    if constexpr (mixed) {
      if (c.big() != (expected[id].what == kind::big_nop)) violated();
    }
    outstanding -= slots(expected[id].what);
  };
  const auto reap_one = [&] {
    if (!ring.submit()) violated();
    auto c = ring.wait_cqe();
    // libFuzzer's SIGALRM (its -timeout check) interrupts waits: EINTR loses nothing, wait again.
    while (!c && c.error() == std::errc::interrupted) c = ring.wait_cqe();
    if (!c) {
      std::fprintf(stderr, "ring_fuzz: wait_cqe: %s\n", c.error().message().c_str());
      violated();
    }
    check(*c);
    ring.cqe_seen(*c);
  };
  const auto push = [&](const auto& op, kind what, std::uint32_t bytes = 0,
                        sqe_options options = {}) {
    if constexpr (mixed) {
      // One slot more than the request needs: padding where a big entry meets the ring's end.
      while (outstanding + slots(what) + 1 > ring.cq_entries()) reap_one();
    }
    const std::uint64_t id = expected.size();
    if (!ring.push(op, id, options)) return false;
    expected.push_back({what, bytes});
    outstanding += slots(what);
    return true;
  };

  for (std::size_t i = 0; i < input.size(); ++i) {
    const auto what = static_cast<action>(input[i] % static_cast<unsigned>(action::count));
    const unsigned param = input[i] / static_cast<unsigned>(action::count);
    const std::uint32_t len = 1 + param * 11;
    char* buf = buffers[expected.size() % 64];
    switch (what) {
      case action::nop:
        (void)push(ops::nop{}, kind::nop);
        break;
      case action::failing_nop:
        (void)push(ops::nop{.inject = true, .inject_result = -EIO}, kind::failing_nop);
        break;
      case action::read:
        (void)push(ops::read{data_file(), buffer(buf, len), (param * 977u) % 65000}, kind::read,
                   len);
        break;
      case action::write:
        (void)push(ops::write{data_file(), const_buffer(buf, len), (param * 887u) % 65000},
                   kind::write, len);
        break;
      case action::linked_pair:
        if (ring.sq_space_left() >= 2 && (!mixed || outstanding + 3 <= ring.cq_entries())) {
          (void)push(ops::nop{}, kind::linked_nop, 0, {.flags = sqe_flags::io_link});
          (void)push(ops::nop{}, kind::linked_nop);
        }
        break;
      case action::skipped_nop:
        (void)push(ops::nop{}, kind::skipped_nop, 0, {.flags = sqe_flags::cqe_skip_success});
        break;
      case action::submit:
        if (!ring.submit()) violated();
        break;
      case action::reap:
        if (param % 3 == 0) {
          ring.for_each_cqe(check);
        } else if (param % 3 == 1) {
          if (auto c = ring.peek_cqe()) {
            check(c);
            ring.cqe_seen(c);
          }
        } else {
          std::array<typename Ring::copied_cqe_type, 3> out{};
          const unsigned n = ring.copy_cqes(out);
          for (unsigned k = 0; k < n; ++k)
            check(completion<typename Ring::config::cqe_layout>(
                reinterpret_cast<const typename Ring::cqe_type*>(&out[k])));
        }
        break;
      case action::big_nop:
        if constexpr (Ring::has_big_cqes) (void)push(ops::nop32{}, kind::big_nop);
        break;
      case action::move_round_trip: {
        Ring elsewhere = std::move(ring);
        check_moved_from(ring);
        ring = std::move(elsewhere);
        check_moved_from(elsewhere);
        break;
      }
      case action::resize:
        if constexpr (Ring::is_deferred) {
          if (!kernel_resizes()) break;
          const std::uint32_t sq = 2u << (param % 3);          // 2, 4, 8
          const std::uint32_t cq = sq << (1 + param / 3 % 2);  // 2 or 4 times that
          if (mixed && cq < outstanding + 3) break;            // would overflow the smaller CQ
          const auto r = resize_rings(ring, sq, cq);
          if (!r && r.error().code().value() != EOVERFLOW) violated();
        }
        break;
      case action::count:
        break;
    }
  }

  // Drain: everything that must complete does, exactly once.
  std::size_t must = 0;
  for (const auto& e : expected) must += e.what != kind::skipped_nop;
  std::size_t reaped = 0;
  for (const auto& e : expected) reaped += e.seen;
  while (ring.sq_ready() > 0)
    if (!ring.submit()) violated();
  while (reaped < must) {
    reap_one();
    ++reaped;
  }
  for (const auto& e : expected)
    if (e.seen != (e.what == kind::skipped_nop ? 0u : 1u)) violated();
  if (ring.peek_cqe()) violated();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> input(data + 1, size - 1);
  // The first byte picks the ring configuration and the CQ size (4, 8 or 16 entries).
  const std::uint32_t cq = 4u << (data[0] / 8 % 3);
  switch (data[0] % 8) {
    case 0:
      run<ring<>>(input, cq);
      break;
    case 1:
      run<ring<cqe32, registered_ring_fd>>(input, cq);
      break;
    case 2:
      run<ring<defer_task_run<>>>(input, cq);
      break;
    case 3:
      run<ring<sqpoll>>(input, cq);
      break;
    case 4:
      run<ring<cqe_mixed>>(input, cq);
      break;
    case 5:
      run<ring<cqe_mixed, defer_task_run<>>>(input, cq);
      break;
    case 6:
      run<ring<cqe32, defer_task_run<>>>(input, cq);
      break;
    default:
      run<ring<cqe_mixed, coop_task_run<true>>>(input, cq);
      break;  // 7
  }
  return 0;
}
