// Stress: a random mix of NOPs, file writes and reads (bytes verified), splices through a pipe,
// timeouts, link chains with link timeouts that do and do not fire, cancels, polls — on rings of
// several policy sets, each with a CQ much smaller than what is in flight, so the kernel's overflow
// path carries part of the load. Every user_data is reaped exactly once with a plausible result.
// URINE_STRESS_OPS sets the number of operations per ring (default 10^6 in all; the `stress`
// preset runs 10^7 per ring).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>
import urine;
import urine.test_support;

namespace {

using namespace urine;
using urine::test::unique_fd;
namespace abi = urine::abi;  // libstdc++ declares a global ::abi too

std::uint64_t ops_per_ring() {
  const char* v = std::getenv("URINE_STRESS_OPS");
  return v != nullptr ? std::strtoull(v, nullptr, 10) : 1'000'000 / 6;
}

// Room is made before every request, so a push that finds the SQ full is a failure of the test's
// own bookkeeping (the request would count as in flight without having been queued).
#define ASSERT_PUSHED(...)                                     \
  if (!(__VA_ARGS__)) {                                        \
    ADD_FAILURE() << "SQ unexpectedly full at: " #__VA_ARGS__; \
    return 0;                                                  \
  }

// What a completion may carry, by the kind of request that posted it.
enum class kind : std::uint8_t {
  nop,
  file_write,
  file_read,
  splice_in,
  pipe_read,
  timeout,
  linked_nop,
  unfired_link_timeout,
  blocked_read,
  fired_link_timeout,
  cancelled_read,
  cancel,
  poll,
  final_cancel,
};

constexpr std::size_t slots = 512;  // requests in flight at most
constexpr std::size_t chunk = 256;  // bytes per file or pipe transfer (pipe reads: up to twice)
constexpr std::size_t file_span = 1 << 20;

// The byte every file offset holds once written: writes anywhere agree, so reads can be checked.
char byte_at(std::size_t offset) { return static_cast<char>((offset * 2654435761u) >> 13); }

template <class R>
class workload {
 public:
  workload() : rng_(12345), ring_(make_ring()) {
    file_ = urine::test::open_file(dir_ / "data");
    for (std::size_t i = 0; i < pattern_.size(); ++i) pattern_[i] = byte_at(i);
    // Written whole up front, so a splice from any offset moves all its bytes (a short splice
    // would break its link, by the kernel's rules).
    if (::pwrite(file_.get(), pattern_.data(), pattern_.size(), 0) !=
        static_cast<ssize_t>(pattern_.size()))
      throw std::runtime_error("pwrite");
    std::array<int, 2> p{};
    if (::pipe2(p.data(), O_CLOEXEC) != 0 || ::pipe2(quiet_.data(), O_CLOEXEC) != 0)
      throw std::runtime_error("pipe");
    pipe_rd_.reset(p[0]);
    pipe_wr_.reset(p[1]);
    quiet_rd_.reset(quiet_[0]);
    quiet_wr_.reset(quiet_[1]);
  }

  void run(std::uint64_t total) {
    std::uint64_t issued = 0;
    while (issued < total) {
      // Room for the largest request (two SQEs, two slots) first: on SQPOLL, submit returns
      // before the kernel thread has consumed anything, so the SQ may still be full after it.
      while (in_flight_ + 4 > slots || ring_.sq_space_left() < 4) {
        ASSERT_TRUE(ring_.submit().has_value());
        // The SQ thread consumes on its own time: sleep until it has made room, rather than spin
        // against it for a CPU (on a busy machine the spinning starves it for seconds).
        if constexpr (R::is_sqpoll)
          if (ring_.sq_space_left() < 4) ASSERT_TRUE(ring_.wait_for_sq_space().has_value());
        reap(in_flight_ + 4 > slots);
        if (::testing::Test::HasFatalFailure()) return;
      }
      issued += issue_one();
      if (::testing::Test::HasFatalFailure()) return;
    }
    drain();
  }

