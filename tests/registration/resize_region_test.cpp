// Resizing a live ring with entries in flight, and registered wait arguments: the resized ring
// loses nothing and works at its new size; a wait through a registered slot honours the slot's
// timeout and returns early on a completion.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <set>
#include <vector>
import urine;
import urine.test_support;
import urine.registration_test_helpers;

namespace {

using namespace urine;
// gtest brings the C++ ABI's `abi` namespace into the global scope; this one is meant.
namespace abi = urine::abi;
using plain_ring = urine::ring<>;
using urine::test::raw_sqe;

using deferred_ring = urine::ring<defer_task_run<>>;

std::set<std::uint64_t> user_datas(const std::vector<abi::cqe>& cqes) {
  std::set<std::uint64_t> out;
  for (const auto& c : cqes) {
    EXPECT_EQ(c.res, 0);
    out.insert(c.user_data);
  }
  return out;
}

std::set<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::set<std::uint64_t> out;
  for (auto i = first; i <= last; ++i) out.insert(i);
  return out;
}

TEST(resize_rings, grow_with_entries_in_flight_loses_nothing) {
  if (const auto why = urine::test::lacks(register_opcode::register_resize_rings); !why.empty())
    GTEST_SKIP() << why;
  auto ring = deferred_ring::create(setup{.entries = 8, .cq_entries = 16});
  ASSERT_TRUE(ring) << ring.error().message();
  // Six completions left unreaped, four SQEs prepared and not submitted.
  for (std::uint64_t u = 1; u <= 6; ++u) raw_sqe(*ring, u, urine::test::prep_nop);
  ASSERT_TRUE(ring->submit());
  ASSERT_TRUE(ring->get_events());
  ASSERT_EQ(ring->cq_ready(), 6u);
  for (std::uint64_t u = 7; u <= 10; ++u) raw_sqe(*ring, u, urine::test::prep_nop);

  auto resized = resize_rings(*ring, 64, 256);
  ASSERT_TRUE(resized) << resized.error().message();
  EXPECT_EQ(ring->sq_entries(), 64u);
  EXPECT_EQ(ring->cq_entries(), 256u);
  EXPECT_EQ(ring->cq_ready(), 6u) << "unreaped completions moved along";
  EXPECT_EQ(ring->sq_ready(), 4u) << "prepared SQEs moved along";

  auto cqes = urine::test::submit_and_reap(*ring, 10);
  EXPECT_EQ(user_datas(cqes), range(1, 10));

  // More than the old SQ held, in one batch.
  for (std::uint64_t u = 100; u < 160; ++u) raw_sqe(*ring, u, urine::test::prep_nop);
  cqes = urine::test::submit_and_reap(*ring, 60);
  EXPECT_EQ(user_datas(cqes), range(100, 159));
}

TEST(resize_rings, shrink_refuses_to_drop_and_then_succeeds) {
  if (const auto why = urine::test::lacks(register_opcode::register_resize_rings); !why.empty())
    GTEST_SKIP() << why;
  auto ring = deferred_ring::create(setup{.entries = 32, .cq_entries = 64});
  ASSERT_TRUE(ring) << ring.error().message();
  for (std::uint64_t u = 1; u <= 12; ++u) raw_sqe(*ring, u, urine::test::prep_nop);
  ASSERT_TRUE(ring->submit());
  ASSERT_TRUE(ring->get_events());
  ASSERT_EQ(ring->cq_ready(), 12u);

  auto too_small = resize_rings(*ring, 4, 8);
  ASSERT_FALSE(too_small);
  EXPECT_EQ(too_small.error(), std::errc::value_too_large);
  EXPECT_NE(too_small.error().message().find("in flight"), std::string::npos)
      << too_small.error().message();
  EXPECT_EQ(ring->cq_ready(), 12u) << "a refused resize leaves the ring as it was";

  // Reap nine, prepare two, and shrink around the three left.
  unsigned reaped = 0;
  std::set<std::uint64_t> seen;
  while (reaped < 9) {
    auto c = ring->peek_cqe();
    ASSERT_TRUE(c);
    seen.insert(c.user_data().value());
    ring->cqe_seen(c);
    ++reaped;
  }
  raw_sqe(*ring, 20, urine::test::prep_nop);
  raw_sqe(*ring, 21, urine::test::prep_nop);
  auto shrunk = resize_rings(*ring, 4, 8);
  ASSERT_TRUE(shrunk) << shrunk.error().message();
  EXPECT_EQ(ring->sq_entries(), 4u);
  EXPECT_EQ(ring->cq_entries(), 8u);
  const auto rest = urine::test::submit_and_reap(*ring, 5);
  for (const auto& c : rest) seen.insert(c.user_data);
  auto expected = range(1, 12);
  expected.insert({20, 21});
  EXPECT_EQ(seen, expected);

  auto bad = resize_rings(*ring, 0);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("SQ entries 0"), std::string::npos) << bad.error().message();
}

