// The edges of a ring's contract, each once found broken by a program using the public API only:
// a moved-from ring, a resize whose new rings cannot be mapped, a wait for more completions than
// the CQ holds, a registered ring destroyed on another thread, a cqe_mixed ring under overflow,
// and copy_cqes publishing its head once per batch. Each test failed before its fix; the ones
// that once hung or crashed run in a child process with a time bound.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

import urine;
import urine.test_support;

namespace {

using namespace urine;

template <class Ring>
Ring make(setup s) {
  auto r = Ring::create(s);
  if (!r) throw std::runtime_error(r.error().message());
  return std::move(*r);
}

// ---- a moved-from ring is a valid empty object -----------------------------------------------

template <class Ring>
class moved_from_ring : public ::testing::Test {};

using moved_from_rings =
    ::testing::Types<ring<>, ring<defer_task_run<>>, ring<registered_ring_fd>, ring<sqpoll>,
                     ring<cqe_mixed>, ring<cqe32, single_issuer, registered_ring_fd>>;
TYPED_TEST_SUITE(moved_from_ring, moved_from_rings);

TYPED_TEST(moved_from_ring, refuses_everything_with_ebadf_and_finds_nothing) {
  using ring_type = TypeParam;
  if (const auto reason = test::lacks_ring<ring_type>(); !reason.empty()) GTEST_SKIP() << reason;
  auto a = make<ring_type>({.entries = 4});
  ASSERT_TRUE(a.push(ops::nop{}, 1));
  ring_type b = std::move(a);
  EXPECT_FALSE(static_cast<bool>(a));
  EXPECT_TRUE(static_cast<bool>(b));

  EXPECT_FALSE(a.push(ops::nop{}, 2));
  EXPECT_EQ(a.get_sqe(), nullptr);
  const auto reserved = a.reserve(1);
  ASSERT_FALSE(reserved.has_value());
  EXPECT_EQ(reserved.error().value(), EBADF);
  for (const auto& r : {a.submit(), a.submit_and_wait(1), a.wait(1), a.get_events(),
                        a.wait_for(1, std::chrono::milliseconds(1))}) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().value(), EBADF) << r.error().message();
  }
  EXPECT_FALSE(a.peek_cqe());
  EXPECT_EQ(a.for_each_cqe([](auto) {}), 0u);
  EXPECT_EQ(a.cq_ready(), 0u);
  EXPECT_EQ(a.sq_ready(), 0u);
  EXPECT_EQ(a.sq_entries(), 0u);
  EXPECT_EQ(a.cq_entries(), 0u);
  EXPECT_EQ(a.fd(), -1);
  EXPECT_EQ(a.registered_index(), -1);

  // Moving the empty ring on keeps it empty; the ring it was moved into works, and holds the
  // SQE pushed before the move.
  ring_type c = std::move(a);
  EXPECT_FALSE(static_cast<bool>(c));
  EXPECT_FALSE(c.push(ops::nop{}, 3));
  const auto n = b.submit_and_wait(1);
  ASSERT_TRUE(n.has_value()) << n.error().message();
  const auto got = b.wait_cqe();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->user_data().value(), 1u);

  // A moved-from ring takes a new ring by assignment and is whole again.
  a = make<ring_type>({.entries = 4});
  ASSERT_TRUE(a.push(ops::nop{}, 4));
  ASSERT_TRUE(a.submit_and_wait(1).has_value());
  const auto again = a.wait_cqe();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->user_data().value(), 4u);
}

// ---- a failed resize leaves a ring that refuses everything -------------------------------------

std::size_t virtual_size() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  return 0;
}

