// Many sleeps, one kernel timer: ten thousand sleeps resume in deadline order, none early, on a
// handful of TIMEOUTs (the runtime's count, and the completions the kernel posted); a sleep
// earlier than the armed timer moves it, by update and by removal; stopped sleeps (on the owning
// thread, on another, racing their deadlines) resume ECANCELED without delaying the others; a
// system-clock sleep keeps its own timer.
#include <gtest/gtest.h>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <vector>
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_sleep = urine::test::default_runtime_test;

using namespace urine;
using namespace std::chrono_literals;
using async::task;
using rt_type = async::runtime<>;
using clock_type = std::chrono::steady_clock;

/// 0 ... n-1 in an order fixed by `seed` (a small LCG: the same on every machine).
std::vector<std::size_t> shuffled(std::size_t n, std::uint32_t seed) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  for (std::size_t i = n; i > 1; --i) {
    seed = seed * 1664525u + 1013904223u;
    std::swap(v[i - 1], v[seed % i]);
  }
  return v;
}

/// Turns of the loop (a NOP each) until `done()`, at most 1000: every wait here is bounded.
template <class Done>
task<bool> turns_until(rt_type& rt, Done done) {
  for (int turn = 0; turn < 1000; ++turn) {
    if (done()) co_return true;
    (void)co_await rt.op(ops::nop{});
  }
  co_return done();
}

/// How a group of sleeps went: who resumed in which order, and who resumed early.
struct record {
  std::vector<std::size_t> order;
  std::size_t early = 0;
  std::size_t failed = 0;
};

task<void> sleeper(rt_type& rt, clock_type::time_point deadline, std::size_t index, record& r) {
  const std::error_code e = co_await async::sleep_until(rt, deadline);
  if (e) ++r.failed;
  if (clock_type::now() < deadline) ++r.early;
  r.order.push_back(index);
}

/// `n` sleeps in `groups` groups 4 ms apart, each deadline distinct (a nanosecond apart within a
/// group), started in a shuffled order. Returns the deadlines by index.
std::vector<clock_type::time_point> spawn_sleepers(rt_type& rt, std::size_t n, std::size_t groups,
                                                   record& r) {
  // Far enough ahead that every sleeper has started before the first deadline, sanitizers too.
  const auto base = clock_type::now() + 300ms;
  std::vector<clock_type::time_point> deadlines(n);
  for (std::size_t i = 0; i < n; ++i)
    deadlines[i] = base + (i * groups / n) * 4ms + std::chrono::nanoseconds(i % (n / groups));
  r.order.reserve(n);
  for (const std::size_t i : shuffled(n, 7)) rt.spawn(sleeper(rt, deadlines[i], i, r));
  return deadlines;
}

/// Whether every sleep resumed, in the order of its deadline.
void expect_deadline_order(const record& r, const std::vector<clock_type::time_point>& deadlines) {
  ASSERT_EQ(r.order.size(), deadlines.size());
  std::size_t out_of_order = 0;
  for (std::size_t k = 1; k < r.order.size(); ++k)
    if (deadlines[r.order[k]] <= deadlines[r.order[k - 1]]) ++out_of_order;
  EXPECT_EQ(out_of_order, 0u) << "sleeps resumed out of deadline order";
  EXPECT_EQ(r.early, 0u) << "sleeps resumed before their deadline";
  EXPECT_EQ(r.failed, 0u) << "sleeps resumed with an error";
}

TEST_F(async_sleep, ten_thousand_sleeps_resume_in_deadline_order_none_early_on_few_timers) {
  constexpr std::size_t n = 10000, groups = 50;
  rt_type rt;
  record r;
  std::vector<clock_type::time_point> deadlines;
  rt.run([](rt_type& rt, record& r, std::vector<clock_type::time_point>& deadlines,
            std::size_t n) -> task<void> {
    deadlines = spawn_sleepers(rt, n, groups, r);
    // Turns of the loop until every sleeper has started: all asleep, none holds a CQ slot.
    EXPECT_TRUE(co_await turns_until(rt, [&] { return rt.sleeping() == n || !r.order.empty(); }));
    EXPECT_EQ(rt.sleeping(), n);
    EXPECT_EQ(rt.in_flight(), 0u) << "a sleep holds no request of its own in the kernel";
    EXPECT_EQ(rt.parked_total(), 0u);
    co_await rt.join();
  }(rt, r, deadlines, n));
  expect_deadline_order(r, deadlines);
  EXPECT_EQ(rt.sleeping(), 0u);
  EXPECT_GE(rt.timer_arms(), 1u);
  // One arm per group (its earliest deadline) at most; twice that as room for a group whose
  // sleeps a fire found only partly due.
  EXPECT_LE(rt.timer_arms(), 2 * groups) << "re-arms: " << rt.timer_rearms();
  EXPECT_EQ(rt.timer_rearms(), 0u) << "every sleep started before the first arm";
  std::cout << "[ info     ] " << n << " sleeps, " << rt.timer_arms() << " TIMEOUTs armed\n";
}

