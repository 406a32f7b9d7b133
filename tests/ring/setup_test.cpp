// Ring setup on the real kernel: each of the 19 setup flags of 6.18 reaches the kernel and does
// what it says; bad input is refused with an error that names what was refused, without leaking
// a descriptor or a mapping; a ring releases everything exactly once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;
namespace abi = urine::abi;  // libstdc++ declares a global ::abi too
using urine::test::fd_count;
using urine::test::mapping_count;

template <class R>
R make(const setup& s) {
  auto r = R::create(s);
  if (!r) throw std::system_error(r.error().code(), r.error().message());
  return std::move(*r);
}

// Page-aligned anonymous memory the test owns, as a NO_MMAP ring's caller would provide.
struct owned_memory {
  std::byte* p = nullptr;
  std::size_t n = 0;
  explicit owned_memory(std::size_t size) : n(size) {
    void* m = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::system_error(errno, std::system_category(), "mmap");
    p = static_cast<std::byte*>(m);
  }
  ~owned_memory() { ::munmap(p, n); }
  std::span<std::byte> span() const { return {p, n}; }
};

template <class R>
void nop_round_trip(R& r, std::uint64_t ud = 1) {
  ASSERT_TRUE(r.push(ops::nop{}, ud));
  // Bounded where the kernel has timed waits (5.11): a NOP completes at once, so five seconds
  // without it is a failure, not a wait.
  const auto n = has(r.features(), feature_flags::ext_arg)
                     ? r.submit_and_wait_for(1, std::chrono::seconds(5))
                     : r.submit_and_wait(1);
  ASSERT_TRUE(n.has_value()) << n.error().message();
  auto c = r.peek_cqe();
  ASSERT_TRUE(c);
  EXPECT_EQ(c.user_data().value(), ud);
  r.cqe_seen(c);
}

// Creation must fail, name what was refused, and leave no descriptor or mapping behind.
template <class R>
void expect_refused(const setup& s, std::errc code, const std::string& words) {
  const std::size_t fds = fd_count();
  const std::size_t maps = mapping_count();
  auto r = R::create(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), code) << r.error().message();
  EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
  EXPECT_EQ(fd_count(), fds);
  EXPECT_EQ(mapping_count(), maps);
}

// ---- each flag --------------------------------------------------------------------------------

// Each ring type's flags reach the kernel; a type whose flags the kernel lacks is refused with a
// sentence naming them (and is reported as not checked here).
template <class R>
void flags_reach_the_kernel(unsigned& checked) {
  if (const auto why = urine::test::lacks(R::config::flags); !why.empty()) {
    std::printf("not checked: %s\n", why.c_str());
    const auto refused = R::create({.entries = 4});
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message().find("IORING_SETUP_"), std::string::npos)
        << refused.error().message();
    return;
  }
  auto r = make<R>({.entries = 4});
  EXPECT_TRUE(has(r.flags(), R::config::flags)) << describe(r.flags());
  ++checked;
}

TEST(ring_setup, policy_flags_reach_the_kernel) {
  unsigned checked = 0;
  flags_reach_the_kernel<ring<iopoll>>(checked);
  flags_reach_the_kernel<ring<hybrid_iopoll>>(checked);
  flags_reach_the_kernel<ring<sqpoll>>(checked);
  flags_reach_the_kernel<ring<coop_task_run<true>>>(checked);
  flags_reach_the_kernel<ring<sqe128, cqe32, defer_task_run<>>>(checked);
  flags_reach_the_kernel<ring<cqe_mixed, single_issuer>>(checked);
  EXPECT_GT(checked, 0u) << "the kernel took none of the policy sets";
}