TEST(ring_edges, a_resize_whose_rings_cannot_be_mapped_closes_the_ring) {
  using ring_type = ring<defer_task_run<>>;
  if (const auto reason = test::lacks(ring_type::config::flags); !reason.empty())
    GTEST_SKIP() << reason;
  if (!query_kernel_support().known ||
      query_kernel_support().register_opcodes <=
          static_cast<unsigned>(register_opcode::register_resize_rings))
    GTEST_SKIP() << "kernel lacks IORING_REGISTER_RESIZE_RINGS (since 6.13)";
  const test::child_end end = test::run_in_child([] {
    auto r = ring_type::create(setup{.entries = 4});
    if (!r) return 10;
    // Room for small allocations, none for the new rings' 1 MiB of SQEs.
    const rlimit cap{virtual_size() + (256 << 10), RLIM_INFINITY};
    if (::setrlimit(RLIMIT_AS, &cap) != 0) return 11;
    const auto resized = resize_rings(*r, 16384, 32768);
    if (resized) return 12;  // the mapping was expected to fail
    if (resized.error().code().value() != ENOMEM) return 13;
    if (resized.error().message().find("the ring is closed") == std::string::npos) return 14;
    // Before the fix, this wrote into the old, unmapped SQE array.
    if (r->push(ops::nop{}, 1)) return 15;
    const auto submitted = r->submit_and_wait(1);
    if (submitted || submitted.error().value() != EBADF) return 16;
    if (r->peek_cqe()) return 17;
    if (static_cast<bool>(*r)) return 18;
    return 0;
  });
  EXPECT_TRUE(end.succeeded()) << "child exit " << end.code << ", signal " << end.signal;
}

// ---- wait(n) beyond the CQ size --------------------------------------------------------------

template <class Ring>
int wait_past_the_cq() {
  auto r = Ring::create(setup{.entries = 4, .cq_entries = 8});
  if (!r) return 10;
  for (int round = 0; round < 2; ++round) {
    if constexpr (Ring::is_sqpoll) {
      if (round > 0 && !r->wait_for_sq_space()) return 14;
    }
    for (int i = 0; i < 4; ++i)
      if (!r->push(ops::nop{}, 1)) return 11;
    if (!r->submit()) return 12;
  }
  // 8 completions fit; waiting for 100 is waiting for a full CQ.
  const auto n = r->wait(100);
  if (!n || *n != 8) return 13;
  return 0;
}

template <class Ring>
class wait_beyond_the_cq : public ::testing::Test {};
using wait_rings =
    ::testing::Types<ring<>, ring<defer_task_run<>>, ring<coop_task_run<true>>, ring<sqpoll>>;
TYPED_TEST_SUITE(wait_beyond_the_cq, wait_rings);

TYPED_TEST(wait_beyond_the_cq, returns_a_full_cq_on_every_policy_set) {
  if (const auto reason = test::lacks(TypeParam::config::flags); !reason.empty())
    GTEST_SKIP() << reason;
  const test::child_end end = test::run_in_child(wait_past_the_cq<TypeParam>, 10);
  EXPECT_TRUE(end.succeeded()) << "child exit " << end.code << ", signal " << end.signal
                               << (end.signal == SIGALRM ? " (wait(100) never returned)" : "");
}

// ---- a registered ring destroyed on another thread ---------------------------------------------

TEST(ring_edges, destroying_a_registered_ring_on_another_thread_leaves_that_threads_ring_alone) {
  using ring_type = ring<registered_ring_fd>;
  if (const auto reason = test::lacks_registered_ring_fds(); !reason.empty())
    GTEST_SKIP() << reason;
  auto foreign = make<ring_type>({.entries = 4});
  std::string failure;
  std::thread([&] {
    // One of this thread's own rings takes the index `foreign` has in its creator's table.
    std::vector<ring_type> mine;
    while (mine.size() < 16 &&
           (mine.empty() || mine.back().registered_index() != foreign.registered_index()))
      mine.push_back(make<ring_type>({.entries = 4}));
    ring_type& own = mine.back();
    if (own.registered_index() != foreign.registered_index()) {
      failure = "no ring of this thread took the index; the test proves nothing";
      return;
    }
    {
      ring_type dropped = std::move(foreign);
    }  // destroyed here, on the wrong thread
    if (!own.push(ops::nop{}, 7)) failure = "push";
    const auto n = own.submit_and_wait(1);
    if (!n) {
      failure = "this thread's ring was broken: " + n.error().message();
      return;
    }
    const auto c = own.wait_cqe();
    if (!c || c->user_data().value() != 7u) failure = "no completion on this thread's ring";
  }).join();
  EXPECT_EQ(failure, "");
}

// ---- cqe_mixed under CQ overflow
// -----------------------------------------------------------------