  // Requests issued (one per SQE, the end-of-run cancels included), completions taken for them,
  // and completions that came for a request not in flight (a second one, or a stale one).
  std::uint64_t requests() const { return issued_; }
  std::uint64_t completions() const { return completed_; }
  std::uint64_t duplicates() const { return duplicates_; }

 private:
  struct request {
    kind what = kind::nop;
    std::uint32_t length = 0;
    std::size_t offset = 0;
    bool live = false;
    std::uint64_t sequence = 0;
  };

  static R make_ring() {
    auto r = R::create(setup{.entries = 64, .cq_entries = 64});
    if (!r) throw std::runtime_error(r.error().message());
    return std::move(*r);
  }

  std::uint64_t next_slot() {
    while (requests_[cursor_ % slots].live) ++cursor_;
    return cursor_++ % slots;
  }

  // Tag = slot + generation, so a stale or duplicate completion cannot pass for a live one.
  user_data tag(std::uint64_t slot, kind what, std::uint32_t length = 0, std::size_t offset = 0) {
    requests_[slot] = {what, length, offset, true, issued_++};
    ++in_flight_;
    return slot | (++generation_[slot] << 16);
  }

  // Push one request or chain; returns how many operations it was.
  unsigned issue_one() {
    const unsigned pick = rng_() % 100;
    const std::uint32_t len = 1 + rng_() % chunk;
    const std::size_t off = rng_() % (file_span - chunk);
    if (pick < 30) {
      const auto s = next_slot();
      ASSERT_PUSHED(ring_.push(ops::nop{}, tag(s, kind::nop)));
      return 1;
    }
    if (pick < 50) {  // write then read back the same range, linked
      const auto w = next_slot();
      const auto d = tag(w, kind::file_write, len, off);
      const auto r = next_slot();
      ASSERT_PUSHED(push_chain(
          ring_, linked{ops::write{file_.get(), const_buffer(&pattern_[off], len), off}, d},
          linked{ops::read{file_.get(), buffer(buffers_[r].data(), len), off},
                 tag(r, kind::file_read, len, off)}));
      return 2;
    }
    if (pick <
        60) {  // file → pipe, then pipe → buffer; hard-linked, as a short splice is no failure here
      const auto a = next_slot();
      const auto da = tag(a, kind::splice_in, len);
      const auto b = next_slot();
      ASSERT_PUSHED(push_chain(
          ring_,
          linked{ops::splice{
                     .in = file_.get(), .in_offset = off, .out = pipe_wr_.get(), .length = len},
                 da,
                 {.flags = sqe_flags::io_hardlink}},
          linked{ops::read{pipe_rd_.get(), buffer(buffers_[b].data(), 2 * len)},
                 tag(b, kind::pipe_read, 2 * len)}));
      return 2;
    }
    if (pick < 65) {
      const auto s = next_slot();
      ASSERT_PUSHED(ring_.push(ops::timeout{&short_time_}, tag(s, kind::timeout)));
      return 1;
    }
    if (pick < 75) {  // a link timeout that does not fire
      const auto a = next_slot();
      const auto da = tag(a, kind::linked_nop);
      const auto b = next_slot();
      ASSERT_PUSHED(
          push_chain(ring_, linked{ops::nop{}, da},
                     linked{ops::link_timeout{&long_time_}, tag(b, kind::unfired_link_timeout)}));
      return 2;
    }
    if (pick < 80) {  // one that fires: the read never gets data
      const auto a = next_slot();
      const auto da = tag(a, kind::blocked_read);
      const auto b = next_slot();
      ASSERT_PUSHED(
          push_chain(ring_, linked{ops::read{quiet_rd_.get(), buffer(buffers_[a].data(), 1)}, da},
                     linked{ops::link_timeout{&short_time_}, tag(b, kind::fired_link_timeout)}));
      return 2;
    }
    if (pick < 90) {  // a read cancelled by user data
      const auto a = next_slot();
      const auto target = tag(a, kind::cancelled_read);
      ASSERT_PUSHED(ring_.push(ops::read{quiet_rd_.get(), buffer(buffers_[a].data(), 1)}, target));
      const auto b = next_slot();
      ASSERT_PUSHED(
          ring_.push(ops::async_cancel{ops::cancel_match::of(target)}, tag(b, kind::cancel)));
      return 2;
    }
    const auto s = next_slot();
    ASSERT_PUSHED(ring_.push(ops::poll_add{.file = quiet_wr_.get(), .events = poll_events::out},
                             tag(s, kind::poll)));
    return 1;
  }

