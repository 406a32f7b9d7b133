// reserve(n): SQ room for a batch, tested once. Its pushes reach the kernel with their user data
// on every layout, reserving more than is free says why, unused room submits nothing, and the
// ring's own push and submit may be mixed with a reservation.
#include <gtest/gtest.h>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;

/// Submit, wait for `n` completions and return their user data, sorted; every result must be 0.
template <class R>
std::vector<std::uint64_t> complete(R& r, unsigned n) {
  const auto s = r.submit_and_wait(n);
  EXPECT_TRUE(s.has_value()) << s.error().message();
  std::vector<std::uint64_t> seen;
  while (seen.size() < n) {
    r.for_each_cqe([&](auto c) {
      EXPECT_EQ(c.result(), 0) << c.user_data().value();
      seen.push_back(c.user_data().value());
    });
    if (seen.size() < n && !r.wait(1)) break;
  }
  std::sort(seen.begin(), seen.end());
  return seen;
}

std::vector<std::uint64_t> iota(std::uint64_t from, unsigned n) {
  std::vector<std::uint64_t> v(n);
  for (unsigned i = 0; i < n; ++i) v[i] = from + i;
  return v;
}

// Many batches through a small ring, so the indices wrap it many times: every NOP completes once,
// with its own user data, on each SQE and CQE layout.
template <class R>
void batches_complete_with_their_user_data() {
  if (const std::string why = urine::test::lacks_ring<R>(); !why.empty()) GTEST_SKIP() << why;
  auto r = R::create(8);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  std::uint64_t next = 0;
  for (unsigned round = 0; round < 50; ++round) {
    const unsigned n = 1 + round % 8;
    auto sq = r->reserve(n);
    ASSERT_TRUE(sq.has_value()) << sq.error().message();
    EXPECT_EQ(sq->remaining(), n);
    for (unsigned i = 0; i < n; ++i) sq->push(ops::nop{}, next + i);
    EXPECT_EQ(sq->remaining(), 0u);
    EXPECT_EQ(r->sq_ready(), n);
    ASSERT_EQ(complete(*r, n), iota(next, n)) << "round " << round;
    next += n;
  }
}

TEST(ring_reserve, batches_complete_with_their_user_data) {
  batches_complete_with_their_user_data<ring<>>();
}
TEST(ring_reserve, batches_complete_on_sqe128) {
  batches_complete_with_their_user_data<ring<sqe128>>();
}
TEST(ring_reserve, batches_complete_on_cqe32) {
  batches_complete_with_their_user_data<ring<cqe32>>();
}
TEST(ring_reserve, batches_complete_deferred_with_registered_fd) {
  batches_complete_with_their_user_data<ring<defer_task_run<>, registered_ring_fd>>();
}

TEST(ring_reserve, more_than_is_free_is_eagain_and_nothing_is_pushed) {
  auto r = ring<>::create(8);
  ASSERT_TRUE(r.has_value());
  for (unsigned i = 0; i < 5; ++i) ASSERT_TRUE(r->push(ops::nop{}, i));
  const auto refused = r->reserve(4);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(r->sq_ready(), 5u);

  auto sq = r->reserve(3);  // exactly what is left
  ASSERT_TRUE(sq.has_value()) << sq.error().message();
  for (unsigned i = 5; i < 8; ++i) sq->push(ops::nop{}, i);
  EXPECT_EQ(r->sq_space_left(), 0u);
  EXPECT_FALSE(r->push(ops::nop{}, 99));
  EXPECT_EQ(r->reserve(1).error(), std::errc::resource_unavailable_try_again);
  ASSERT_EQ(complete(*r, 8), iota(0, 8));

  // Submitting made the room again.
  EXPECT_TRUE(r->reserve(8).has_value());
}

TEST(ring_reserve, more_than_the_sq_holds_is_einval) {
  auto r = ring<>::create(8);
  ASSERT_TRUE(r.has_value());
  const auto refused = r->reserve(r->sq_entries() + 1);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), std::errc::invalid_argument);
  EXPECT_EQ(r->sq_ready(), 0u);
}

TEST(ring_reserve, unused_room_submits_nothing) {
  auto r = ring<>::create(8);
  ASSERT_TRUE(r.has_value());
  {
    auto sq = r->reserve(8);
    ASSERT_TRUE(sq.has_value());
    for (unsigned i = 0; i < 3; ++i) sq->push(ops::nop{}, 10 + i);
    EXPECT_EQ(sq->remaining(), 5u);
  }
  EXPECT_EQ(r->sq_ready(), 3u);
  ASSERT_EQ(complete(*r, 3), iota(10, 3));
  EXPECT_EQ(r->cq_ready(), 0u);
  EXPECT_TRUE(r->reserve(0).has_value());  // an empty batch is a batch
  const auto s = r->submit();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, 0u);
}