/// The completions the kernel has posted to `ring_fd` (its CQ tail), where its fdinfo says.
std::optional<std::uint32_t> kernel_cq_tail(int ring_fd) {
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(ring_fd));
  std::string key;
  std::uint64_t value = 0;
  while (info >> key) {
    if (key == "CqTail:" && info >> value) return static_cast<std::uint32_t>(value);
  }
  return std::nullopt;
}

TEST_F(async_sleep, the_kernel_posts_a_few_timer_completions_for_thousands_of_sleeps) {
  rt_type rt;
  const auto before = kernel_cq_tail(rt.ring().fd());
  if (!before) GTEST_SKIP() << "this kernel's io_uring fdinfo has no CqTail line (older than 5.19)";
  constexpr std::size_t n = 2000, groups = 10;
  record r;
  std::vector<clock_type::time_point> deadlines;
  rt.run([](rt_type& rt, record& r, std::vector<clock_type::time_point>& deadlines,
            std::size_t n) -> task<void> {
    deadlines = spawn_sleepers(rt, n, groups, r);
    co_await rt.join();
  }(rt, r, deadlines, n));
  expect_deadline_order(r, deadlines);
  const std::uint32_t posted = *kernel_cq_tail(rt.ring().fd()) - *before;
  // Each arm's TIMEOUT posts one completion, each update one; nothing else was submitted.
  EXPECT_EQ(posted, rt.timer_arms() + rt.timer_rearms());
  EXPECT_LE(posted, 2 * groups) << "one TIMEOUT per sleep would have posted " << n;
  std::cout << "[ info     ] " << n << " sleeps, " << posted << " completions posted\n";
}

/// A sleep for `d` that a stop on `token` must cut short.
task<void> sleep_to_be_stopped(rt_type& rt, std::chrono::nanoseconds d, std::stop_token token) {
  EXPECT_EQ(co_await async::sleep_for(rt, d, token), std::errc::operation_canceled);
}

/// Which way the armed timer moves earlier.
class async_sleep_rearm : public urine::test::default_runtime_test,
                          public ::testing::WithParamInterface<async::detail::rearm_by> {};

TEST_P(async_sleep_rearm, a_sleep_earlier_than_the_armed_timer_moves_it) {
  rt_type rt;
  rt.sleeps().set_rearm(GetParam());
  std::stop_source stop;
  const auto start = clock_type::now();
  rt.run([](rt_type& rt, std::stop_source& stop, clock_type::time_point start) -> task<void> {
    rt.spawn(sleep_to_be_stopped(rt, 10s, stop.get_token()));
    // The long sleep starts and the timer is armed for it.
    EXPECT_TRUE(co_await turns_until(rt, [&] { return rt.timer_arms() > 0; }));
    EXPECT_EQ(co_await async::sleep_for(rt, 20ms), std::error_code{});
    EXPECT_GE(clock_type::now() - start, 20ms);
    EXPECT_LT(clock_type::now() - start, 5s) << "the timer stayed armed for the long sleep";
    EXPECT_EQ(rt.timer_rearms(), 1u);
    stop.request_stop();
    co_await rt.join();
  }(rt, stop, start));
  // Armed for the long sleep; moved to the short one (by removal: a TIMEOUT of its own once the
  // first has completed); armed for the long one again when the short one's fired.
  EXPECT_EQ(rt.timer_arms(), GetParam() == async::detail::rearm_by::update ? 2u : 3u);
  EXPECT_LT(clock_type::now() - start, 5s);
}