TEST(ring_setup, sq_aff_pins_the_sq_thread) {
  auto r = make<ring<sqpoll>>({.entries = 4, .sq_thread_idle_ms = 100, .sq_thread_cpu = 0});
  EXPECT_TRUE(has(r.flags(), setup_flags::sqpoll | setup_flags::sq_aff));
  EXPECT_EQ(r.params().sq_thread_cpu, 0u);
  EXPECT_EQ(r.params().sq_thread_idle, 100u);
  nop_round_trip(r);
  // Another CPU for the same ring type; none asked, no SQ_AFF.
  const unsigned cpus = std::thread::hardware_concurrency();
  auto o = make<ring<sqpoll>>({.entries = 4, .sq_thread_cpu = static_cast<int>(cpus - 1)});
  EXPECT_TRUE(has(o.flags(), setup_flags::sq_aff));
  EXPECT_EQ(o.params().sq_thread_cpu, cpus - 1);
  nop_round_trip(o);
  auto any = make<ring<sqpoll>>({.entries = 4});
  EXPECT_FALSE(has(any.flags(), setup_flags::sq_aff));
}

TEST(ring_setup, cqsize_sets_the_cq) {
  auto r = make<ring<>>({.entries = 4, .cq_entries = 64});
  EXPECT_TRUE(has(r.flags(), setup_flags::cqsize));
  EXPECT_EQ(r.cq_entries(), 64u);
  auto d = make<ring<>>({.entries = 4});
  EXPECT_EQ(d.cq_entries(), 8u);  // the kernel's default: twice the SQ
}

TEST(ring_setup, clamp_caps_oversized_rings) {
  auto r = make<ring<>>({.entries = 100000, .cq_entries = 1000000, .clamp = true});
  EXPECT_TRUE(has(r.flags(), setup_flags::clamp));
  EXPECT_EQ(r.sq_entries(), 32768u);
  EXPECT_EQ(r.cq_entries(), 65536u);
  nop_round_trip(r);
}

TEST(ring_setup, attach_wq_shares_the_worker_pool) {
  auto first = make<ring<>>({.entries = 4});
  auto second = make<ring<>>({.entries = 4, .attach_wq = first.fd()});
  EXPECT_TRUE(has(second.flags(), setup_flags::attach_wq));
  // Forced-async work goes through the shared io-wq.
  ASSERT_TRUE(second.push(ops::nop{}, 1, {.flags = sqe_flags::async}));
  ASSERT_TRUE(second.submit_and_wait(1).has_value());
  EXPECT_EQ(second.peek_cqe().user_data().value(), 1u);
}

TEST(ring_setup, r_disabled_refuses_submission_until_enabled) {
  auto r = make<ring<>>({.entries = 4, .disabled = true});
  EXPECT_TRUE(has(r.flags(), setup_flags::r_disabled));
  ASSERT_TRUE(r.push(ops::nop{}, 1));
  const auto refused = r.submit();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().value(), EBADFD) << refused.error().message();
  // urine.registration's enable_rings() is the public door; this suite stays on urine.ring.
  ASSERT_EQ(r.register_raw(register_opcode::register_enable_rings, nullptr, 0), 0);
  const auto n = r.submit_and_wait(1);
  ASSERT_TRUE(n.has_value()) << n.error().message();
  EXPECT_EQ(r.peek_cqe().user_data().value(), 1u);
}

TEST(ring_setup, submit_all_goes_past_a_bad_sqe) {
  if (const std::string why = urine::test::lacks(setup_flags::submit_all); !why.empty())
    GTEST_SKIP() << why;
  auto r = make<ring<>>({.entries = 8, .submit_all = true});
  EXPECT_TRUE(has(r.flags(), setup_flags::submit_all));
  ASSERT_TRUE(r.push(ops::nop{}, 1));
  auto* bad = r.get_sqe();
  *bad = abi::sqe{};
  bad->opcode = 250;
  bad->user_data = 2;
  ASSERT_TRUE(r.push(ops::nop{}, 3));
  const auto n = r.submit();
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 3u);  // all three in one call, the bad one failing on its own CQE
  ASSERT_TRUE(r.wait(3).has_value());
  int failed = 0;
  r.for_each_cqe([&](auto c) { failed += c.ok() ? 0 : 1; });
  EXPECT_EQ(failed, 1);
}

