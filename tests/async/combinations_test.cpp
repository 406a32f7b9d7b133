// The runtime on every legal policy set of the SQE layout, CQE layout, polling, task-run and
// ring-fd axes: many tasks awaiting NOPs on a tiny CQ, each completion delivered exactly once,
// and the 16 extra bytes of a 32-byte completion delivered where the ring has them.
#include "../ring/combinations.hpp"
#include <gtest/gtest.h>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;
using async::task;
using urine::test::combos::list;

template <class... P>
struct legal : std::bool_constant<is_legal<P...>> {};

using all_combinations = urine::test::combos::product<
    list<>, list<sqe64, sqe128>, list<cqe16, cqe32, cqe_mixed>,
    list<interrupt, sqpoll, iopoll, hybrid_iopoll>, list<acquire_release>,
    list<default_task_run, coop_task_run<true>, single_issuer, defer_task_run<>>,
    list<plain_ring_fd, registered_ring_fd>>::type;

using ring_types = urine::test::combos::to_gtest<
    urine::test::combos::to_rings<all_combinations, ring, legal>::type>::type;

struct ring_name {
  template <class R>
  static std::string GetName(int) {
    using c = typename R::config;
    std::string n;
    for (std::string_view part :
         {policy_name<typename c::sqe_layout>, policy_name<typename c::cqe_layout>,
          policy_name<typename c::polling>, policy_name<typename c::task_run>,
          policy_name<typename c::ring_fd>}) {
      if (!n.empty()) n += '_';
      n += part;
    }
    return n;
  }
};

template <class R>
class async_combinations : public ::testing::Test {};
TYPED_TEST_SUITE(async_combinations, ring_types, ring_name);

template <class Rt>
task<void> nops(Rt& rt, std::vector<int>& seen, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    const auto nop = test::nop_returning(i);
    auto r = co_await rt.op(nop.op);
    if (r && *r == nop.expected) ++seen[static_cast<std::size_t>(i)];
  }
}

template <class Rt>
task<void> spawn_all(Rt& rt, std::vector<int>& seen, int tasks, int per_task) {
  for (int t = 0; t < tasks; ++t) rt.spawn(nops(rt, seen, t * per_task, per_task));
  co_await rt.join();
}

template <class Rt>
task<typename Rt::result_type> nop32(Rt& rt) {
  co_return co_await rt.op(ops::nop32{.extra1 = 0x1122334455667788, .extra2 = 42});
}

TYPED_TEST(async_combinations, every_completion_exactly_once_on_a_tiny_cq) {
  using R = TypeParam;
  auto ring = R::create(setup{.entries = 4, .cq_entries = 8});
  if (!ring) GTEST_SKIP() << "the kernel refuses this ring: " << ring.error().message();
  if constexpr (R::is_iopoll) {
    if (const auto why = test::lacks_nop_on_iopoll(); !why.empty()) GTEST_SKIP() << why;
  }
  async::runtime<R> rt(std::move(*ring));
  constexpr int tasks = 40, per_task = 25;
  std::vector<int> seen(tasks * per_task, 0);
  rt.run(spawn_all(rt, seen, tasks, per_task));
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1) << "operation " << i;
  EXPECT_GT(rt.parked_total(), 0u);
  EXPECT_EQ(rt.in_flight(), 0u);
  EXPECT_EQ(rt.overflow_events(), 0u);

  if constexpr (R::has_big_cqes) {
    const auto r = rt.run(nop32(rt));
    // IORING_NOP_CQE32 is 6.18's: an older kernel refuses the flag.
    if (!r && r.error() == std::errc::invalid_argument) {
      std::printf("not checked: the kernel lacks IORING_NOP_CQE32 (since 6.18)\n");
      return;
    }
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r.extra().words[0], 0x1122334455667788u);
    EXPECT_EQ(r.extra().words[1], 42u);
  }
}

}  // namespace