// Runs `rounds` batches of 4 NOPs, 16- and 32-byte by `pattern`, reaping every `reap_every`
// batches; exit 0 when every completion came at most once (and, with `all`, exactly once).
int mixed_rounds(unsigned pattern, unsigned reap_every, bool all) {
  auto r = ring<cqe_mixed>::create(setup{.entries = 4, .cq_entries = 8});
  if (!r) return 10;
  constexpr unsigned rounds = 24;
  const auto big = [pattern](std::uint64_t id) { return ((pattern >> (id % 6)) & 1) != 0; };
  std::vector<unsigned> seen(rounds * 4, 0);
  bool wrong = false;
  const auto count = [&](auto c) {
    const std::uint64_t id = c.user_data().value();
    if (id >= seen.size() || c.result() != 0 || c.big() != big(id) || ++seen[id] > 1) wrong = true;
  };
  std::uint64_t next = 0;
  for (unsigned round = 0; round < rounds; ++round) {
    for (int i = 0; i < 4; ++i, ++next)
      if (!(big(next) ? r->push(ops::nop32{}, next) : r->push(ops::nop{}, next))) return 11;
    if (!r->submit()) return 12;
    if (round % reap_every == reap_every - 1) r->for_each_cqe(count);
  }
  for (int tries = 0; tries < 100; ++tries)
    if (r->for_each_cqe(count) == 0 && !r->get_events()) return 13;
  if (wrong) return 14;  // a duplicate, a stale or foreign entry, or one of the wrong size
  if (all)
    for (unsigned id = 0; id < next; ++id)
      if (seen[id] != 1) return 15;
  return 0;
}

// mixed_rounds for each of the 64 placements of 32-byte completions, each in a bounded child.
void every_placement(unsigned reap_every, bool all) {
  if (const auto reason = test::lacks(ring<cqe_mixed>::config::flags); !reason.empty())
    GTEST_SKIP() << reason;
  for (unsigned pattern = 0; pattern < 64; ++pattern) {
    const test::child_end end =
        test::run_in_child([=] { return mixed_rounds(pattern, reap_every, all); });
    EXPECT_TRUE(end.succeeded()) << "pattern " << pattern << ": child exit " << end.code
                                 << ", signal " << end.signal
                                 << (end.signal == SIGALRM ? " (the reaping loop never ended)"
                                                           : "");
  }
}

// Reaped after every batch, the CQ never fills: each completion exactly once, padding entries at
// the wrap passed over, for every placement of the 32-byte ones.
TEST(ring_edges, a_cqe_mixed_ring_reaps_every_completion_once_across_the_wrap) {
  every_placement(1, true);
}

// Reaped every 7th batch, completions pile up past the 8 slots. Some placements meet the kernel's
// cqe_mixed overflow defect (docs/reliability.md): the ring must still end every walk, never hand
// out an entry twice or a stale one, and reap all the kernel did not lose.
TEST(ring_edges, a_cqe_mixed_ring_under_overflow_never_repeats_or_hangs) {
  every_placement(7, false);
}

// ---- copy_cqes publishes its head once per batch -----------------------------------------------

/// The default memory order, counting the shared-index accesses of this thread.
struct counting_order : acquire_release {
  static inline thread_local unsigned tail_loads = 0;
  static inline thread_local unsigned head_stores = 0;
  static inline std::uint32_t load_kernel_index(const std::uint32_t* p) noexcept {
    ++tail_loads;
    return acquire_release::load_kernel_index(p);
  }
  static inline void publish(std::uint32_t* p, std::uint32_t v) noexcept {
    ++head_stores;
    acquire_release::publish(p, v);
  }
};

TEST(ring_edges, copy_cqes_reads_the_tail_once_and_publishes_the_head_once) {
  auto r = make<ring<counting_order>>({.entries = 8});
  for (std::uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(r.push(ops::nop{}, i));
  ASSERT_TRUE(r.submit_and_wait(8).has_value());
  std::vector<ring<counting_order>::copied_cqe_type> out(6);
  counting_order::tail_loads = counting_order::head_stores = 0;
  EXPECT_EQ(r.copy_cqes(out), 6u);
  EXPECT_EQ(counting_order::tail_loads, 1u);
  EXPECT_EQ(counting_order::head_stores, 1u);
  for (std::uint64_t i = 0; i < 6; ++i) EXPECT_EQ(out[i].user_data, i);
  EXPECT_EQ(r.cq_ready(), 2u);
  EXPECT_EQ(r.copy_cqes(out), 2u);
  EXPECT_EQ(out[1].user_data, 7u);
}

}  // namespace
