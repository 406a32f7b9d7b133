// inplace_stop_source: one stop, callbacks run once each on the requesting thread (at once when
// registered after it), deregistered ones never, and a callback destroyed on another thread while
// it runs is waited for.
#include <gtest/gtest.h>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>
import urine;

namespace {

using namespace std::chrono_literals;
using urine::async::inplace_stop_callback;
using urine::async::inplace_stop_source;
using urine::async::inplace_stop_token;

struct count_call {
  int* calls;
  void operator()() const noexcept { ++*calls; }
};

TEST(async_stop, callbacks_run_once_on_the_request_and_at_once_after_it) {
  inplace_stop_source source;
  const inplace_stop_token token = source.get_token();
  EXPECT_TRUE(token.stop_possible());
  EXPECT_FALSE(inplace_stop_token().stop_possible());
  int a = 0, b = 0, removed = 0, late = 0;
  {
    inplace_stop_callback<count_call> first(token, count_call{&a});
    std::optional<inplace_stop_callback<count_call>> gone;
    gone.emplace(token, count_call{&removed});
    inplace_stop_callback<count_call> second(token, count_call{&b});
    gone.reset();
    EXPECT_FALSE(token.stop_requested());
    EXPECT_TRUE(source.request_stop());
    EXPECT_FALSE(source.request_stop()) << "a stop is requested once";
    EXPECT_TRUE(token.stop_requested());
    inplace_stop_callback<count_call> after(token, count_call{&late});
    EXPECT_EQ(late, 1) << "registered after the stop: runs at once";
  }
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(removed, 0) << "a deregistered callback never runs";
}

// A callback that deregisters another one still waiting: the other never runs.
TEST(async_stop, a_callback_may_deregister_one_that_waits) {
  inplace_stop_source source;
  int waiting_calls = 0;
  std::optional<inplace_stop_callback<count_call>> waiting;
  struct drop {
    std::optional<inplace_stop_callback<count_call>>* other;
    void operator()() const noexcept { other->reset(); }
  };
  // Registered before the dropper: the list runs newest first, so the dropper comes first.
  waiting.emplace(source.get_token(), count_call{&waiting_calls});
  inplace_stop_callback<drop> dropper(source.get_token(), drop{&waiting});
  source.request_stop();
  EXPECT_FALSE(waiting.has_value());
  EXPECT_EQ(waiting_calls, 0);
}

// Another thread requests the stop while this one registers and deregisters callbacks: each
// runs at most once, one still registered at the stop runs, and destroying one the other thread
// is running returns only after it has finished.
TEST(async_stop, a_stop_from_another_thread_races_registrations_safely) {
  for (int round = 0; round < 200; ++round) {
    inplace_stop_source source;
    std::atomic<bool> go{false};
    struct slow {
      std::atomic<int>* calls;
      std::atomic<bool>* finished;
      void operator()() const noexcept {
        std::this_thread::sleep_for(50us);
        calls->fetch_add(1);
        finished->store(true);
      }
    };
    std::jthread stopper([&] {
      while (!go.load()) std::this_thread::yield();
      source.request_stop();
    });
    std::atomic<int> calls{0};
    std::atomic<bool> finished{false};
    go.store(true);
    for (int i = 0; i < 100; ++i) {
      std::atomic<int> one_calls{0};
      std::atomic<bool> one_finished{false};
      {
        inplace_stop_callback<slow> cb(source.get_token(), slow{&one_calls, &one_finished});
      }
      // Gone: it ran to its end, or never ran and never will.
      EXPECT_TRUE(one_calls.load() == 0 || one_finished.load());
      EXPECT_LE(one_calls.load(), 1);
    }
    {
      inplace_stop_callback<slow> kept(source.get_token(), slow{&calls, &finished});
      stopper.join();
    }
    EXPECT_EQ(calls.load(), 1) << "registered before the stop (or after it): runs exactly once";
    EXPECT_TRUE(finished.load());
    EXPECT_TRUE(source.stop_requested());
  }
}

}  // namespace
