// Readiness and time: poll one-shot and multishot, removal and in-place update, epoll through the
// ring; timeouts on every clock, by count, multishot, removed and updated; link timeouts.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <ctime>
import urine;
import urine.test_support;
import urine.ops_test_harness;

using namespace urine;
using namespace urine::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {
urine::abi::kernel_timespec clock_now_plus(clockid_t clock, std::chrono::nanoseconds d) {
  ::timespec now{};
  ::clock_gettime(clock, &now);
  const auto total = std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec) + d;
  return to_timespec(total);
}
}  // namespace

template <class R>
using poll_io = on_rings<R>;
TYPED_TEST_SUITE(poll_io, ring_configs);

TYPED_TEST(poll_io, poll_add_one_shot_reports_readiness) {
  auto ring = open_ring<TypeParam>();
  auto [r, w] = make_pipe();
  push(ring, ops::poll_add{r.get(), poll_events::in}, 1);
  ASSERT_TRUE(ring.submit());
  ASSERT_EQ(ring.cq_ready(), 0u);
  ASSERT_EQ(::write(w.get(), "x", 1), 1);
  auto c = reap(ring);
  EXPECT_EQ(c.user_data, 1u);
  ASSERT_GT(c.res, 0) << c.error().message();
  EXPECT_NE(c.res & POLLIN, 0);
  EXPECT_FALSE(c.more());
}

TEST(poll, multishot_poll_then_remove) {
  auto ring = open_ring();
  auto [r, w] = make_pipe();
  push(ring, ops::poll_add{r.get(), poll_events::in, poll_flags::add_multi}, 2);
  ASSERT_TRUE(ring.submit());
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(::write(w.get(), "y", 1), 1);
    auto c = reap(ring);
    ASSERT_EQ(c.user_data, 2u);
    EXPECT_NE(c.res & POLLIN, 0);
    EXPECT_TRUE(c.more());
  }
  push(ring, ops::poll_remove{2}, 3);
  ASSERT_TRUE(ring.submit());
  auto done = reap_n(ring, 2);
  EXPECT_EQ(done[3].res, 0);
  EXPECT_EQ(done[2].error(), std::errc::operation_canceled);
  EXPECT_FALSE(done[2].more());
  EXPECT_EQ(perform(ring, ops::poll_remove{2}).error(), std::errc::no_such_file_or_directory);
}

TEST(poll, multishot_stream_follows_one_request) {
  auto ring = open_ring();
  auto [r, w] = make_pipe();
  multishot_stream stream(5);
  push(ring, ops::poll_add{r.get(), poll_events::in, poll_flags::add_multi}, 5);
  ASSERT_TRUE(ring.submit());
  ASSERT_EQ(::write(w.get(), "a", 1), 1);
  auto first = ring.wait_cqe();
  ASSERT_TRUE(first);
  ASSERT_TRUE(stream.take(*first));
  ring.cqe_seen(*first);
  EXPECT_TRUE(stream.active());
  push(ring, ops::nop{}, 6);
  push(ring, ops::poll_remove{5}, 7);
  ASSERT_TRUE(ring.submit());
  unsigned others = 0;
  while (stream.active()) {
    auto c = ring.wait_cqe();
    ASSERT_TRUE(c);
    if (!stream.take(*c)) ++others;  // the nop and the removal are not the stream's
    ring.cqe_seen(*c);
  }
  EXPECT_EQ(stream.shots(), 2u);  // one readiness, then the cancellation without F_MORE
  EXPECT_EQ(stream.end(), std::errc::operation_canceled);
  EXPECT_LE(others, 2u);
}

TEST(poll, update_changes_events_and_user_data) {
  auto ring = open_ring();
  auto [r, w] = make_pipe();
  // Armed for POLLOUT on the read end (never ready), then updated to POLLIN with a new tag.
  push(ring, ops::poll_add{r.get(), poll_events::out}, 40);
  ASSERT_TRUE(ring.submit());
  auto u = perform(
      ring, ops::poll_update{.target = 40, .new_events = poll_events::in, .new_user_data = 41});
  ASSERT_EQ(u.res, 0) << u.error().message();
  ASSERT_EQ(::write(w.get(), "z", 1), 1);
  auto c = reap(ring);
  EXPECT_EQ(c.user_data, 41u);
  EXPECT_NE(c.res & POLLIN, 0);
}

TEST(poll, epoll_ctl_and_epoll_wait) {
  auto ring = open_ring();
  unique_fd ep(::epoll_create1(EPOLL_CLOEXEC));
  auto [r, w] = make_pipe();
  ::epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0xfeed;
  ASSERT_EQ(perform(ring, ops::epoll_ctl{ep.get(), epoll_op::add, r.get(), &ev}).res, 0);
  EXPECT_EQ(perform(ring, ops::epoll_ctl{ep.get(), epoll_op::add, r.get(), &ev}).error(),
            std::errc::file_exists);
  ASSERT_EQ(::write(w.get(), "e", 1), 1);
  ::epoll_event got[4] = {};
  ASSERT_EQ(::epoll_wait(ep.get(), got, 4, 0), 1);  // the registration took effect
  const std::uint64_t first = got[0].data.u64;      // epoll_event is packed: copy before comparing
  EXPECT_EQ(first, 0xfeedu);
  if (auto why = lacks(opcode::epoll_wait); !why.empty()) GTEST_SKIP() << why;
  std::array<::epoll_event, 4> events{};
  auto c = perform(ring, ops::epoll_wait{ep.get(), events});
  ASSERT_EQ(c.res, 1) << c.error().message();
  const std::uint64_t data = events[0].data.u64;
  const std::uint32_t ready = events[0].events;
  EXPECT_EQ(data, 0xfeedu);
  EXPECT_NE(ready & EPOLLIN, 0u);
  ASSERT_EQ(perform(ring, ops::epoll_ctl{ep.get(), epoll_op::del, r.get()}).res, 0);
  EXPECT_EQ(::epoll_wait(ep.get(), got, 4, 0), 0);
}