// NO_SQARRAY (6.6) is used wherever the kernel has it; before, the default quietly keeps the
// array and requiring its absence is refused with the flag's name.
TEST(ring_setup, no_sqarray_is_the_default_and_keep_keeps_it) {
  const bool kernel_has_it = urine::test::lacks(setup_flags::no_sqarray).empty();
  auto omit = make<ring<>>({.entries = 4});
  EXPECT_EQ(has(omit.flags(), setup_flags::no_sqarray), kernel_has_it);
  nop_round_trip(omit);
  auto keep = make<ring<>>({.entries = 4, .sq_array = sq_array_mode::keep});
  EXPECT_FALSE(has(keep.flags(), setup_flags::no_sqarray));
  nop_round_trip(keep);
  if (kernel_has_it) {
    auto required = make<ring<>>({.entries = 4, .sq_array = sq_array_mode::omit});
    EXPECT_TRUE(has(required.flags(), setup_flags::no_sqarray));
  } else {
    expect_refused<ring<>>({.entries = 4, .sq_array = sq_array_mode::omit},
                           std::errc::invalid_argument, "NO_SQARRAY");
  }
}

TEST(ring_setup, no_mmap_builds_the_ring_in_caller_memory) {
  if (const auto why = urine::test::lacks(setup_flags::no_mmap); !why.empty()) GTEST_SKIP() << why;
  const auto need = no_mmap_size(8, 0, sizeof(abi::sqe), sizeof(abi::cqe));
  owned_memory rings(need.rings), sqes(need.sqes);
  {
    auto r = make<ring<>>({.entries = 8, .memory = {rings.span(), sqes.span()}});
    EXPECT_TRUE(has(r.flags(), setup_flags::no_mmap));
    for (int i = 0; i < 20; ++i) nop_round_trip(r, i);  // several laps of the 8-entry SQ
  }
  // 128-byte SQEs need twice the SQE memory; the size helper says so.
  const auto big = no_mmap_size(8, 0, sizeof(abi::sqe128), sizeof(abi::cqe32));
  EXPECT_EQ(big.sqes, std::max(need.sqes, std::size_t{8} * 128));
}

TEST(ring_setup, registered_fd_only_ring_has_no_fd) {
  if (const auto why = urine::test::lacks(setup_flags::registered_fd_only | setup_flags::no_mmap);
      !why.empty())
    GTEST_SKIP() << why;
  const auto need = no_mmap_size(8, 0, sizeof(abi::sqe), sizeof(abi::cqe));
  owned_memory rings(need.rings), sqes(need.sqes);
  const std::size_t fds_before = fd_count();
  {
    auto r = make<ring<registered_ring_fd>>(
        {.entries = 8, .memory = {rings.span(), sqes.span()}, .registered_fd_only = true});
    EXPECT_TRUE(has(r.flags(), setup_flags::registered_fd_only | setup_flags::no_mmap));
    EXPECT_EQ(r.fd(), -1);
    EXPECT_GE(r.registered_index(), 0);
    EXPECT_EQ(fd_count(), fds_before);  // no descriptor exists for this ring
    nop_round_trip(r);
  }
  // Destroying it unregistered the index, which freed the ring: a new one can take the slot. It
  // gets memory of its own: the kernel may finish tearing the first ring down after the call
  // returns (6.12 does), and its pages must not be shared with a live ring meanwhile.
  owned_memory rings2(need.rings), sqes2(need.sqes);
  auto again = make<ring<registered_ring_fd>>(
      {.entries = 8, .memory = {rings2.span(), sqes2.span()}, .registered_fd_only = true});
  nop_round_trip(again);
}

TEST(ring_setup, single_issuer_refuses_a_second_thread) {
  if (const std::string why = urine::test::lacks(setup_flags::single_issuer); !why.empty())
    GTEST_SKIP() << why;
  auto r = make<ring<single_issuer>>({.entries = 4});
  nop_round_trip(r);
  std::error_code from_other;
  std::thread([&] {
    if (!r.push(ops::nop{}, 2)) return;
    const auto s = r.submit();
    if (!s) from_other = s.error();
  }).join();
  EXPECT_EQ(from_other.value(), EEXIST) << from_other.message();
}