  bool plausible(const request& q, int res) const {
    // A cancelled blocking read may complete with the kernel's restart code (-ERESTARTSYS on
    // 6.1 and 6.12), which reads as EINTR.
    const bool interrupted = result_code(res) == std::errc::interrupted;
    switch (q.what) {
      case kind::nop:
      case kind::linked_nop:
        return res == 0;
      case kind::file_write:
      case kind::file_read:
        return res == static_cast<int>(q.length);
      // A pipe has 16 page slots, and leftovers hold on to theirs: a splice into it may move fewer
      // bytes than asked, and a read may find another chain's bytes, or wait until the end.
      case kind::splice_in:
        return res > 0 && res <= static_cast<int>(q.length);
      case kind::pipe_read:
        return (res > 0 && res <= static_cast<int>(q.length)) || res == -ECANCELED || interrupted;
      case kind::timeout:
        return res == -ETIME;
      // Fires (-ETIME); or the end-of-run cancel reached its read first (-ECANCELED); or its own
      // cancel raced the read's completion (-ENOENT, -EALREADY).
      case kind::fired_link_timeout:
        return res == -ETIME || res == -ECANCELED || res == -ENOENT || res == -EALREADY;
      case kind::unfired_link_timeout:
        return res == -ECANCELED;
      case kind::blocked_read:
      case kind::cancelled_read:
        return res == -ECANCELED || interrupted;
      case kind::cancel:
        return res == 0 || res == -EALREADY || res == -ENOENT;
      case kind::poll:
        return res > 0 && (res & POLLOUT) != 0;
      case kind::final_cancel:  // by user data, a read already running reads -EALREADY
        return res >= 0 || res == -ENOENT || res == -EALREADY;
    }
    return false;
  }

  void complete(auto c) {
    const std::uint64_t v = c.user_data().value();
    const std::uint64_t slot = v & 0xffff;
    ASSERT_LT(slot, slots);
    request& q = requests_[slot];
    duplicates_ += !q.live || v >> 16 != generation_[slot];
    ASSERT_TRUE(q.live) << "completion for a request not in flight (duplicate?): " << v;
    ASSERT_EQ(v >> 16, generation_[slot]) << "stale completion";
    ASSERT_TRUE(plausible(q, c.result())) << "kind " << int(q.what) << " result " << c.result();
    if (q.what == kind::file_read)
      ASSERT_EQ(std::memcmp(buffers_[slot].data(), &pattern_[q.offset], q.length), 0)
          << "file bytes differ";
    q.live = false;
    --in_flight_;
    ++completed_;
  }

  void reap(bool must_make_room) {
    ring_.for_each_cqe([&](auto c) { complete(c); });
    while (must_make_room && in_flight_ + 4 > slots) {
      auto c = ring_.wait_cqe();
      ASSERT_TRUE(c.has_value()) << c.error().message();
      complete(*c);
      ring_.cqe_seen(*c);
      ring_.for_each_cqe([&](auto c2) { complete(c2); });
    }
  }

