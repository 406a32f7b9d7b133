// A ring per thread: coroutines moving between runtimes with switch_to (MSG_RING), tasks posted
// to another runtime from a runtime's thread and from a thread without one, under load.
#include <gtest/gtest.h>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_threads = urine::test::default_runtime_test;

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
  const auto nop = test::nop_returning(5);
  auto r = co_await away.op(nop.op);
  EXPECT_EQ(r.raw(), nop.expected);
  co_await async::switch_to(home);
  EXPECT_EQ(std::this_thread::get_id(), home_id);
  ++done;
}

TEST_F(async_threads, switch_to_moves_a_coroutine_to_another_runtime_and_back) {
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
    const auto nop = test::nop_returning(i);
    auto r = co_await rts[next]->op(nop.op);
    EXPECT_EQ(r.raw(), nop.expected);
    ++nops;
  }
  co_await async::switch_to(*rts[home]);  // a task ends where it was spawned
  ++done;
}

task<void> post_target(std::atomic<int>& posted) {
  ++posted;
  co_return;
}

TEST_F(async_threads, many_coroutines_hop_between_four_runtimes_and_posts_arrive_from_anywhere) {
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

TEST_F(async_threads, the_messenger_ring_posts_where_the_ringless_register_op_is_missing) {
  // Before 6.13 a thread without a runtime posts through a small ring of its own; on newer
  // kernels the same path is taken only when the register op is refused, so it is tried here
  // directly, from another thread, into a plain ring.
  auto target = ring<>::create(8);
  ASSERT_TRUE(target) << target.error().message();
  std::jthread poster([fd = target->fd()] {
    for (std::uint64_t i = 1; i <= 3; ++i) {
      const auto sent = async::detail::send_by_messenger_ring(fd, 0x5eed0000 + i);
      EXPECT_TRUE(sent) << sent.error().message();
    }
  });
  poster.join();
  std::vector<std::uint64_t> seen;
  ASSERT_TRUE(target->wait_for(3, 5s));
  target->for_each_cqe([&](auto c) { seen.push_back(c.user_data().value()); });
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{0x5eed0001, 0x5eed0002, 0x5eed0003}));
}

}  // namespace