TEST(ring_reserve, mixes_with_push_and_submit) {
  auto r = ring<>::create(8);
  ASSERT_TRUE(r.has_value());
  auto sq = r->reserve(6);
  ASSERT_TRUE(sq.has_value());
  sq->push(ops::nop{}, 0);
  sq->push(ops::nop{}, 1);
  ASSERT_TRUE(r->push(ops::nop{}, 2));  // counts against the reservation's room
  EXPECT_EQ(sq->remaining(), 3u);
  // The ring's submit sees what the reservation pushed.
  ASSERT_EQ(complete(*r, 3), iota(0, 3));
  sq->push(ops::nop{}, 3);
  sq->push(ops::nop{}, 4);
  sq->push(ops::nop{}, 5);
  EXPECT_EQ(sq->remaining(), 0u);
  ASSERT_EQ(complete(*r, 3), iota(3, 3));
}

// Operations keep what push checks at compile time and does: a 32-byte CQE's extras arrive on a
// cqe32 ring, SQE options are applied (a link orders the chain; a failed head cancels the rest).
TEST(ring_reserve, pushes_carry_options_and_big_cqes) {
  if (const auto why = urine::test::lacks_nop32(); !why.empty()) GTEST_SKIP() << why;
  auto r = ring<cqe32>::create(8);
  ASSERT_TRUE(r.has_value());
  {
    auto sq = r->reserve(3);
    ASSERT_TRUE(sq.has_value());
    sq->push(ops::nop32{.extra1 = 7, .extra2 = 9}, 1);
    sq->push(ops::nop{.inject = true, .inject_result = -EIO}, 2, {.flags = sqe_flags::io_link});
    sq->push(ops::nop{}, 3);
  }
  ASSERT_TRUE(r->submit_and_wait(3).has_value());
  std::vector<std::pair<std::uint64_t, int>> got;
  r->for_each_cqe([&](auto c) {
    got.emplace_back(c.user_data().value(), c.result());
    if (c.user_data().value() == 1) {
      EXPECT_EQ(c.extra()[0], 7u);
      EXPECT_EQ(c.extra()[1], 9u);
    }
  });
  std::sort(got.begin(), got.end());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].second, 0);
  EXPECT_EQ(got[1].second, -EIO);
  EXPECT_EQ(got[2].second, -ECANCELED);
}

// A 128-byte NOP goes only on a 128-byte ring (a compile error elsewhere, see compile_fail/); the
// kernel reads it at the 128-byte stride, whether or not it knows the opcode. It goes last: a
// kernel that refuses it stops submitting there.
TEST(ring_reserve, nop128_on_sqe128) {
  if (const std::string why = urine::test::lacks_ring<ring<sqe128>>(); !why.empty())
    GTEST_SKIP() << why;
  auto r = ring<sqe128>::create(4);
  ASSERT_TRUE(r.has_value());
  auto sq = r->reserve(3);
  ASSERT_TRUE(sq.has_value());
  sq->push(ops::nop{}, 1);
  sq->push(ops::nop{}, 2);
  sq->push(ops::nop128{}, 3);
  ASSERT_TRUE(r->submit_and_wait(3).has_value());
  std::vector<std::pair<std::uint64_t, int>> got;
  r->for_each_cqe([&](auto c) { got.emplace_back(c.user_data().value(), c.result()); });
  std::sort(got.begin(), got.end());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], std::make_pair(std::uint64_t{1}, 0));
  EXPECT_EQ(got[1], std::make_pair(std::uint64_t{2}, 0));
  EXPECT_EQ(got[2].first, 3u);
  EXPECT_EQ(got[2].second, test::kernel_has(opcode::nop128) ? 0 : -EINVAL);
}

// SQPOLL: the kernel thread moves the head; a reservation refused for want of room succeeds once
// the thread has consumed the SQ.
TEST(ring_reserve, sqpoll_room_returns_after_wait_for_sq_space) {
  auto r = ring<sqpoll>::create(4);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  std::uint64_t next = 0;
  for (unsigned round = 0; round < 20; ++round) {
    auto sq = r->reserve(4);
    while (!sq) {
      ASSERT_EQ(sq.error(), std::errc::resource_unavailable_try_again);
      ASSERT_TRUE(r->wait_for_sq_space().has_value());
      sq = r->reserve(4);
    }
    for (unsigned i = 0; i < 4; ++i) sq->push(ops::nop{}, next + i);
    ASSERT_EQ(complete(*r, 4), iota(next, 4)) << "round " << round;
    next += 4;
  }
}

#ifndef NDEBUG
TEST(ring_reserve_death, pushing_more_than_reserved_is_caught_in_debug_builds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto r = ring<>::create(8);
        auto sq = r->reserve(1);
        sq->push(ops::nop{}, 1);
        sq->push(ops::nop{}, 2);
      },
      "more SQEs than were reserved");
}
#endif

}  // namespace
