// Tasks and scopes: laziness, results and exceptions through co_await, deep chains of awaits by
// symmetric transfer, spawned tasks and joining a scope.
#include <gtest/gtest.h>
#include <coroutine>
#include <stdexcept>
#include <string>
#include <vector>
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_task = urine::test::default_runtime_test;

using namespace urine;
using async::task;

task<int> answer(int& started) {
  ++started;
  co_return 42;
}

TEST_F(async_task, is_lazy_and_returns_its_value) {
  async::runtime<> rt;
  int started = 0;
  auto t = answer(started);
  EXPECT_EQ(started, 0) << "a task must not run before it is awaited";
  EXPECT_EQ(rt.run(std::move(t)), 42);
  EXPECT_EQ(started, 1);
}

task<int> thrower() {
  throw std::runtime_error("from the child");
  co_return 0;
}

task<std::string> catches() {
  try {
    (void)co_await thrower();
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "nothing thrown";
}

TEST_F(async_task, exceptions_reach_the_awaiter) {
  async::runtime<> rt;
  EXPECT_EQ(rt.run(catches()), "from the child");
  EXPECT_THROW(rt.run(thrower()), std::runtime_error);
}

task<long> depth(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await depth(n - 1);
}

task<long> chain_of_awaits(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await depth(1);
  co_return sum;
}

TEST_F(async_task, a_million_sequential_awaits_do_not_grow_the_stack) {
  async::runtime<> rt;
  EXPECT_EQ(rt.run(chain_of_awaits(1'000'000)), 1'000'000);
  EXPECT_EQ(rt.run(depth(10'000)), 10'000);
}

task<void> record(std::vector<int>& out, int v) {
  out.push_back(v);
  co_return;
}

task<void> spawner(async::runtime<>& rt, std::vector<int>& out) {
  for (int i = 0; i < 100; ++i) rt.spawn(record(out, i));
  EXPECT_TRUE(out.empty()) << "spawned tasks start from the run loop, not inside spawn()";
  co_await rt.join();
  EXPECT_EQ(out.size(), 100u);
}

TEST_F(async_task, spawned_tasks_run_and_the_scope_joins) {
  async::runtime<> rt;
  std::vector<int> out;
  rt.run(spawner(rt, out));
  ASSERT_EQ(out.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(out[static_cast<std::size_t>(i)], i);
  EXPECT_TRUE(rt.root_scope().empty());
}

}  // namespace