template <class R>
using timers = on_rings<R>;
TYPED_TEST_SUITE(timers, ring_configs);

TYPED_TEST(timers, relative_timeout_expires_after_its_time) {
  auto ring = open_ring<TypeParam>();
  const auto ts = to_timespec(20ms);
  const auto start = clock_type::now();
  auto c = perform(ring, ops::timeout{&ts});
  EXPECT_EQ(c.error(), std::errc::stream_timeout);
  EXPECT_GE(clock_type::now() - start, 19ms);
}

TEST(timers, absolute_on_each_clock) {
  auto ring = open_ring();
  const std::pair<clockid_t, timeout_flags> clocks[] = {
      {CLOCK_MONOTONIC, timeout_flags::abs},
      {CLOCK_BOOTTIME, timeout_flags::abs | timeout_flags::boottime},
      {CLOCK_REALTIME, timeout_flags::abs | timeout_flags::realtime}};
  for (auto [clock, flags] : clocks) {
    const auto at = clock_now_plus(clock, 15ms);
    const auto start = clock_type::now();
    auto c = perform(ring, ops::timeout{&at, 0, flags});
    EXPECT_EQ(c.error(), std::errc::stream_timeout) << "clock " << clock;
    EXPECT_GE(clock_type::now() - start, 10ms) << "clock " << clock;
  }
  const auto ts = to_timespec(1ms);
  EXPECT_EQ(perform(ring, ops::timeout{&ts, 0, timeout_flags::boottime | timeout_flags::realtime})
                .error(),
            std::errc::invalid_argument);
}

TEST(timers, count_completes_after_other_completions) {
  auto ring = open_ring();
  const auto ts = to_timespec(10s);
  push(ring, ops::timeout{&ts, 2}, 1);
  push(ring, ops::nop{}, 2);
  push(ring, ops::nop{}, 3);
  ASSERT_TRUE(ring.submit());
  auto done = reap_n(ring, 3);
  EXPECT_EQ(done[1].res, 0);  // satisfied by two completions, long before ten seconds
}

TEST(timers, multishot_fires_count_times) {
  auto ring = open_ring();
  const auto ts = to_timespec(5ms);
  push(ring, ops::timeout{&ts, 3, timeout_flags::multishot}, 7);
  ASSERT_TRUE(ring.submit());
  for (int i = 0; i < 3; ++i) {
    auto c = reap(ring);
    if (i == 0 && c.error() == std::errc::invalid_argument)
      GTEST_SKIP() << "kernel lacks IORING_TIMEOUT_MULTISHOT (since 6.4): " << c.error().message();
    EXPECT_EQ(c.error(), std::errc::stream_timeout);
    EXPECT_EQ(c.more(), i < 2) << "shot " << i;
  }
}

TEST(timers, remove_and_update) {
  auto ring = open_ring();
  const auto ten_s = to_timespec(10s);
  auto done = arm_then(ring, ops::timeout{&ten_s}, 50, ops::timeout_remove{50}, 51);
  EXPECT_EQ(done[51].res, 0);
  EXPECT_EQ(done[50].error(), std::errc::operation_canceled);
  EXPECT_EQ(perform(ring, ops::timeout_remove{50}).error(), std::errc::no_such_file_or_directory);

  const auto short_ts = to_timespec(1ms);
  const auto start = clock_type::now();
  done = arm_then(ring, ops::timeout{&ten_s}, 52, ops::timeout_update{52, &short_ts}, 53);
  EXPECT_EQ(done[53].res, 0);
  EXPECT_EQ(done[52].error(), std::errc::stream_timeout);
  EXPECT_LT(clock_type::now() - start, 5s);
}

TEST(timers, link_timeout_fires_and_does_not_fire) {
  auto ring = open_ring();
  auto [r, w] = make_pipe();
  std::array<char, 8> buf{};
  const auto short_ts = to_timespec(10ms);
  // The read never gets data: the link timeout cancels it.
  push(ring, ops::read{r.get(), buf}, 60, {.flags = sqe_flags::io_link});
  push(ring, ops::link_timeout{&short_ts}, 61);
  ASSERT_TRUE(ring.submit());
  auto done = reap_n(ring, 2);
  EXPECT_EQ(done[60].error(), std::errc::operation_canceled);
  EXPECT_EQ(done[61].error(), std::errc::stream_timeout);
  // A nop completes first: the link timeout is cancelled instead.
  const auto long_ts = to_timespec(10s);
  push(ring, ops::nop{}, 62, {.flags = sqe_flags::io_link});
  push(ring, ops::link_timeout{&long_ts}, 63);
  ASSERT_TRUE(ring.submit());
  done = reap_n(ring, 2);
  EXPECT_EQ(done[62].res, 0);
  EXPECT_EQ(done[63].error(), std::errc::operation_canceled);
  // Updating a link timeout makes it fire sooner.
  push(ring, ops::read{r.get(), buf}, 64, {.flags = sqe_flags::io_link});
  push(ring, ops::link_timeout{&long_ts}, 65);
  ASSERT_TRUE(ring.submit());
  push(ring, ops::timeout_update{.target = 65, .after = &short_ts, .link = true}, 66);
  ASSERT_TRUE(ring.submit());
  done = reap_n(ring, 3);
  EXPECT_EQ(done[66].res, 0);
  EXPECT_EQ(done[65].error(), std::errc::stream_timeout);
  EXPECT_EQ(done[64].error(), std::errc::operation_canceled);
}
