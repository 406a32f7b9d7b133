// Submission and completion queue behaviour on the real kernel: a full SQ says so, completions
// beyond the CQ's size are kept by the kernel and delivered (none lost, none twice), waits time
// out with ETIME, batches are reaped with one head update, and user data round-trips.
#include <gtest/gtest.h>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <set>
#include <span>
#include <system_error>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;
namespace abi = urine::abi;  // libstdc++ declares a global ::abi too
using namespace std::chrono_literals;

TEST(ring_queue, full_sq_returns_null_and_recovers_after_submit) {
  auto r = ring<>::create(8);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  for (unsigned i = 0; i < 8; ++i) ASSERT_TRUE(r->push(ops::nop{}, i)) << i;
  EXPECT_EQ(r->sq_space_left(), 0u);
  EXPECT_EQ(r->get_sqe(), nullptr);
  EXPECT_FALSE(r->push(ops::nop{}, 99));
  EXPECT_EQ(r->sq_ready(), 8u);

  const auto n = r->submit_and_wait(8);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 8u);
  EXPECT_EQ(r->sq_space_left(), 8u);
  std::set<std::uint64_t> seen;
  EXPECT_EQ(r->for_each_cqe([&](auto c) { seen.insert(c.user_data().value()); }), 8u);
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_TRUE(r->push(ops::nop{}, 8));
}

// Submit four times the CQ's capacity without reaping: the kernel keeps what does not fit
// (IORING_FEAT_NODROP) and urine pulls it in as room appears. Every user_data exactly once.
template <class R>
void overflow_loses_nothing() {
  if (const std::string why = urine::test::lacks_ring<R>(); !why.empty()) GTEST_SKIP() << why;
  auto r = R::create(setup{.entries = 16, .cq_entries = 16});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_TRUE(has(r->features(), feature_flags::nodrop));
  constexpr unsigned total = 16 * 4 + 8;
  unsigned pushed = 0;
  while (pushed < total) {
    while (pushed < total && r->push(ops::nop{}, pushed)) ++pushed;
    ASSERT_TRUE(r->submit().has_value());
  }
  if constexpr (!R::is_deferred) EXPECT_TRUE(r->cq_has_overflow());
  std::vector<unsigned> count(total, 0);
  unsigned reaped = 0;
  while (reaped < total) {
    auto c = r->wait_cqe();
    ASSERT_TRUE(c.has_value()) << c.error().message();
    ASSERT_LT(c->user_data().value(), total);
    ++count[c->user_data().value()];
    EXPECT_EQ(c->result(), 0);
    r->cqe_seen(*c);
    ++reaped;
  }
  EXPECT_TRUE(std::all_of(count.begin(), count.end(), [](unsigned n) { return n == 1; }));
  EXPECT_FALSE(r->cq_has_overflow());
  EXPECT_EQ(r->cq_overflow(), 0u);
  EXPECT_FALSE(r->peek_cqe());
}

TEST(ring_queue, cq_overflow_loses_nothing) { overflow_loses_nothing<ring<>>(); }
TEST(ring_queue, cq_overflow_loses_nothing_on_cqe32) { overflow_loses_nothing<ring<cqe32>>(); }
TEST(ring_queue, cq_overflow_loses_nothing_deferred) {
  overflow_loses_nothing<ring<defer_task_run<>>>();
}

TEST(ring_queue, overflow_is_flushed_by_for_each_too) {
  auto r = ring<>::create(setup{.entries = 8, .cq_entries = 8});
  ASSERT_TRUE(r.has_value());
  for (int round = 0; round < 3; ++round) {
    for (unsigned i = 0; i < 8; ++i) ASSERT_TRUE(r->push(ops::nop{}, round * 8 + i));
    ASSERT_TRUE(r->submit().has_value());
  }
  std::set<std::uint64_t> seen;
  while (seen.size() < 24) {
    const unsigned n =
        r->for_each_cqe([&](auto c) { EXPECT_TRUE(seen.insert(c.user_data().value()).second); });
    if (n == 0) ASSERT_TRUE(r->wait(1).has_value());
  }
  EXPECT_EQ(seen.size(), 24u);
}