INSTANTIATE_TEST_SUITE_P(by, async_sleep_rearm,
                         ::testing::Values(async::detail::rearm_by::update,
                                           async::detail::rearm_by::removal),
                         [](const auto& info) {
                           return info.param == async::detail::rearm_by::update ? "update"
                                                                                : "removal";
                         });

task<void> stoppable_sleeper(rt_type& rt, clock_type::time_point deadline, std::stop_token token,
                             std::size_t index, record& r, std::size_t& cancelled) {
  const std::error_code e = co_await async::sleep_until(rt, deadline, token);
  if (e == std::errc::operation_canceled) {
    ++cancelled;
    co_return;
  }
  if (e) ++r.failed;
  if (clock_type::now() < deadline) ++r.early;
  r.order.push_back(index);
}

TEST_F(async_sleep, stopped_sleeps_resume_cancelled_and_the_others_keep_their_order) {
  // Half of 2000 sleeps, their deadlines interleaved with the others', stopped in a shuffled
  // order once all are queued: every stop takes a node out of the heap from wherever it is.
  constexpr std::size_t n = 2000;
  rt_type rt;
  std::vector<std::stop_source> stops(n);
  std::vector<clock_type::time_point> deadlines(n);
  record r;
  std::size_t cancelled = 0;
  const auto start = clock_type::now();
  rt.run([](rt_type& rt, std::vector<std::stop_source>& stops,
            std::vector<clock_type::time_point>& deadlines, record& r, std::size_t& cancelled,
            clock_type::time_point start) -> task<void> {
    r.order.reserve(n);
    for (const std::size_t i : shuffled(n, 11)) {
      // Odd sleeps are stopped long before their deadlines.
      deadlines[i] = start + 1s + std::chrono::microseconds(i);
      rt.spawn(stoppable_sleeper(rt, deadlines[i], stops[i].get_token(), i, r, cancelled));
    }
    EXPECT_TRUE(co_await turns_until(rt, [&] { return rt.sleeping() == n; }));
    for (const std::size_t i : shuffled(n, 13))
      if (i % 2 == 1) stops[i].request_stop();
    EXPECT_EQ(rt.sleeping(), n / 2) << "stopped sleeps leave the heap at once";
    (void)co_await rt.op(ops::nop{});
    EXPECT_EQ(cancelled, n / 2) << "and resume with no kernel round trip";
    co_await rt.join();
  }(rt, stops, deadlines, r, cancelled, start));
  EXPECT_EQ(cancelled, n / 2);
  std::vector<clock_type::time_point> kept;
  for (std::size_t i = 0; i < n; i += 2) kept.push_back(deadlines[i]);
  ASSERT_EQ(r.order.size(), n / 2);
  for (auto& i : r.order) i /= 2;  // indexes into `kept`
  expect_deadline_order(r, kept);
}

TEST_F(async_sleep, a_stopped_sleep_does_not_delay_a_later_one) {
  rt_type rt;
  std::stop_source stop;
  const auto start = clock_type::now();
  rt.run([](rt_type& rt, std::stop_source& stop, clock_type::time_point start) -> task<void> {
    rt.spawn(sleep_to_be_stopped(rt, 200ms, stop.get_token()));
    rt.spawn([](rt_type& rt, clock_type::time_point start) -> task<void> {
      EXPECT_EQ(co_await async::sleep_for(rt, 300ms), std::error_code{});
      EXPECT_GE(clock_type::now() - start, 300ms);
    }(rt, start));
    EXPECT_TRUE(co_await turns_until(rt, [&] { return rt.timer_arms() > 0; }));
    stop.request_stop();  // the sleep the timer is armed for
    co_await rt.join();
  }(rt, stop, start));
  EXPECT_LT(clock_type::now() - start, 5s);
  EXPECT_EQ(rt.timer_arms(), 2u) << "armed for the stopped sleep, fired early, armed again";
}

TEST_F(async_sleep, a_stop_requested_before_the_sleep_begins_queues_nothing) {
  rt_type rt;
  std::stop_source stop;
  stop.request_stop();
  rt.run([](rt_type& rt, std::stop_token token) -> task<void> {
    EXPECT_EQ(co_await async::sleep_for(rt, 10s, token), std::errc::operation_canceled);
    EXPECT_EQ(rt.sleeping(), 0u);
  }(rt, stop.get_token()));
  EXPECT_EQ(rt.timer_arms(), 0u);
}

