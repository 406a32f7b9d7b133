// What the operation tests share: push an operation and remember its opcode by user data, reap a
// completion (copied out of the ring) and record the opcode as having completed successfully;
// the set of such opcodes is written at exit where URINE_OPS_COVERAGE_FILE says, so the coverage
// test can prove that the suite made every opcode succeed. Also raw registration helpers (the
// registration module is not a dependency of these tests) and loopback socket pairs.
module;
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <array>
#include <atomic>
#include <bitset>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>
export module urine.ops_test_harness;
import urine;
import urine.test_support;

namespace urine::test::ops_harness {

std::bitset<256>& succeeded_set() {
  static std::bitset<256> set;
  return set;
}
std::bitset<256>& unreachable_set() {
  static std::bitset<256> set;
  return set;
}
std::map<std::uint64_t, opcode>& pending() {
  static std::map<std::uint64_t, opcode> map;
  return map;
}

/// Writes the opcodes that succeeded when the test program ends.
class coverage_writer : public ::testing::Environment {
 public:
  void TearDown() override {
    const char* path = std::getenv("URINE_OPS_COVERAGE_FILE");
    if (path == nullptr) return;
    std::ofstream out(path);
    for (unsigned i = 0; i < 256; ++i) {
      if (succeeded_set()[i]) out << i << '\n';
      if (unreachable_set()[i]) out << "unreachable " << i << '\n';
    }
  }
};
[[maybe_unused]] ::testing::Environment* const registered_writer =
    ::testing::AddGlobalTestEnvironment(new coverage_writer);

}  // namespace urine::test::ops_harness

export namespace urine::test {

/// The ring configurations the typed tests run on: the default, big SQEs and CQEs, deferred task
/// run (completions appear only when waiting) and a kernel submission thread.
using ring_configs =
    ::testing::Types<ring<>, ring<sqe128, cqe32>, ring<defer_task_run<>>, ring<sqpoll>>;

/// The fixture of every typed suite (each suite names it through an alias of its own): skips,
/// with the reason, a configuration whose setup flags the kernel lacks.
template <class R>
class on_rings : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = lacks(R::config::flags); !why.empty()) GTEST_SKIP() << why;
  }
};

/// A ring of type R, or an exception (which fails the test with the kernel's reason).
template <class R = ring<>>
R open_ring(std::uint32_t entries = 64) {
  auto r = R::create(entries);
  if (!r) throw std::runtime_error("ring setup: " + r.error().message());
  return std::move(*r);
}

/// A completion copied out of the ring.
struct reaped {
  std::uint64_t user_data = 0;
  std::int32_t res = 0;
  std::uint32_t flags = 0;
  [[nodiscard]] std::error_code error() const noexcept { return result_code(res); }
  [[nodiscard]] bool more() const noexcept { return (flags & bits(cqe_flags::more)) != 0; }
  [[nodiscard]] bool has_buffer() const noexcept { return (flags & bits(cqe_flags::buffer)) != 0; }
  [[nodiscard]] std::uint16_t buffer_id() const noexcept {
    return static_cast<std::uint16_t>(flags >> cqe_buffer_shift);
  }
  [[nodiscard]] bool notification() const noexcept { return (flags & bits(cqe_flags::notif)) != 0; }
};

/// Success for coverage: a result >= 0, or for a timer the expiry it was asked for (-ETIME).
inline bool succeeded(opcode op, std::int32_t res) {
  if (res >= 0) return true;
  return (op == opcode::timeout || op == opcode::link_timeout) && res == -ETIME;
}

/// Record by hand an opcode whose success a test has checked another way.
inline void record_success(opcode op) {
  ops_harness::succeeded_set().set(static_cast<unsigned>(op));
}

/// Record that the running kernel has `op` but not the use every test here makes of it (URING_CMD
/// without socket commands), so that coverage does not require its success.
inline void record_unreachable(opcode op) {
  ops_harness::unreachable_set().set(static_cast<unsigned>(op));
}

/// The opcodes recorded so far in this process.
inline std::bitset<256> successes() { return ops_harness::succeeded_set(); }

/// Push `op` (failing the test when the SQ is full) and remember its opcode for reap().
template <class Ring, class Op>
void push(Ring& ring, const Op& op, user_data data, sqe_options options = {}) {
  ASSERT_TRUE(ring.push(op, data, options)) << "SQ full";
  ops_harness::pending()[data.value()] = Op::code;
}

/// How long reap() waits for a completion before it fails the test (the kernel matrix runs
/// under emulation, where a request can take seconds).
inline constexpr std::chrono::seconds reap_bound{20};

/// Wait up to `step` for a completion to be ready: a timed wait where the kernel has one
/// (EXT_ARG, 5.11), else a poll of the ring fd. False when the wait itself failed.
template <class Ring>
bool wait_a_while(Ring& ring, std::chrono::milliseconds step) {
  const auto waited = ring.wait_for(1, step);
  if (waited || waited.error() == std::errc::stream_timeout ||
      waited.error() == std::errc::interrupted)
    return true;
  if (waited.error() != std::errc::function_not_supported) {
    ADD_FAILURE() << "wait_for: " << waited.error().message();
    return false;
  }
  ::pollfd p{ring.fd(), POLLIN, 0};
  (void)::poll(&p, 1, static_cast<int>(step.count()));
  return true;
}

