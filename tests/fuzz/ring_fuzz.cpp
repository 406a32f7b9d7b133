// libFuzzer target: random bytes become a sequence of operations and ring actions, run against the
// real kernel on a ring with a tiny CQ (so the overflow path is hit). Invariants, checked after
// every input: each request that must complete does so exactly once, no other completion appears,
// and each result is what its operation can produce. A violation traps, which libFuzzer reports.
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <span>
#include <unistd.h>
#include <vector>
import urine;

namespace {

using namespace urine;

[[noreturn]] void violated() { __builtin_trap(); }

enum class kind : std::uint8_t { nop, failing_nop, read, write, linked_nop, skipped_nop };

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
    case kind::linked_nop: return result == 0;
    case kind::failing_nop: return result == -EIO;
    case kind::read:
    case kind::write: return result == static_cast<int>(e.bytes);
    case kind::skipped_nop: return false;  // a skipped success must post nothing
  }
  return false;
}

template <class Ring>
void run(std::span<const std::uint8_t> input) {
  auto created = Ring::create(setup{.entries = 4, .cq_entries = 4});
  if (!created) std::abort();
  Ring& ring = *created;
  static char buffers[64][256];
  std::vector<expectation> expected;
  const auto check = [&](auto c) {
    const std::uint64_t id = c.user_data().value();
    if (id >= expected.size() || !plausible(expected[id], c.result()) || ++expected[id].seen != 1) violated();
  };
  const auto push = [&](const auto& op, kind what, std::uint32_t bytes = 0, sqe_options options = {}) {
    const std::uint64_t id = expected.size();
    if (!ring.push(op, id, options)) return false;
    expected.push_back({what, bytes});
    return true;
  };

  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::uint8_t b = input[i];
    const std::uint32_t len = 1 + (b >> 3) % 200;
    char* buf = buffers[expected.size() % 64];
    switch (b & 7) {
      case 0: (void)push(ops::nop{}, kind::nop); break;
      case 1: (void)push(ops::nop{.inject = true, .inject_result = -EIO}, kind::failing_nop); break;
      case 2: (void)push(ops::read{data_file(), buffer(buf, len), (b * 97u) % 65000}, kind::read, len); break;
      case 3: (void)push(ops::write{data_file(), const_buffer(buf, len), (b * 89u) % 65000}, kind::write, len); break;
      case 4:
        if (ring.sq_space_left() >= 2) {
          (void)push(ops::nop{}, kind::linked_nop, 0, {.flags = sqe_flags::io_link});
          (void)push(ops::nop{}, kind::linked_nop);
        }
        break;
      case 5: (void)push(ops::nop{}, kind::skipped_nop, 0, {.flags = sqe_flags::cqe_skip_success}); break;
      case 6:
        if (!ring.submit()) violated();
        break;
      default:  // 7, the last value of b & 7
        if ((b >> 3) & 1) {
          ring.for_each_cqe(check);
        } else if (auto c = ring.peek_cqe()) {
          check(c);
          ring.cqe_seen(c);
        }
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
    auto c = ring.wait_cqe();
    if (!c) violated();
    check(*c);
    ring.cqe_seen(*c);
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
  // The first byte picks the ring configuration.
  switch (data[0] % 4) {
    case 0: run<ring<>>(input); break;
    case 1: run<ring<cqe32, registered_ring_fd>>(input); break;
    case 2: run<ring<defer_task_run<>>>(input); break;
    default: run<ring<sqpoll<>>>(input); break;  // 3
  }
  return 0;
}
