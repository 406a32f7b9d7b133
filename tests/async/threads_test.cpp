// A ring per thread: coroutines moving between runtimes with switch_to (MSG_RING), tasks posted
// to another runtime from a runtime's thread and from a thread without one, under load.
#include <gtest/gtest.h>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <memory>
#include <thread>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;
using namespace std::chrono_literals;
using async::task;
using rt_type = async::runtime<>;

/// Keeps a runtime's loop turning until `done` reaches `target` (bounded by the test's timeout).
task<void> serve_until(rt_type& rt, std::atomic<int>& done, int target) {
  while (done.load() < target) (void)co_await async::sleep_for(rt, 1ms);
  co_await rt.join();
}

task<void> visit(rt_type& home, rt_type& away, std::thread::id home_id, std::thread::id away_id,
                 std::atomic<int>& done) {
  EXPECT_EQ(std::this_thread::get_id(), home_id);
  co_await async::switch_to(away);
  EXPECT_EQ(std::this_thread::get_id(), away_id);
  auto r = co_await away.op(ops::nop{.inject = true, .inject_result = 5});
  EXPECT_EQ(*r, 5);
  co_await async::switch_to(home);
  EXPECT_EQ(std::this_thread::get_id(), home_id);
  ++done;
}

TEST(async_threads, switch_to_moves_a_coroutine_to_another_runtime_and_back) {
  std::atomic<int> done{0};
  std::unique_ptr<rt_type> away;
  std::atomic<bool> ready{false};
  std::thread::id away_id;
  std::jthread other([&] {
    away = std::make_unique<rt_type>();
    away_id = std::this_thread::get_id();
    ready = true;
    away->run(serve_until(*away, done, 1));
  });
  while (!ready) std::this_thread::yield();
  rt_type home;
  home.run([](rt_type& home, rt_type& away, std::thread::id away_id,
              std::atomic<int>& done) -> task<void> {
    home.spawn(visit(home, away, std::this_thread::get_id(), away_id, done));
    co_await home.join();
  }(home, *away, away_id, done));
  EXPECT_EQ(done.load(), 1);
}

task<void> hopper(std::vector<rt_type*>& rts, std::size_t home, int hops, std::atomic<int>& done,
                  std::atomic<long>& nops) {
  for (int i = 0; i < hops; ++i) {
    const std::size_t next = (home + static_cast<std::size_t>(i) * 7 + 1) % rts.size();
    co_await async::switch_to(*rts[next]);
    auto r = co_await rts[next]->op(ops::nop{.inject = true, .inject_result = i});
    EXPECT_EQ(*r, i);
    ++nops;
  }
  co_await async::switch_to(*rts[home]);  // a task ends where it was spawned
  ++done;
}

task<void> post_target(std::atomic<int>& posted) {
  ++posted;
  co_return;
}

TEST(async_threads, many_coroutines_hop_between_four_runtimes_and_posts_arrive_from_anywhere) {
  constexpr std::size_t threads = 4;
  constexpr int per_thread = 64, hops = 50, posts = 200;
  std::vector<rt_type*> rts(threads, nullptr);
  std::atomic<int> created{0}, done{0}, posted{0};
  std::atomic<long> nops{0};
  const int target = static_cast<int>(threads) * per_thread;
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        // Small rings: posts and operations both press on the CQ budget.
        rt_type rt(setup{.entries = 8, .cq_entries = 64});
        rts[t] = &rt;
        ++created;
        while (created.load() < static_cast<int>(threads)) std::this_thread::yield();
        rt.run([](rt_type& rt, std::vector<rt_type*>& rts, std::size_t t, std::atomic<int>& done,
                  std::atomic<long>& nops, std::atomic<int>& posted, int target) -> task<void> {
          for (int i = 0; i < per_thread; ++i) rt.spawn(hopper(rts, t, hops, done, nops));
          // Runtime 0 also posts tasks to the others through its ring.
          if (t == 0)
            for (int i = 0; i < posts / 2; ++i)
              rts[1 + static_cast<std::size_t>(i) % (rts.size() - 1)]->post(post_target(posted));
          co_await serve_until(rt, done, target);
          while (posted.load() < posts) (void)co_await async::sleep_for(rt, 1ms);
        }(rt, rts, t, done, nops, posted, target));
        // Every runtime's loop has stopped before any is destroyed.
        ++created;
        while (created.load() < 2 * static_cast<int>(threads)) std::this_thread::yield();
      });
    }
    // A thread without a runtime posts the other half, ring-less.
    while (created.load() < static_cast<int>(threads)) std::this_thread::yield();
    for (int i = 0; i < posts / 2; ++i)
      rts[static_cast<std::size_t>(i) % threads]->post(post_target(posted));
  }
  EXPECT_EQ(done.load(), target);
  EXPECT_EQ(nops.load(), static_cast<long>(target) * hops);
  EXPECT_EQ(posted.load(), posts);
}

}  // namespace
