// Faults a real program meets: a signal during a wait, a ring destroyed with requests in flight,
// fork, exec, and completions piling up faster than they are reaped. The rules these tests hold
// urine to are written in docs/reliability.md.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;
using namespace std::chrono_literals;
using urine::test::unique_fd;

void on_alarm(int) {}

// Rule: a signal that interrupts a wait surfaces as EINTR; nothing is lost, the caller waits again.
TEST(reliability_faults, signal_interrupting_a_wait_surfaces_eintr_and_loses_nothing) {
  auto r = ring<>::create(8);
  ASSERT_TRUE(r.has_value());
  std::array<int, 2> p{};
  ASSERT_EQ(::pipe2(p.data(), O_CLOEXEC), 0);
  unique_fd rd(p[0]), wr(p[1]);
  char byte = 0;
  ASSERT_TRUE(r->push(ops::read{rd.get(), buffer(&byte, 1)}, 1));
  ASSERT_TRUE(r->submit().has_value());

  struct sigaction sa{};
  sa.sa_handler = on_alarm;  // no SA_RESTART: the wait must see the interruption
  struct sigaction old{};
  ASSERT_EQ(::sigaction(SIGALRM, &sa, &old), 0);
  itimerval timer{};
  timer.it_value.tv_usec = 20'000;
  ASSERT_EQ(::setitimer(ITIMER_REAL, &timer, nullptr), 0);
  const auto interrupted = r->wait_cqe();
  ::sigaction(SIGALRM, &old, nullptr);
  ASSERT_FALSE(interrupted.has_value());
  EXPECT_EQ(interrupted.error(), std::errc::interrupted) << interrupted.error().message();

  // The read is still pending; it completes once data arrives, and the wait succeeds.
  ASSERT_EQ(::write(wr.get(), "x", 1), 1);
  const auto c = r->wait_cqe();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user_data().value(), 1u);
  EXPECT_EQ(c->result(), 1);
  EXPECT_EQ(byte, 'x');
}

