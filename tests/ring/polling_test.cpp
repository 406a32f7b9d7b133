// Polling modes on the real kernel. SQPOLL: while the kernel thread is awake, submission makes no
// system call at all — proved by forbidding io_uring_enter with a seccomp filter; once the thread
// sleeps, submit wakes it. IOPOLL: NOPs work, and a file that cannot be polled gets a clear error.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <thread>
import urine;
import urine.test_support;

namespace {

using namespace urine;
using namespace std::chrono_literals;

// Make io_uring_enter(2) fail with EHWPOISON for this process from now on (irreversible: only in
// a forked child).
bool forbid_io_uring_enter() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EHWPOISON & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// The child's side of the SQPOLL test; its exit status says which step failed.
int sqpoll_child() {
  auto r = ring<sqpoll>::create({.entries = 64, .sq_thread_idle_ms = 5000});
  if (!r) return 10;
  if (!r->push(ops::nop{}, 0) || !r->submit_and_wait(1)) return 11;  // thread started and busy
  r->cq_advance(r->cq_ready());
  if (!forbid_io_uring_enter()) return 12;
  // Positive control: entering the kernel now fails, so a submit that entered would fail too.
  if (r->enter(0, 0, 0) != -EHWPOISON) return 13;
  constexpr unsigned n = 100;
  std::set<std::uint64_t> seen;
  for (unsigned i = 1; i <= n; ++i) {
    if (r->needs_wakeup()) return 14;  // the thread went to sleep: the test proves nothing
    if (!r->push(ops::nop{}, i)) return 15;
    const auto s = r->submit();
    if (!s) return 16;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (r->cq_ready() == 0)
      if (std::chrono::steady_clock::now() > deadline) return 17;
    r->for_each_cqe([&](auto c) { seen.insert(c.user_data().value()); });
  }
  return seen.size() == n ? 0 : 18;
}

TEST(ring_sqpoll, submits_without_entering_the_kernel_while_the_thread_is_awake) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) std::_Exit(sqpoll_child());
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child failed at step " << WEXITSTATUS(status);
}

TEST(ring_sqpoll, sleeping_thread_is_woken_by_submit) {
  auto r = ring<sqpoll>::create({.entries = 8, .sq_thread_idle_ms = 10});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_TRUE(r->push(ops::nop{}, 1));
  ASSERT_TRUE(r->submit_and_wait(1).has_value());
  r->cq_advance(r->cq_ready());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!r->needs_wakeup() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(r->needs_wakeup()) << "the SQ thread never went idle";
  ASSERT_TRUE(r->push(ops::nop{}, 2));
  ASSERT_TRUE(r->submit().has_value());
  auto c = r->wait_cqe();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user_data().value(), 2u);
}

TEST(ring_sqpoll, wait_for_sq_space_returns_room) {
  auto r = ring<sqpoll>::create(8);
  ASSERT_TRUE(r.has_value());
  for (unsigned i = 0; i < 8; ++i) ASSERT_TRUE(r->push(ops::nop{}, i));
  ASSERT_TRUE(r->submit().has_value());
  const auto room = r->wait_for_sq_space();
  ASSERT_TRUE(room.has_value()) << room.error().message();
  EXPECT_GT(*room, 0u);
  ASSERT_TRUE(r->wait(8).has_value());
  EXPECT_EQ(r->cq_ready(), 8u);
}

TEST(ring_iopoll, nop_completes_and_an_unpollable_file_is_refused_clearly) {
  auto r = ring<iopoll>::create(8);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_TRUE(r->push(ops::nop{}, 1));
  ASSERT_TRUE(r->submit_and_wait(1).has_value());
  EXPECT_EQ(r->peek_cqe().user_data().value(), 1u);
  r->cq_advance(1);

  // Even O_DIRECT on this machine's disk cannot be polled (no polled queues): EOPNOTSUPP.
  urine::test::temp_dir dir;
  urine::test::write_file(dir / "f", urine::test::pattern(8192));
  const int fd = ::open((dir / "f").c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  urine::test::unique_fd file(fd);
  alignas(4096) static std::array<std::byte, 4096> block;
  ASSERT_TRUE(r->push(ops::read{fd, block, 0}, 2));
  ASSERT_TRUE(r->submit_and_wait(1).has_value());
  auto c = r->wait_cqe();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user_data().value(), 2u);
  if (c->ok()) GTEST_SKIP() << "this machine has a pollable block device: the read succeeded";
  EXPECT_EQ(c->error(), std::errc::operation_not_supported) << c->error().message();
}

}  // namespace
