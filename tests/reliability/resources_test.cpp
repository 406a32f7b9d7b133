// Limits and resources: registered memory is charged against RLIMIT_MEMLOCK unless the ring's
// creator held CAP_IPC_LOCK, and the refusal reads as such; ten thousand rings with every kind of
// registration come and go without leaving a descriptor or a mapping behind. The rules are in
// docs/reliability.md.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <span>
#include <string>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;
using urine::test::unique_fd;

constexpr std::size_t memlock_limit = std::size_t{1} << 20;  // what the child may pin
constexpr std::size_t over_limit = 4 * memlock_limit;
constexpr std::size_t under_limit = std::size_t{64} * 1024;

// Anonymous memory that stays in small pages: the kernel charges a transparent huge page
// whole (2 MiB) for any part of it that is registered, which alone would exceed the limit.
struct small_page_memory {
  explicit small_page_memory(std::size_t n)
      : size(n),
        data(::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
    if (data != MAP_FAILED) ::madvise(data, n, MADV_NOHUGEPAGE);
  }
  ~small_page_memory() {
    if (data != MAP_FAILED) ::munmap(data, size);
  }
  small_page_memory(const small_page_memory&) = delete;
  small_page_memory& operator=(const small_page_memory&) = delete;
  [[nodiscard]] ::iovec iov() const { return {data, size}; }
  std::size_t size;
  void* data;
};

// Whether this process holds CAP_IPC_LOCK, and giving it up (in all three sets, for good).
bool holds_ipc_lock() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  return ::syscall(SYS_capget, &header, data.data()) == 0 &&
         (data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32))) != 0;
}

bool drop_ipc_lock() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return false;
  const auto bit = ~(1u << (CAP_IPC_LOCK % 32));
  auto& word = data[CAP_IPC_LOCK / 32];
  word.effective &= bit;
  word.permitted &= bit;
  word.inheritable &= bit;
  return ::syscall(SYS_capset, &header, data.data()) == 0 && !holds_ipc_lock();
}

// One step the child takes: its name, then the errno it met (0: success) and urine's sentence.
struct outcome {
  int error = 0;
  std::string message;
};

void report(int out, const char* step, int error, const std::string& message) {
  const std::string line = std::string(step) + '\t' + std::to_string(error) + '\t' + message + '\n';
  (void)!::write(out, line.data(), line.size());
}

template <class T>
void report(int out, const char* step, const result<T>& r) {
  report(out, step, r ? 0 : r.error().code().value(), r ? std::string() : r.error().message());
}

// The child: lower the limit, create one ring while still holding CAP_IPC_LOCK and one after
// dropping it, then register memory over and under the limit on each. Everything it meets goes
// to `out`, one line per step; the parent judges.
[[noreturn]] void memlock_child(int out) {
  const rlimit limit{memlock_limit, memlock_limit};
  if (::setrlimit(RLIMIT_MEMLOCK, &limit) != 0) report(out, "setrlimit", errno, "setrlimit");
  const bool was_privileged = holds_ipc_lock();
  auto privileged = ring<>::create(8);
  report(out, "privileged ring", privileged);
  if (!drop_ipc_lock()) report(out, "drop CAP_IPC_LOCK", EPERM, "capset");
  auto limited = ring<>::create(8);
  report(out, "limited ring", limited);
  if (!privileged || !limited) std::_Exit(1);

  const small_page_memory big(over_limit), small(under_limit);
  if (big.data == MAP_FAILED || small.data == MAP_FAILED) report(out, "mmap", errno, "mmap");
  const ::iovec big_iov = big.iov(), small_iov = small.iov();
  report(out, "limited: over the limit", register_buffers(*limited, std::span(&big_iov, 1)));
  {
    auto under = register_buffers(*limited, std::span(&small_iov, 1));
    report(out, "limited: under the limit", under);
  }
  // The ring's own memory is charged the same way: 16384 SQEs of 64 bytes take 1 MiB alone,
  // and the CQ adds twice as many entries of 16 bytes.
  report(out, "limited: ring over the limit", ring<>::create(setup{.entries = 16384}));
  if (was_privileged)
    report(out, "privileged: over the limit",
           register_buffers(*privileged, std::span(&big_iov, 1)));
  std::_Exit(0);
}

// Rule: memory a ring pins (registered buffers, and the ring itself) is charged to the user who
// created the ring and checked against RLIMIT_MEMLOCK, unless the creator held CAP_IPC_LOCK at
// creation. Over the limit the registration fails with ENOMEM and a sentence naming the limit.
TEST(reliability_resources, registered_memory_is_held_to_rlimit_memlock) {
  const bool privileged = holds_ipc_lock();
  const auto end = urine::test::run_in_child([](int out) -> int { memlock_child(out); }, 60);
  const std::string& text = end.output;
  ASSERT_TRUE(end.succeeded()) << "exit " << end.code << ", signal " << end.signal << ": " << text;

  std::map<std::string, outcome> seen;
  for (std::size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
    const std::string line = text.substr(at, end - at);
    const auto t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    seen[line.substr(0, t1)] = {std::atoi(line.c_str() + t1 + 1), line.substr(t2 + 1)};
  }
  struct expectation {
    const char* step;
    int error;
    const char* says;  // a phrase the refusal must contain
  };
  static constexpr expectation expected[] = {
      {"privileged ring", 0, ""},
      {"limited ring", 0, ""},
      {"limited: over the limit", ENOMEM, "RLIMIT_MEMLOCK"},
      {"limited: under the limit", 0, ""},
      {"limited: ring over the limit", ENOMEM, "RLIMIT_MEMLOCK"},
      {"privileged: over the limit", 0, ""},
  };
  // Kernels before 6.13 do not charge the ring's own memory to RLIMIT_MEMLOCK.
  const std::string ring_uncharged = urine::test::predates({6, 13}, "charging a ring's own memory");
  if (!ring_uncharged.empty()) std::cout << ring_uncharged << ": that step is not checked\n";
  for (const auto& e : expected) {
    if (!privileged && std::string_view(e.step).starts_with("privileged:")) continue;  // not run
    const auto it = seen.find(e.step);
    ASSERT_NE(it, seen.end()) << "the child did not reach: " << e.step << "\n" << text;
    if (!ring_uncharged.empty() && std::string_view(e.step) == "limited: ring over the limit") {
      seen.erase(it);
      continue;
    }
    EXPECT_EQ(it->second.error, e.error) << e.step << ": " << it->second.message;
    EXPECT_NE(it->second.message.find(e.says), std::string::npos)
        << e.step << ": " << it->second.message;
    seen.erase(it);
  }
  EXPECT_TRUE(seen.empty()) << "unexpected steps:\n" << text;
}