TEST(ring_queue, wait_with_timeout_gives_etime) {
  auto r = ring<>::create(4);
  ASSERT_TRUE(r.has_value());
  const auto start = std::chrono::steady_clock::now();
  const auto w = r->wait_for(1, 20ms);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error(), std::errc::stream_timeout) << w.error().message();  // ETIME
  EXPECT_GE(std::chrono::steady_clock::now() - start, 15ms);

  // With work in flight the same wait returns as soon as it completes.
  ASSERT_TRUE(r->push(ops::nop{}, 5));
  const auto s = r->submit_and_wait_for(1, 5s);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  auto c = r->peek_cqe();
  ASSERT_TRUE(c);
  EXPECT_EQ(c.user_data().value(), 5u);
}

TEST(ring_queue, min_wait_returns_fewer_after_the_minimum) {
  auto r = ring<>::create(4);
  ASSERT_TRUE(r.has_value());
  if (!has(r->features(), feature_flags::min_timeout))
    GTEST_SKIP() << "kernel lacks IORING_FEAT_MIN_TIMEOUT (6.12)";
  ASSERT_TRUE(r->push(ops::nop{}, 1));
  // Ask for 2 completions with a 10 ms minimum wait and a 5 s timeout: only one will come, so
  // the kernel returns it once the minimum has passed instead of waiting out the timeout.
  const auto start = std::chrono::steady_clock::now();
  const auto s = r->submit_and_wait_for(2, 5s, 10ms);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_EQ(r->cq_ready(), 1u);
}

TEST(ring_queue, copy_cqes_detaches_completions) {
  if (const auto why = urine::test::lacks_nop32() + urine::test::lacks_nop_inject(); !why.empty())
    GTEST_SKIP() << why;
  auto r = ring<cqe32>::create(8);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->push(ops::nop{}, 1));
  ASSERT_TRUE(r->push(ops::nop32{.extra1 = 10, .extra2 = 20}, 2));
  ASSERT_TRUE(r->push(ops::nop{.inject = true, .inject_result = -5}, 3));
  ASSERT_TRUE(r->submit_and_wait(3).has_value());
  std::array<abi::cqe32, 8> out{};
  ASSERT_EQ(r->copy_cqes(out), 3u);
  std::sort(out.begin(), out.begin() + 3,
            [](auto& a, auto& b) { return a.user_data < b.user_data; });
  EXPECT_EQ(out[0].res, 0);
  EXPECT_EQ(out[1].big_cqe[0], 10u);
  EXPECT_EQ(out[1].big_cqe[1], 20u);
  EXPECT_EQ(out[2].res, -5);
  EXPECT_EQ(r->cq_ready(), 0u);
}

TEST(ring_queue, error_results_read_as_error_codes) {
  if (const auto why = urine::test::lacks_nop_inject(); !why.empty()) GTEST_SKIP() << why;
  auto r = ring<>::create(4);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->push(ops::nop{.inject = true, .inject_result = -ENOENT}, 1));
  ASSERT_TRUE(r->push(ops::read{-1, buffer(nullptr, 0)}, 2));
  ASSERT_TRUE(r->submit_and_wait(2).has_value());
  std::vector<std::pair<std::uint64_t, std::error_code>> got;
  r->for_each_cqe([&](auto c) {
    EXPECT_FALSE(c.ok());
    got.emplace_back(c.user_data().value(), c.error());
  });
  std::sort(got.begin(), got.end(), [](auto& a, auto& b) { return a.first < b.first; });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].second, std::errc::no_such_file_or_directory);
  EXPECT_EQ(got[1].second, std::errc::bad_file_descriptor);
}

// cqe_mixed: 16- and 32-byte completions interleaved over many wraps of a small CQ, so the kernel
// must pad with F_SKIP entries; every completion arrives once, with its extras intact.
TEST(ring_queue, mixed_cqes_survive_wrap_around) {
  if (const auto why = urine::test::lacks(setup_flags::cqe_mixed); !why.empty())
    GTEST_SKIP() << why;
  auto r = ring<cqe_mixed>::create(setup{.entries = 8, .cq_entries = 8});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  std::uint64_t next = 0;
  for (int round = 0; round < 40; ++round) {
    const unsigned batch = 1 + round % 3;  // up to 3 entries, at most 5 slots: fits in 8
    for (unsigned i = 0; i < batch; ++i, ++next) {
      if (next % 2 == 0)
        ASSERT_TRUE(r->push(ops::nop32{.extra1 = next * 3, .extra2 = ~next}, next));
      else
        ASSERT_TRUE(r->push(ops::nop{}, next));
    }
    ASSERT_TRUE(r->submit_and_wait(batch).has_value());
    std::vector<std::uint64_t> seen;
    r->for_each_cqe([&](auto c) {
      const std::uint64_t ud = c.user_data().value();
      seen.push_back(ud);
      EXPECT_EQ(c.big(), ud % 2 == 0) << ud;
      if (c.big()) {
        EXPECT_EQ(c.extra()[0], ud * 3);
        EXPECT_EQ(c.extra()[1], ~ud);
      }
    });
    std::sort(seen.begin(), seen.end());
    std::vector<std::uint64_t> want(batch);
    for (unsigned i = 0; i < batch; ++i) want[i] = next - batch + i;
    ASSERT_EQ(seen, want) << "round " << round;
  }
}