// One ring per flag (or per compatible group), each created for real: together they must show
// the kernel accepting all 19 setup flags of 6.18.
TEST(ring_setup, every_setup_flag_of_6_18_reaches_the_kernel) {
  setup_flags all_6_18{};
  for (const auto& f : setup_flag_table)
    if (f.since <= kernel_version{6, 18}) all_6_18 |= f.value;
  if (const auto why = urine::test::lacks(all_6_18); !why.empty()) GTEST_SKIP() << why;

  setup_flags seen{};
  const auto accepted = [&](const auto& r) { seen |= r.flags(); };
  accepted(make<ring<iopoll>>({.entries = 4}));
  accepted(make<ring<hybrid_iopoll>>({.entries = 4}));
  accepted(make<ring<sqpoll>>({.entries = 4, .sq_thread_cpu = 0}));
  accepted(make<ring<coop_task_run<true>>>({.entries = 4}));
  accepted(make<ring<sqe128, cqe32, defer_task_run<>>>({.entries = 4}));
  accepted(make<ring<cqe_mixed>>({.entries = 4}));
  auto base = make<ring<>>(
      {.entries = 4, .cq_entries = 16, .clamp = true, .disabled = true, .submit_all = true});
  accepted(base);
  accepted(make<ring<>>({.entries = 4, .attach_wq = base.fd()}));
  const auto need = no_mmap_size(4, 0, sizeof(abi::sqe), sizeof(abi::cqe));
  owned_memory rings(need.rings), sqes(need.sqes);
  accepted(make<ring<registered_ring_fd>>(
      {.entries = 4, .memory = {rings.span(), sqes.span()}, .registered_fd_only = true}));
  EXPECT_EQ(seen & all_6_18, all_6_18) << "never accepted: " << describe(all_6_18 & ~seen);
}

// ---- bad input --------------------------------------------------------------------------------

TEST(ring_setup_errors, zero_entries) {
  expect_refused<ring<>>({.entries = 0}, std::errc::invalid_argument, "at least 1 SQ entry");
}

TEST(ring_setup_errors, too_many_entries) {
  expect_refused<ring<>>({.entries = 40000}, std::errc::invalid_argument,
                         "exceed the kernel maximum 32768");
  expect_refused<ring<>>({.entries = 8, .cq_entries = 100000}, std::errc::invalid_argument,
                         "CQ entries 100000 exceed");
  expect_refused<ring<>>({.entries = 64, .cq_entries = 8}, std::errc::invalid_argument,
                         "fewer than SQ entries");
}

TEST(ring_setup_errors, kernel_refusals_are_named) {
  auto pipe_fds = std::array<int, 2>{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  urine::test::unique_fd r0(pipe_fds[0]), r1(pipe_fds[1]);
  expect_refused<ring<>>({.entries = 4, .attach_wq = r0.get()}, std::errc::invalid_argument,
                         "ATTACH_WQ");
  expect_refused<ring<sqpoll>>({.entries = 4, .sq_thread_cpu = 4096}, std::errc::invalid_argument,
                               "SQ_AFF: CPU 4096");
}

TEST(ring_setup_errors, attach_wq_to_a_closed_descriptor_says_so) {
  int closed = -1;
  {
    auto other = make<ring<>>({.entries = 4});
    closed = ::dup(other.fd());
    ASSERT_GE(closed, 0);
    ::close(closed);  // the number is free again, and names no ring
  }
  auto r = ring<>::create({.entries = 4, .attach_wq = closed});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("ATTACH_WQ: fd " + std::to_string(closed) +
                                     " is not an open io_uring"),
            std::string::npos)
      << r.error().message();
}

