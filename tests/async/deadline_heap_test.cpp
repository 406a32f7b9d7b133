// The runtime's deadline heap on its own: random pushes, pops of the earliest and removals from
// anywhere, checked step by step against a sorted reference.
#include <gtest/gtest.h>
#include <cstddef>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>
import urine;

namespace {

using urine::async::detail::deadline_heap;
using urine::async::detail::timer_node;

/// A small LCG: the same sequence on every machine.
struct lcg {
  std::uint32_t state;
  std::uint32_t next(std::uint32_t bound) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % bound;
  }
};

TEST(deadline_heap, pops_in_deadline_order_and_erases_from_anywhere) {
  constexpr std::size_t nodes = 4096;
  std::vector<timer_node> pool(nodes);
  std::set<std::pair<std::int64_t, std::size_t>> reference;  // (deadline, index)
  std::vector<std::size_t> queued;                           // indexes in the heap
  deadline_heap heap;
  lcg random{42};
  std::size_t pops = 0, erases = 0;
  for (int step = 0; step < 200000; ++step) {
    const std::uint32_t what = random.next(10);
    if (what < 5 && queued.size() < nodes) {
      std::size_t i = random.next(nodes);
      while (pool[i].queued) i = (i + 1) % nodes;
      pool[i].deadline = random.next(1000);  // many equal deadlines
      heap.push(pool[i]);
      reference.emplace(pool[i].deadline, i);
      queued.push_back(i);
    } else if (what < 8 && !queued.empty()) {
      timer_node& top = heap.pop();
      ASSERT_EQ(top.deadline, reference.begin()->first) << "step " << step;
      ASSERT_FALSE(top.queued);
      const auto i = static_cast<std::size_t>(&top - pool.data());
      ASSERT_EQ(reference.erase({top.deadline, i}), 1u);
      std::erase(queued, i);
      ++pops;
    } else if (!queued.empty()) {
      const std::size_t k = random.next(static_cast<std::uint32_t>(queued.size()));
      const std::size_t i = queued[k];
      heap.erase(pool[i]);
      ASSERT_FALSE(pool[i].queued);
      ASSERT_EQ(reference.erase({pool[i].deadline, i}), 1u);
      queued[k] = queued.back();
      queued.pop_back();
      ++erases;
    }
    ASSERT_EQ(heap.size(), reference.size());
    ASSERT_EQ(heap.empty(), reference.empty());
    if (!heap.empty()) ASSERT_EQ(heap.top().deadline, reference.begin()->first) << "step " << step;
  }
  EXPECT_GT(pops, 10000u);
  EXPECT_GT(erases, 10000u);
  while (!heap.empty()) {
    ASSERT_EQ(heap.pop().deadline, reference.begin()->first);
    reference.erase(reference.begin());
  }
  EXPECT_TRUE(reference.empty());
}

}  // namespace
