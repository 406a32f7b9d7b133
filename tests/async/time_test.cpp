// Timeouts and sleeps: with_timeout firing (ETIME, the operation cancelled by its linked timer)
// and not firing (the operation's own result), sleeps that last at least their duration, and a
// sleep cut short by a stop request.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <span>
#include <stop_token>
#include <system_error>
#include "pipe.hpp"
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_time = urine::test::default_runtime_test;

using namespace urine;
using namespace std::chrono_literals;
using async::task;
using rt_type = async::runtime<>;
using clock_type = std::chrono::steady_clock;

/// One byte read from `fd`, bounded by `limit`.
task<rt_type::result_type> read_within(rt_type& rt, int fd, char& byte,
                                       std::chrono::nanoseconds limit) {
  co_return co_await async::with_timeout(rt, ops::read{fd, std::span(&byte, 1)}, limit);
}

TEST_F(async_time, with_timeout_fires_on_an_operation_that_does_not_complete) {
  auto [in, out] = test::make_pipe<test::unique_fd>();
  rt_type rt;
  const auto start = clock_type::now();
  char byte = 0;
  auto r = rt.run(read_within(rt, in.get(), byte, 30ms));
  EXPECT_EQ(r.raw(), -ETIME) << r.error().message();
  EXPECT_GE(clock_type::now() - start, 30ms);
  EXPECT_EQ(rt.in_flight(), 0u) << "both CQEs (operation and timer) collected";
}

TEST_F(async_time, with_timeout_does_not_fire_when_the_operation_completes_first) {
  auto [in, out] = test::make_pipe<test::unique_fd>();
  ASSERT_EQ(::write(out.get(), "x", 1), 1);
  rt_type rt;
  const auto start = clock_type::now();
  char byte = 0;
  auto r = rt.run(read_within(rt, in.get(), byte, 10s));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(byte, 'x');
  EXPECT_LT(clock_type::now() - start, 5s) << "the timer must be gone with the operation";
}

TEST_F(async_time, sleeps_last_at_least_their_duration) {
  rt_type rt;
  rt.run([](rt_type& rt) -> task<void> {
    auto start = clock_type::now();
    EXPECT_FALSE(co_await async::sleep_for(rt, 20ms));
    EXPECT_GE(clock_type::now() - start, 20ms);
    const auto until = clock_type::now() + 15ms;
    EXPECT_FALSE(co_await async::sleep_until(rt, until));
    EXPECT_GE(clock_type::now(), until);
  }(rt));
}

TEST_F(async_time, a_stop_request_cuts_a_sleep_short) {
  rt_type rt;
  std::stop_source stop;
  const auto start = clock_type::now();
  rt.run([](rt_type& rt, std::stop_source& stop) -> task<void> {
    rt.spawn([](rt_type& rt, std::stop_source& stop) -> task<void> {
      EXPECT_FALSE(co_await async::sleep_for(rt, 10ms));
      stop.request_stop();
    }(rt, stop));
    EXPECT_EQ(co_await async::sleep_for(rt, 10s, stop.get_token()), std::errc::operation_canceled);
    co_await rt.join();
  }(rt, stop));
  EXPECT_LT(clock_type::now() - start, 5s);
}

}  // namespace
