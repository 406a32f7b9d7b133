// Refusals under RLIMIT_MEMLOCK say so with the numbers: a child without CAP_IPC_LOCK (as an
// ordinary user) creates a ring, lowers its limit, and registers a buffer table and a buffer ring
// in the kernel's memory that exceed it; each refusal must name the limit's value and the rule.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;

constexpr rlim_t memlock_limit = 65536;
constexpr ::uid_t ordinary_user = 65534;

// What the child met, in order: the error code's value (0: accepted) and urine's sentence.
struct refusal {
  int code = 0;
  std::string message;
};

void send(int out, const std::string& text) {
  const std::string record = text + '\0';
  (void)!::write(out, record.data(), record.size());
}

template <class T>
void send(int out, const result<T>& r) {
  send(out, r ? std::string("0") : std::to_string(r.error().code().value()));
  send(out, r ? std::string() : r.error().message());
}

// The child. Root becomes an ordinary user, which drops every capability, CAP_IPC_LOCK with
// them; the ring is created first, under the usual limit, so that only the registrations meet
// the lowered one.
[[noreturn]] void child(int out) {
  if (::geteuid() == 0 && ::setuid(ordinary_user) != 0) std::_Exit(2);
  auto ring = urine::ring<>::create(8);
  if (!ring) {
    send(out, ring.error().message());
    std::_Exit(3);
  }
  const ::rlimit limit{memlock_limit, memlock_limit};
  if (::setrlimit(RLIMIT_MEMLOCK, &limit) != 0) std::_Exit(4);

  const std::size_t size = 16 * memlock_limit;
  void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) std::_Exit(5);
  const ::iovec iov{memory, size};
  send(out, register_buffers(*ring, std::span(&iov, 1)));
  // 32768 descriptors of 16 bytes: 512 KiB of the kernel's memory for the ring alone.
  send(out, register_buffer_ring(*ring, {.group = 1,
                                         .entries = buffer_ring::max_entries,
                                         .buffer_size = 1,
                                         .memory = buffer_ring_memory::kernel}));
  std::_Exit(0);
}

TEST(memlock, refusals_name_the_limit_and_the_cap_ipc_lock_rule) {
  const auto end = urine::test::run_in_child([](int out) -> int { child(out); }, 10);
  const std::string& text = end.output;
  ASSERT_TRUE(end.exited) << "the child was killed (hung?), signal " << end.signal << ": " << text;
  if (end.code == 3) GTEST_SKIP() << "an ordinary user may not create a ring here: " << text;
  ASSERT_EQ(end.code, 0) << "the child stopped at step " << end.code;

  std::vector<std::string> fields;
  for (std::size_t at = 0, end; (end = text.find('\0', at)) != std::string::npos; at = end + 1)
    fields.push_back(text.substr(at, end - at));
  ASSERT_EQ(fields.size(), 4u) << text;
  const refusal refusals[] = {{std::atoi(fields[0].c_str()), fields[1]},
                              {std::atoi(fields[2].c_str()), fields[3]}};
  const char* const asked[] = {"IORING_REGISTER_BUFFERS", "IORING_REGISTER_PBUF_RING"};
  // Kernels before 6.13 pin a buffer ring's pages without charging them to RLIMIT_MEMLOCK.
  const bool ring_charged = urine::test::predates({6, 13}, "charging buffer rings").empty();
  for (std::size_t i = 0; i < (ring_charged ? 2u : 1u); ++i) {
    const auto& [code, message] = refusals[i];
    EXPECT_EQ(code, ENOMEM) << message;
    EXPECT_NE(message.find(asked[i]), std::string::npos) << message;
    EXPECT_NE(message.find("RLIMIT_MEMLOCK (" + std::to_string(memlock_limit) + " bytes"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("does not apply when the ring's creator held CAP_IPC_LOCK"),
              std::string::npos)
        << message;
  }
}

}  // namespace