TEST(ring_setup_errors, the_descriptor_limit_is_named) {
  // With no descriptor allowed the child makes no virtual call (a sanitizer's checks would need
  // descriptors of their own): it reports the error's value and sentence, and the parent checks.
  const auto end = urine::test::run_in_child([](int out) {
    const rlimit none{0, 0};  // every descriptor number is past the limit now
    if (::setrlimit(RLIMIT_NOFILE, &none) != 0) return 10;
    auto r = ring<>::create({.entries = 4});
    if (r) return 11;
    const std::string report = std::to_string(r.error().code().value()) + " " + r.error().context();
    return ::write(out, report.data(), report.size()) == static_cast<ssize_t>(report.size()) ? 0
                                                                                             : 12;
  });
  ASSERT_TRUE(end.succeeded()) << "child exit " << end.code << ", signal " << end.signal;
  EXPECT_EQ(end.output.rfind(std::to_string(EMFILE) + " ", 0), 0u) << end.output;
  EXPECT_NE(end.output.find("RLIMIT_NOFILE 0"), std::string::npos) << end.output;
}

TEST(ring_setup_errors, the_seventeenth_registered_ring_of_a_thread_is_explained) {
  if (const std::string why = urine::test::lacks_registered_ring_fds(); !why.empty())
    GTEST_SKIP() << why;
  std::string message;
  std::thread([&] {  // a fresh thread: its registered-ring table starts empty
    std::vector<ring<registered_ring_fd>> rings;
    for (int i = 0; i < 17; ++i) {
      auto r = ring<registered_ring_fd>::create({.entries = 2});
      if (!r) {
        message =
            r.error().message() + (i == 16 ? "" : " (too early: ring " + std::to_string(i) + ")");
        return;
      }
      rings.push_back(std::move(*r));
    }
  })
      .join();
  EXPECT_NE(message.find("this thread's 16 registered-ring slots are all in use"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("too early"), std::string::npos) << message;
}

TEST(ring_setup_errors, contradictory_runtime_parameters) {
  expect_refused<ring<>>({.entries = 4, .registered_fd_only = true}, std::errc::invalid_argument,
                         "registered_ring_fd policy");
  expect_refused<ring<registered_ring_fd>>({.entries = 4, .registered_fd_only = true},
                                           std::errc::invalid_argument, "caller memory");
  owned_memory small(4096);
  expect_refused<ring<>>({.entries = 4096, .memory = {small.span(), small.span()}},
                         std::errc::invalid_argument, "NO_MMAP ring memory too small");
  expect_refused<ring<>>({.entries = 4, .memory = {small.span().subspan(8), small.span()}},
                         std::errc::invalid_argument, "page-aligned");
}

// ---- lifetime ---------------------------------------------------------------------------------

TEST(ring_lifetime, releases_fd_and_mappings_exactly_once) {
  const std::size_t fds = fd_count();
  const std::size_t maps = mapping_count();
  {
    auto probe = make<ring<>>({.entries = 16});
    EXPECT_GT(mapping_count(), maps) << "a live ring's mappings must be visible to the count";
  }
  // With a big-entry ring beside, where the kernel makes one (5.19, a registered fd 5.18).
  using big_ring = ring<sqe128, cqe32, registered_ring_fd>;
  const bool with_big = urine::test::lacks_ring<big_ring>().empty();
  for (int i = 0; i < 50; ++i) {
    auto a = make<ring<>>({.entries = 16});
    std::optional<big_ring> b;
    if (with_big) b = make<big_ring>({.entries = 16});
    auto moved = std::move(a);
    nop_round_trip(moved);
    ring<> assigned = make<ring<>>({.entries = 4});
    assigned = std::move(moved);  // the 4-entry ring is released here, the 16-entry one moves
    EXPECT_EQ(assigned.sq_entries(), 16u);
    nop_round_trip(assigned);
    if (b) nop_round_trip(*b);
  }
  EXPECT_EQ(fd_count(), fds);
  EXPECT_EQ(mapping_count(), maps);
}

TEST(ring_lifetime, ring_fd_is_close_on_exec) {
  auto r = make<ring<>>({.entries = 4});
  const int flags = ::fcntl(r.fd(), F_GETFD);
  ASSERT_GE(flags, 0);
  EXPECT_TRUE(flags & FD_CLOEXEC);
}

}  // namespace