TEST(resize_rings, big_cqes_and_a_registered_ring_fd_survive_the_remap) {
  if (const auto why = urine::test::lacks(register_opcode::register_resize_rings); !why.empty())
    GTEST_SKIP() << why;
  using big_ring = urine::ring<defer_task_run<>, cqe32, sqe128, registered_ring_fd>;
  auto ring = big_ring::create(setup{.entries = 4, .cq_entries = 8});
  ASSERT_TRUE(ring) << ring.error().message();
  for (std::uint64_t u = 1; u <= 3; ++u) raw_sqe(*ring, u, urine::test::prep_nop);
  ASSERT_TRUE(ring->submit());
  ASSERT_TRUE(ring->get_events());
  raw_sqe(*ring, 4, urine::test::prep_nop);
  auto resized = resize_rings(*ring, 32, 64);
  ASSERT_TRUE(resized) << resized.error().message();
  for (std::uint64_t u = 5; u <= 30; ++u) raw_sqe(*ring, u, urine::test::prep_nop);
  const auto cqes = urine::test::submit_and_reap(*ring, 30);
  EXPECT_EQ(user_datas(cqes), range(1, 30));
}

TEST(resize_rings, a_kernel_without_it_is_named_in_the_refusal) {
  if (urine::test::lacks(register_opcode::register_resize_rings).empty())
    GTEST_SKIP() << "the kernel resizes rings (6.13+): nothing to refuse";
  if (const auto why = urine::test::lacks(deferred_ring::config::flags); !why.empty())
    GTEST_SKIP() << why;
  auto ring = deferred_ring::create(8);
  ASSERT_TRUE(ring) << ring.error().message();
  const auto resized = resize_rings(*ring, 16);
  ASSERT_FALSE(resized);
  EXPECT_EQ(resized.error().code(), std::errc::invalid_argument);
  EXPECT_NE(resized.error().message().find(": needs kernel 6.13"), std::string::npos)
      << resized.error().message();
}

TEST(wait_region, a_registered_slot_times_the_wait) {
  if (const auto why = urine::test::lacks(register_opcode::register_mem_region); !why.empty())
    GTEST_SKIP() << why;
  for (const auto memory : {region_memory::application, region_memory::kernel}) {
    auto ring = plain_ring::create(setup{.entries = 8, .disabled = true});
    ASSERT_TRUE(ring) << ring.error().message();
    auto region = register_wait_region(*ring, 4, memory);
    ASSERT_TRUE(region) << region.error().message();
    ASSERT_TRUE(enable_rings(*ring));
    EXPECT_EQ(region->size(), 4u);
    region->set_timeout(2, std::chrono::milliseconds(40));

    const auto start = std::chrono::steady_clock::now();
    auto timed_out = submit_and_wait_registered(*ring, *region, 2);
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(timed_out);
    EXPECT_EQ(timed_out.error(), urine::errno_code(ETIME));
    EXPECT_GE(waited, std::chrono::milliseconds(35));
    EXPECT_LT(waited, std::chrono::seconds(5));

    raw_sqe(*ring, 5, urine::test::prep_nop);
    auto done = submit_and_wait_registered(*ring, *region, 2);
    ASSERT_TRUE(done) << done.error().message();
    EXPECT_EQ(*done, 1u);
    EXPECT_FALSE(submit_and_wait_registered(*ring, *region, 4)) << "slot out of range";
  }
}

TEST(wait_region, a_running_ring_refuses_it) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  auto region = register_wait_region(*ring, 4);
  ASSERT_FALSE(region);
  // A kernel without the opcode is named as too old, not blamed on the ring.
  const char* const why = urine::test::lacks(register_opcode::register_mem_region).empty()
                              ? "created disabled"
                              : "needs kernel 6.13";
  EXPECT_NE(region.error().message().find(why), std::string::npos) << region.error().message();
  auto none = register_wait_region(*ring, 0);
  ASSERT_FALSE(none);
}

}  // namespace