  // Cancel the reads that can never get data: a cancel that raced its read and found nothing; a
  // pipe read whose bytes another read took. A hard-linked read starts only when its splice is
  // done, possibly after such a cancel, so the cancel is repeated while work remains. By file
  // where the kernel matches by file (5.19); before that, each read by its user data.
  void cancel_idle_reads() {
    if (!cancel_by_file_) {
      for (std::uint64_t r = 0; r < slots; ++r) {
        const request& q = requests_[r];
        if (!q.live || (q.what != kind::pipe_read && q.what != kind::cancelled_read &&
                        q.what != kind::blocked_read))
          continue;
        const user_data target(r | generation_[r] << 16);
        if (in_flight_ + 4 > slots) {  // the cancels sent so far free slots as they complete
          while (ring_.sq_ready() > 0) ASSERT_TRUE(ring_.submit().has_value());
          reap(true);
          if (!q.live) continue;
        }
        const auto data = tag(next_slot(), kind::final_cancel);
        while (!ring_.push(ops::async_cancel{ops::cancel_match::of(target)}, data))
          ASSERT_TRUE(ring_.submit().has_value());
      }
      while (ring_.sq_ready() > 0) ASSERT_TRUE(ring_.submit().has_value());
      return;
    }
    for (const int fd : {quiet_rd_.get(), pipe_rd_.get()}) {
      const auto s = next_slot();
      const auto data = tag(s, kind::final_cancel);
      while (!ring_.push(ops::async_cancel{ops::cancel_match::of_file(fd), true}, data))
        ASSERT_TRUE(ring_.submit().has_value());
    }
    while (ring_.sq_ready() > 0) ASSERT_TRUE(ring_.submit().has_value());
  }

  void drain() {
    cancel_idle_reads();
    for (int idle_rounds = 0; in_flight_ > 0;) {
      const auto w = ring_.wait_for(1, std::chrono::milliseconds(200));
      if (!w) {
        ASSERT_EQ(w.error(), std::errc::stream_timeout) << w.error().message();
        if (++idle_rounds < 50) {
          cancel_idle_reads();
          continue;
        }
        std::string stuck;
        for (const auto& q : requests_)
          if (q.live)
            stuck +=
                " " + std::to_string(static_cast<int>(q.what)) + "@" + std::to_string(q.sequence);
        FAIL() << in_flight_ << " requests never completed; kinds:" << stuck << "; sq_ready "
               << ring_.sq_ready() << ", cq_ready " << ring_.cq_ready() << ", overflow "
               << ring_.cq_has_overflow() << ", sq_dropped " << ring_.sq_dropped()
               << ", cq_overflow " << ring_.cq_overflow();
      }
      ring_.for_each_cqe([&](auto c) { complete(c); });
      if (::testing::Test::HasFatalFailure()) return;
    }
    EXPECT_FALSE(ring_.peek_cqe());
    EXPECT_EQ(ring_.cq_overflow(), 0u) << "the kernel dropped completions";
  }

  std::mt19937_64 rng_;
  R ring_;
  urine::test::temp_dir dir_;
  unique_fd file_, pipe_rd_, pipe_wr_, quiet_rd_, quiet_wr_;
  std::array<int, 2> quiet_{};
  std::array<char, file_span> pattern_{};
  std::array<std::array<char, 2 * chunk>, slots> buffers_{};
  std::array<request, slots> requests_{};
  std::array<std::uint64_t, slots> generation_{};
  std::uint64_t cursor_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t issued_ = 0;
  abi::kernel_timespec short_time_{0, 1'000'000};
  abi::kernel_timespec long_time_{10, 0};
  const bool cancel_by_file_ = urine::test::predates({5, 19}, "cancel by file").empty();
};

template <class R>
class reliability_stress : public ::testing::Test {};
using stressed_rings =
    ::testing::Types<ring<>, ring<sqpoll>, ring<defer_task_run<>>,
                     ring<coop_task_run<true>, registered_ring_fd>, ring<sqe128, cqe32>,
                     ring<cqe_mixed, sequentially_consistent>>;
TYPED_TEST_SUITE(reliability_stress, stressed_rings);

TYPED_TEST(reliability_stress, every_request_completes_exactly_once) {
  if (const auto why = urine::test::lacks(TypeParam::config::flags); !why.empty())
    GTEST_SKIP() << why;
  auto w = std::make_unique<workload<TypeParam>>();
  const std::uint64_t n = ops_per_ring();
  const auto start = std::chrono::steady_clock::now();
  w->run(n);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  // The figures for the record, failure or not: lost is what was issued and never completed.
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(
      "[ stress ] %llu operations asked, %llu requests issued, %llu completions, lost %llu, "
      "duplicated %llu, %.2f s\n",
      u(n), u(w->requests()), u(w->completions()), u(w->requests() - w->completions()),
      u(w->duplicates()), took.count());
}

}  // namespace