/// Wait (at most reap_bound) for one completion, copy it out, consume it; record its opcode if
/// it succeeded. A completion that never comes fails the test with result -ETIME.
template <class Ring>
reaped reap(Ring& ring) {
  const auto deadline = std::chrono::steady_clock::now() + reap_bound;
  auto c = ring.peek_cqe();
  while (!c) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "no completion within " << reap_bound.count() << " s";
      return {0, -ETIME, 0};
    }
    if (!wait_a_while(ring, std::chrono::milliseconds(100))) return {0, -EIO, 0};
    c = ring.peek_cqe();
  }
  reaped r{c.user_data().value(), c.result(), static_cast<std::uint32_t>(c.flags())};
  ring.cqe_seen(c);
  if (auto it = ops_harness::pending().find(r.user_data); it != ops_harness::pending().end()) {
    if (succeeded(it->second, r.res)) record_success(it->second);
  }
  return r;
}

/// Reap `n` completions, indexed by user data (the last one wins for a repeated user data).
template <class Ring>
std::map<std::uint64_t, reaped> reap_n(Ring& ring, unsigned n) {
  std::map<std::uint64_t, reaped> out;
  for (unsigned i = 0; i < n; ++i) {
    reaped r = reap(ring);
    out[r.user_data] = r;
  }
  return out;
}

/// Arm `first` (user data `armed`) and submit, then push and submit `then` (user data `by`),
/// and reap both: the shape of every remove, update and cancel.
template <class Ring, class First, class Then>
std::map<std::uint64_t, reaped> arm_then(Ring& ring, const First& first, user_data armed,
                                         const Then& then, user_data by) {
  push(ring, first, armed);
  if (!ring.submit()) ADD_FAILURE() << "submit";
  push(ring, then, by);
  if (!ring.submit()) ADD_FAILURE() << "submit";
  return reap_n(ring, 2);
}

/// Memory for PROVIDE_BUFFERS: `Count` buffers of `Size` bytes, and what a completion that was
/// given one of them received.
template <std::uint32_t Count, std::uint32_t Size>
class provided_pool {
 public:
  /// PROVIDE_BUFFERS handing the pool to `group` as buffer ids first_id ... first_id + Count - 1.
  ops::provide_buffers provide(std::uint16_t group, std::uint16_t first_id = 0) {
    first_id_ = first_id;
    return {bytes_, Size, Count, group, first_id};
  }
  /// The first `n` bytes of the buffer with id `id`.
  [[nodiscard]] std::string_view contents(std::uint16_t id, std::size_t n) const {
    return {bytes_.data() + static_cast<std::size_t>(id - first_id_) * Size, n};
  }

 private:
  std::array<char, std::size_t{Count} * Size> bytes_{};
  std::uint16_t first_id_ = 0;
};

/// Push one operation, submit, and return its completion.
template <class Ring, class Op>
reaped perform(Ring& ring, const Op& op, sqe_options options = {}) {
  constexpr std::uint64_t tag = 0x0b5e55ed;
  push(ring, op, tag, options);
  auto s = ring.submit();
  if (!s) ADD_FAILURE() << "submit: " << s.error().message();
  return reap(ring);
}

/// IORING_REGISTER_FILES with a raw register call.
template <class Ring>
int install_files(Ring& ring, std::span<const int> fds) {
  return ring.register_raw(register_opcode::register_files, fds.data(),
                           static_cast<std::uint32_t>(fds.size()));
}

/// A registered file table of `n` empty slots: -1 in each through IORING_REGISTER_FILES, which
/// every kernel takes (the SPARSE flag of 5.19 says the same without the array).
template <class Ring>
int install_sparse_files(Ring& ring, std::uint32_t n) {
  const std::vector<int> empty(n, -1);
  return install_files(ring, empty);
}

/// IORING_REGISTER_BUFFERS with a raw register call.
template <class Ring>
int install_buffers(Ring& ring, std::span<const ::iovec> iov) {
  return ring.register_raw(register_opcode::register_buffers, iov.data(),
                           static_cast<std::uint32_t>(iov.size()));
}

/// IORING_REGISTER_PBUF_RING with a raw register call: `entries` slots (a power of two) at
/// page-aligned `ring_memory`, group `group`, IOU_PBUF_RING_* `flags` (2: incremental).
template <class Ring>
int install_buf_ring(Ring& ring, void* ring_memory, std::uint32_t entries, std::uint16_t group,
                     std::uint16_t flags = 0) {
  abi::buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_memory);
  reg.ring_entries = entries;
  reg.bgid = group;
  reg.flags = flags;
  return ring.register_raw(register_opcode::register_pbuf_ring, &reg, 1);
}

/// Publish one buffer in slot `index` of a provided-buffer ring and move its tail to `tail`.
inline void buf_ring_add(void* ring_memory, std::uint16_t index, buffer b, std::uint16_t id,
                         std::uint16_t tail) {
  auto* bufs = static_cast<abi::buf*>(ring_memory);
  bufs[index].addr = b.address();
  bufs[index].len = static_cast<std::uint32_t>(b.size());
  bufs[index].bid = id;
  // The tail overlays the first entry's reserved field; the kernel reads it with acquire.
  std::atomic_ref<std::uint16_t>(static_cast<abi::buf_ring*>(ring_memory)->tail)
      .store(tail, std::memory_order_release);
}

/// A pipe as two owned descriptors {read end, write end}.
inline std::pair<unique_fd, unique_fd> make_pipe() {
  int fds[2] = {-1, -1};
  (void)::pipe2(fds, O_CLOEXEC);
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}

}  // namespace urine::test