// Destroying a ring cancels what is in flight; the process keeps no descriptor or mapping of it,
// and the files the requests used stay usable.
TEST(reliability_faults, ring_destroyed_with_requests_in_flight) {
  std::array<int, 2> p{};
  ASSERT_EQ(::pipe2(p.data(), O_CLOEXEC), 0);
  unique_fd rd(p[0]), wr(p[1]);
  const std::size_t fds = urine::test::fd_count();
  const std::size_t maps = urine::test::mapping_count();
  static char sink[16][64];
  for (int round = 0; round < 20; ++round) {
    auto r = ring<>::create(16);
    ASSERT_TRUE(r.has_value());
    for (unsigned i = 0; i < 16; ++i)
      ASSERT_TRUE(r->push(ops::read{rd.get(), buffer(sink[i], 64)}, i));
    ASSERT_TRUE(r->submit().has_value());
    EXPECT_EQ(r->cq_ready(), 0u);  // all blocked on the empty pipe
  }
  // The kernel tears rings down asynchronously; give it a moment to drop its file references.
  for (int i = 0; i < 100 && urine::test::fd_count() != fds; ++i) ::usleep(10'000);
  EXPECT_EQ(urine::test::fd_count(), fds);
  EXPECT_EQ(urine::test::mapping_count(), maps);
  ASSERT_EQ(::write(wr.get(), "still here", 10), 10);
  char back[16] = {};
  EXPECT_EQ(::read(rd.get(), back, sizeof back), 10);
  EXPECT_STREQ(back, "still here");
}

// Rule: after fork, the child must not use the parent's rings (their memory is shared with the
// parent's); it creates its own. The parent's ring is unaffected by the child's life and exit.
TEST(reliability_faults, fork_child_with_its_own_ring_leaves_the_parents_intact) {
  auto r = ring<>::create(32);
  ASSERT_TRUE(r.has_value());
  for (unsigned i = 0; i < 8; ++i) ASSERT_TRUE(r->push(ops::nop{}, i));
  ASSERT_TRUE(r->submit().has_value());  // in flight across the fork

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto mine = ring<>::create(8);
    if (!mine || !mine->push(ops::nop{}, 42) || !mine->submit_and_wait(1)) std::_Exit(1);
    std::_Exit(mine->peek_cqe().user_data() == 42 ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  for (unsigned i = 8; i < 100; ++i) {
    while (!r->push(ops::nop{}, i)) ASSERT_TRUE(r->submit().has_value());
  }
  ASSERT_TRUE(r->submit().has_value());
  std::set<std::uint64_t> seen;
  while (seen.size() < 100) {
    auto c = r->wait_cqe();
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(seen.insert(c->user_data().value()).second) << "twice: " << c->user_data().value();
    r->cqe_seen(*c);
  }
}

// Ring descriptors are close-on-exec: a program started by exec sees none of them.
TEST(reliability_faults, exec_does_not_inherit_ring_fds) {
  if (const auto why = urine::test::lacks_registered_ring_fds(); !why.empty()) GTEST_SKIP() << why;
  auto plain = ring<>::create(4);
  auto registered = ring<registered_ring_fd, sqpoll>::create(4);
  ASSERT_TRUE(plain.has_value());
  ASSERT_TRUE(registered.has_value());
  // The listing below would show a ring fd by this name, had one survived the exec.
  const auto link = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(plain->fd()));
  ASSERT_NE(link.string().find("io_uring"), std::string::npos) << link;
  std::array<int, 2> p{};
  ASSERT_EQ(::pipe2(p.data(), O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(p[1], STDOUT_FILENO);  // dup2 clears close-on-exec on the new descriptor
    ::execl("/bin/sh", "sh", "-c", "for f in /proc/self/fd/*; do readlink \"$f\" || :; done",
            nullptr);
    std::_Exit(127);
  }
  ::close(p[1]);
  std::string listing;
  char chunk[4096];
  for (ssize_t n; (n = ::read(p[0], chunk, sizeof chunk)) > 0;)
    listing.append(chunk, static_cast<std::size_t>(n));
  ::close(p[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << listing;
  EXPECT_FALSE(listing.empty());
  EXPECT_EQ(listing.find("io_uring"), std::string::npos) << listing;
}

// Completions far beyond the CQ's size while submission goes on: every submit either succeeds or
// reports back-pressure (EBUSY/EAGAIN) without losing anything; reaping then yields each once.
TEST(reliability_faults, submission_under_cq_overflow_back_pressure) {
  auto r = ring<>::create(setup{.entries = 32, .cq_entries = 32});
  ASSERT_TRUE(r.has_value());
  constexpr unsigned total = 32 * 64;
  std::vector<unsigned> count(total, 0);
  unsigned reaped = 0;
  const auto reap = [&](auto c) {
    ++count[c.user_data().value()];
    ++reaped;
  };
  // Submit; under back-pressure, make room as a caller must, then go on.
  const auto submit = [&] {
    const auto s = r->submit();
    if (s) return true;
    EXPECT_TRUE(s.error() == std::errc::device_or_resource_busy ||
                s.error() == std::errc::resource_unavailable_try_again)
        << s.error().message();
    r->for_each_cqe(reap);
    return false;
  };
  unsigned pushed = 0;
  while (pushed < total) {
    while (pushed < total && r->push(ops::nop{}, pushed)) ++pushed;
    (void)submit();
  }
  while (r->sq_ready() > 0) (void)submit();
  while (reaped < total) {
    auto c = r->wait_cqe();
    ASSERT_TRUE(c.has_value()) << c.error().message();
    reap(*c);
    r->cqe_seen(*c);
  }
  for (unsigned i = 0; i < total; ++i) EXPECT_EQ(count[i], 1u) << i;
}

}  // namespace