TEST_F(async_sleep, a_stop_from_another_thread_reaches_a_sleep_through_its_runtime) {
  rt_type rt;
  std::stop_source stop;
  const auto start = clock_type::now();
  std::jthread other;
  rt.run([](rt_type& rt, std::stop_source& stop, std::jthread& other) -> task<void> {
    other = std::jthread([&stop] {
      std::this_thread::sleep_for(20ms);
      stop.request_stop();
    });
    EXPECT_EQ(co_await async::sleep_for(rt, 10s, stop.get_token()), std::errc::operation_canceled);
    EXPECT_EQ(rt.sleeping(), 0u);
  }(rt, stop, other));
  EXPECT_LT(clock_type::now() - start, 5s);
}

TEST_F(async_sleep, stops_from_another_thread_racing_the_deadlines_resume_each_sleep_once) {
  // Deadlines spread over the moment another thread stops them all: each sleep resumes exactly
  // once, either as due (not early) or cancelled.
  constexpr std::size_t n = 500;
  rt_type rt;
  std::vector<std::stop_source> stops(n);
  std::size_t resumed = 0, cancelled = 0, early = 0;
  std::jthread other;
  const auto start = clock_type::now();
  rt.run([](rt_type& rt, std::vector<std::stop_source>& stops, std::size_t& resumed,
            std::size_t& cancelled, std::size_t& early, std::jthread& other) -> task<void> {
    const auto base = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) {
      rt.spawn([](rt_type& rt, clock_type::time_point deadline, std::stop_token token,
                  std::size_t& resumed, std::size_t& cancelled, std::size_t& early) -> task<void> {
        const std::error_code e = co_await async::sleep_until(rt, deadline, token);
        ++resumed;
        if (e == std::errc::operation_canceled)
          ++cancelled;
        else if (clock_type::now() < deadline)
          ++early;
      }(rt, base + std::chrono::microseconds(10 * i), stops[i].get_token(), resumed, cancelled,
                                                                                    early));
    }
    other = std::jthread([&stops] {
      std::this_thread::sleep_for(2ms);
      for (auto& s : stops) s.request_stop();
    });
    co_await rt.join();
  }(rt, stops, resumed, cancelled, early, other));
  EXPECT_EQ(resumed, n);
  EXPECT_EQ(early, 0u);
  EXPECT_EQ(rt.sleeping(), 0u);
  EXPECT_LT(clock_type::now() - start, 5s);
  std::cout << "[ info     ] " << cancelled << " of " << n << " sleeps cancelled\n";
}

TEST_F(async_sleep, a_deadline_long_past_resumes_at_once) {
  rt_type rt;
  rt.run([](rt_type& rt) -> task<void> {
    // Before the clock's epoch: a negative deadline. The guard is a system-clock sleep, a timer
    // of its own, so the test ends even if the shared timer never fires.
    const auto guard = std::chrono::system_clock::now() + 5s;
    auto r = co_await async::when_any(async::sleep_until(rt, clock_type::time_point{} - 1h),
                                      async::sleep_until(rt, guard));
    EXPECT_EQ(r.index, 0u) << "the past deadline did not resume";
    EXPECT_EQ(std::get<0>(r.results).raw(), -ETIME);
    EXPECT_EQ(co_await async::sleep_for(rt, -1s), std::error_code{});
  }(rt));
  EXPECT_EQ(rt.timer_arms(), 2u);
}

TEST_F(async_sleep, a_system_clock_sleep_keeps_its_own_timer) {
  rt_type rt;
  rt.run([](rt_type& rt) -> task<void> {
    const auto until = std::chrono::system_clock::now() + 15ms;
    const auto start = clock_type::now();
    rt.spawn([](rt_type& rt) -> task<void> {
      (void)co_await rt.op(ops::nop{});
      EXPECT_EQ(rt.sleeping(), 0u) << "not in the heap: a CLOCK_REALTIME TIMEOUT of its own";
      EXPECT_EQ(rt.in_flight(), 1u);
    }(rt));
    EXPECT_EQ(co_await async::sleep_until(rt, until), std::error_code{});
    EXPECT_GE(std::chrono::system_clock::now(), until);
    EXPECT_GE(clock_type::now() - start, 10ms);
    co_await rt.join();
  }(rt));
  EXPECT_EQ(rt.timer_arms(), 0u);
}

}  // namespace