// Rule: a ring and everything registered on it — a file table, a buffer table, a provided-buffer
// ring in the application's memory or the kernel's — go with the ring: 10^4 rings made and
// destroyed leave the process exactly the descriptors and io_uring mappings it had. Every
// thousandth ring reads through all three registrations, so they are known to be live.
TEST(reliability_resources, ten_thousand_rings_with_registrations_leave_nothing_behind) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_ring); !why.empty())
    GTEST_SKIP() << why;
  // Kernel-allocated buffer rings came in 6.4: before that, every ring is in the application's
  // memory.
  const std::string kernel_rings = urine::test::predates({6, 4}, "a kernel-allocated buffer ring");
  constexpr unsigned cycles = 10'000;
  constexpr std::uint32_t piece = 64;
  urine::test::temp_dir dir;
  const std::string content = urine::test::pattern(cycles / 1000 * piece + piece, 3);
  urine::test::write_file(dir / "data", content);
  const unique_fd file = urine::test::open_file(dir / "data", O_RDONLY);
  const int fds_table[] = {file.get()};
  // On the heap: a binary's static data may be mapped from its file, and kernels before 6.2
  // refuse to register file-backed memory (EOPNOTSUPP).
  std::vector<char> heap(2 * piece);
  char* const fixed_memory[] = {heap.data(), heap.data() + piece};
  const ::iovec iov[] = {{fixed_memory[0], piece}, {fixed_memory[1], piece}};

  const std::size_t fds = urine::test::fd_count();
  const std::size_t maps = urine::test::mapping_count();
  for (unsigned cycle = 0; cycle < cycles; ++cycle) {
    auto r = ring<>::create(8);
    ASSERT_TRUE(r) << "cycle " << cycle << ": " << r.error().message();
    auto files = register_files(*r, fds_table);
    ASSERT_TRUE(files) << "cycle " << cycle << ": " << files.error().message();
    auto buffers = register_buffers(*r, iov);
    ASSERT_TRUE(buffers) << "cycle " << cycle << ": " << buffers.error().message();
    const auto memory = cycle % 2 == 0 || !kernel_rings.empty() ? buffer_ring_memory::application
                                                                : buffer_ring_memory::kernel;
    auto provided = register_buffer_ring(
        *r, {.group = 7, .entries = 4, .buffer_size = piece, .memory = memory});
    ASSERT_TRUE(provided) << "cycle " << cycle << ": " << provided.error().message();
    // Progress, for a watchdog counting silence (under emulation a cycle may take milliseconds).
    if (cycle % 250 == 0) std::cout << "cycle " << cycle << std::endl;
    if (cycle % 1000 != 0) continue;

    // The live check: a fixed-file read into registered buffer 1, and one into a provided buffer.
    const std::uint64_t at = std::uint64_t{cycle / 1000} * piece;
    std::memset(fixed_memory[1], 0, piece);
    ASSERT_TRUE(r->push(ops::read_fixed{.file = (*files)[0],
                                        .into = buffer(fixed_memory[1], piece),
                                        .buf_index = (*buffers)[1],
                                        .offset = at},
                        1));
    ASSERT_TRUE(
        r->push(ops::read{.file = (*files)[0], .into = buffer_group{7}, .offset = at + 1}, 2));
    ASSERT_TRUE(r->submit());
    const auto waited = r->wait_for(2, std::chrono::seconds(10));
    ASSERT_TRUE(waited) << "cycle " << cycle << ": " << waited.error().message();
    unsigned reaped = 0;
    r->for_each_cqe([&](auto c) {
      ++reaped;
      ASSERT_EQ(c.result(), static_cast<int>(piece))
          << "cycle " << cycle << ", request " << c.user_data().value();
      if (c.user_data() == 1) {
        EXPECT_EQ(std::string_view(fixed_memory[1], piece),
                  std::string_view(content).substr(at, piece));
        return;
      }
      auto lease = provided->take(c);
      ASSERT_TRUE(lease) << lease.error().message();
      EXPECT_EQ(lease->text(), std::string_view(content).substr(at + 1, piece));
    });
    EXPECT_EQ(reaped, 2u);
    // While the ring lives it is visible: one more descriptor, and its mappings.
    EXPECT_EQ(urine::test::fd_count(), fds + 1);
    EXPECT_GT(urine::test::mapping_count(), maps);
  }
  EXPECT_EQ(urine::test::fd_count(), fds);
  EXPECT_EQ(urine::test::mapping_count(), maps);
}

}  // namespace