TEST(ring_queue, user_data_round_trips_integers_and_pointers) {
  auto r = ring<>::create(4);
  ASSERT_TRUE(r.has_value());
  struct request {
    int id;
  } req{17};
  ASSERT_TRUE(r->push(ops::nop{}, &req));
  ASSERT_TRUE(r->push(ops::nop{}, std::uint64_t{0xfedcba9876543210}));
  ASSERT_TRUE(r->push(ops::nop{}, -1));
  ASSERT_TRUE(r->submit_and_wait(3).has_value());
  std::vector<user_data> got;
  r->for_each_cqe([&](auto c) { got.push_back(c.user_data()); });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(std::find(got.begin(), got.end(), user_data(&req)) != got.end());
  EXPECT_TRUE(std::find(got.begin(), got.end(), user_data(std::uint64_t{0xfedcba9876543210})) !=
              got.end());
  EXPECT_TRUE(std::find(got.begin(), got.end(), user_data(~std::uint64_t{0})) != got.end());
  for (auto ud : got)
    if (ud == user_data(&req)) EXPECT_EQ(ud.pointer<request>()->id, 17);
}

TEST(ring_queue, unsubmitted_sqes_are_resubmitted_after_a_partial_submit) {
  // A ring without SUBMIT_ALL stops a batch at the first SQE that fails to prepare... but each
  // SQE still completes (with its error), and a following submit hands over any remainder.
  auto r = ring<>::create(8);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->push(ops::nop{}, 1));
  auto* bad = r->get_sqe();
  ASSERT_NE(bad, nullptr);
  *bad = abi::sqe{};
  bad->opcode = 250;  // no such opcode
  bad->user_data = 2;
  ASSERT_TRUE(r->push(ops::nop{}, 3));
  ASSERT_TRUE(r->submit().has_value());
  if (r->sq_ready() > 0) ASSERT_TRUE(r->submit().has_value());
  std::set<std::uint64_t> seen;
  while (seen.size() < 3) {
    auto c = r->wait_cqe();
    ASSERT_TRUE(c.has_value());
    if (c->user_data().value() == 2) EXPECT_EQ(c->error(), std::errc::invalid_argument);
    seen.insert(c->user_data().value());
    r->cqe_seen(*c);
  }
  EXPECT_EQ(r->sq_ready(), 0u);
}

}  // namespace

// What the ring says when the kernel lacks what a call needs, and how it reads the kernel's
// internal restart codes: as values a program can compare against.
TEST(ring_errors, a_timed_wait_without_ext_arg_names_the_feature_and_the_kernel) {
  const std::error_code e = make_error_code(ring_errc::timed_wait_needs_ext_arg);
  EXPECT_EQ(e, std::errc::function_not_supported);
  EXPECT_NE(e.message().find("IORING_FEAT_EXT_ARG (kernel 5.11)"), std::string::npos)
      << e.message();
  // On this kernel timed waits work (ETIME when nothing comes): the refusal is for kernels
  // before 5.11.
  auto r = ring<>::create(4);
  ASSERT_TRUE(r.has_value());
  if (!has(r->features(), feature_flags::ext_arg)) {
    const auto w = r->wait_for(1, std::chrono::milliseconds(1));
    ASSERT_FALSE(w.has_value());
    EXPECT_EQ(w.error(), e);
  } else {
    const auto w = r->wait_for(1, std::chrono::milliseconds(1));
    ASSERT_FALSE(w.has_value());
    EXPECT_EQ(w.error(), std::errc::stream_timeout);
  }
}

TEST(ring_errors, kernel_restart_codes_read_as_eintr) {
  for (int code = 512; code <= 516; ++code)
    EXPECT_EQ(result_code(-code), std::errc::interrupted) << code;
  EXPECT_EQ(result_code(-511), std::error_code(511, std::system_category()));
  EXPECT_EQ(result_code(-EAGAIN), std::errc::resource_unavailable_try_again);
  EXPECT_FALSE(result_code(0));
}
