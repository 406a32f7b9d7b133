// The sleeps of one runtime and the one kernel timer they share. Sleeps wait in a deadline heap
// (their nodes in their frames); the kernel holds at most one TIMEOUT, absolute on
// CLOCK_MONOTONIC, for the earliest deadline. When it fires, every sleep whose deadline has
// passed resumes (through the run queue, earliest first) and the timer is armed for the next. A
// sleep earlier than the armed timer moves it: TIMEOUT_REMOVE with the update flag (5.11), or
// on older kernels a removal and a new TIMEOUT once the removed one has posted its completion —
// either way one TIMEOUT at a time. A stopped sleep leaves the heap with no kernel round trip;
// the timer stays armed and, firing early, finds nothing due and arms for the next.
//
// The timer's completions come back as posts to nodes of this object (tag::posted: no budget
// accounting on the way), so the runtime keeps two CQ slots of its budget for them: the
// TIMEOUT's and one update's or removal's; at most one of each is in flight.
module;
#include <atomic>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
export module urine.async:sleep_queue;
import urine.abi;
import urine.ops;
import :core;
import :deadline_heap;

export namespace urine::async::detail {

/// How a sleep earlier than the armed timer moves it.
enum class rearm_by : std::uint8_t {
  update,   ///< TIMEOUT_REMOVE with IORING_TIMEOUT_UPDATE (5.11)
  removal,  ///< TIMEOUT_REMOVE, then a new TIMEOUT when the old one has completed
};

/// What this kernel supports: update from 5.11 on (a kernel that has it backported under an
/// older number takes the removal, which is correct too, one round trip slower).
[[nodiscard]] inline rearm_by rearm_for_running_kernel() noexcept {
  return running_kernel() >= kernel_version{5, 11} ? rearm_by::update : rearm_by::removal;
}

/// Now, as a deadline: nanoseconds on CLOCK_MONOTONIC.
[[nodiscard]] inline std::int64_t monotonic_now() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Who completes a sleep that another thread may stop (timer_node::claim): the first to claim
/// it. The owner claims it when its deadline comes or on a stop on the owning thread; another
/// thread's stop claims it before posting, and the sleep then waits for that post.
enum : std::uint8_t { unclaimed = 0, claimed_by_owner = 1, claimed_by_remote_stop = 2 };
[[nodiscard]] inline bool claim(timer_node& n, std::uint8_t who) noexcept {
  std::uint8_t expected = unclaimed;
  return std::atomic_ref(n.claim).compare_exchange_strong(expected, who, std::memory_order_seq_cst);
}

/// The runtime's sleeps and their one kernel timer. `Runtime` gives push (an SQE with a user
/// data) and make_ready (a node for the run queue).
template <class Runtime>
class sleep_queue {
 public:
  /// CQ slots the timer may occupy at once: its TIMEOUT's completion and one update's or
  /// removal's.
  static constexpr unsigned cq_slots = 2;

  explicit sleep_queue(Runtime& rt) noexcept : rt_(&rt) {
    bind(fired_, &on_fired);
    bind(answered_, &on_answered);
    bind(sync_, &on_sync);
  }
  sleep_queue(const sleep_queue&) = delete;
  sleep_queue& operator=(const sleep_queue&) = delete;

  /// Add a sleep (its deadline set). When it is earlier than the armed timer, the timer moves
  /// from the run loop, once per round whatever the number of sleeps added in it.
  inline void add(timer_node& n) noexcept {
    static_assert(!Runtime::ring_type::is_iopoll,
                  "sleeps need TIMEOUT, which the kernel refuses on IOPOLL rings (iopoll, "
                  "hybrid_iopoll): sleep on a runtime of another polling mode");
    heap_.push(n);
    if (n.deadline < armed_at_ && !sync_queued_) {
      sync_queued_ = true;
      rt_->make_ready(&sync_);
    }
  }

  /// Take a sleep out without completing it; false when it was not in (its deadline came).
  inline bool remove(timer_node& n) noexcept {
    if (!n.queued) return false;
    heap_.erase(n);
    return true;
  }

  /// Stop a sleep on the owning thread: out of the heap, completed with ECANCELED through the run
  /// queue. Nothing when it is no longer queued (its deadline came first: it resumes as due).
  inline void cancel(timer_node& n) noexcept {
    if (!remove(n)) return;
    n.res = -ECANCELED;
    rt_->make_ready(&n);
  }

  /// A completion the runtime collected during shutdown, when no handler runs: true when it was
  /// one of the timer's.
  inline bool collected(const ready_node* n) noexcept {
    if (n == &fired_) {
      armed_ = false;
    } else if (n != &answered_) {
      return false;
    } else {
      answer_pending_ = false;
    }
    --outstanding_;
    return true;
  }

  /// Shutdown: every sleep leaves the heap uncompleted (their frames are destroyed, not resumed),
  /// the armed timer is removed (its completion is still to be collected: outstanding()), and
  /// nothing is armed again.
  inline void close() noexcept {
    closed_ = true;
    while (!heap_.empty()) (void)heap_.pop();
    if (armed_) (void)send(ops::timeout_remove{.target = user_data(timer_data_)});
  }

  /// Completions of the timer still to come (its TIMEOUT's, an update's or removal's).
  [[nodiscard]] inline unsigned outstanding() const noexcept { return outstanding_; }
  [[nodiscard]] inline std::size_t size() const noexcept { return heap_.size(); }
  [[nodiscard]] inline std::uint64_t arms() const noexcept { return arms_; }
  [[nodiscard]] inline std::uint64_t rearms() const noexcept { return rearms_; }
  /// How the timer moves earlier (tests force the removal to cover older kernels).
  inline void set_rearm(rearm_by how) noexcept { rearm_ = how; }

 private:
  inline void bind(ready_node& n, std::coroutine_handle<> (*fn)(ready_node*) noexcept) noexcept {
    n.next = nullptr;
    n.notify = fn;
    n.context = this;
  }
  static inline sleep_queue& self(ready_node* n) noexcept {
    return *static_cast<sleep_queue*>(n->context);
  }

  /// The TIMEOUT completed: it fired, or a removal (or the runtime's shutdown) cancelled it.
  static std::coroutine_handle<> on_fired(ready_node* n) noexcept {
    sleep_queue& q = self(n);
    q.armed_ = false;
    q.armed_at_ = never;
    --q.outstanding_;
    q.expire_due();
    q.sync();
    return std::noop_coroutine();
  }
  /// An update or removal completed: the timer may move again.
  static std::coroutine_handle<> on_answered(ready_node* n) noexcept {
    sleep_queue& q = self(n);
    q.answer_pending_ = false;
    --q.outstanding_;
    q.sync();
    return std::noop_coroutine();
  }
  static std::coroutine_handle<> on_sync(ready_node* n) noexcept {
    sleep_queue& q = self(n);
    q.sync_queued_ = false;
    q.sync();
    return std::noop_coroutine();
  }

  /// Queue every sleep whose deadline has passed, earliest first.
  inline void expire_due() noexcept {
    const std::int64_t now = monotonic_now();
    while (!heap_.empty() && heap_.top().deadline <= now) complete(heap_.pop(), -ETIME);
  }

  /// Resume a sleep taken out of the heap with `res`, unless a stop from another thread claimed
  /// it first: that stop's post completes it when it arrives.
  inline void complete(timer_node& n, std::int32_t res) noexcept {
    if (n.remotely_stoppable && !claim(n, claimed_by_owner)) return;
    n.res = res;
    rt_->make_ready(&n);
  }

  /// Make the kernel timer cover the earliest sleep: arm it, or move it earlier.
  inline void sync() noexcept {
    if (heap_.empty() || closed_) return;
    const std::int64_t earliest = heap_.top().deadline;
    if (!armed_) return arm(earliest);
    // One update or removal at a time; its completion syncs again.
    if (earliest >= armed_at_ || answer_pending_) return;
    if (rearm_ == rearm_by::update) {
      at_ = to_timespec(std::chrono::nanoseconds(earliest));
      if (!send(ops::timeout_update{
              .target = user_data(timer_data_), .after = &at_, .flags = timeout_flags::abs}))
          [[unlikely]]
        return fail_all();
      armed_at_ = earliest;
    } else {
      if (!send(ops::timeout_remove{.target = user_data(timer_data_)})) [[unlikely]]
        return fail_all();
      armed_at_ = std::numeric_limits<std::int64_t>::min();  // moves only once it has completed
    }
    answer_pending_ = true;
    ++rearms_;
  }

  inline void arm(std::int64_t deadline) noexcept {
    at_ = to_timespec(std::chrono::nanoseconds(deadline));
    // A fresh generation: an update or removal sent to an earlier timer cannot reach this one.
    timer_data_ = encode(&fired_, ++generation_, tag::posted);
    if (!push(ops::timeout{.after = &at_, .flags = timeout_flags::abs}, timer_data_)) [[unlikely]]
      return fail_all();
    armed_ = true;
    armed_at_ = deadline;
    ++outstanding_;
    ++arms_;
  }

  template <class Op>
  [[nodiscard]] inline bool send(const Op& op) noexcept {
    if (!push(op, encode(&answered_, 0, tag::posted))) return false;
    ++outstanding_;
    return true;
  }

  /// Push a timer's SQE. IOPOLL rings take none (and no sleep compiles on them: see add).
  template <class Op>
  [[nodiscard]] inline bool push(const Op& op, std::uint64_t data) noexcept {
    if constexpr (Runtime::ring_type::is_iopoll)
      return false;
    else
      return rt_->push(op, data);
  }

  /// The ring takes no SQE at all: no timer can be armed, so every sleep ends, as an operation
  /// whose SQE cannot be pushed does, with EBADF.
  [[gnu::noinline]] void fail_all() noexcept {
    while (!heap_.empty()) complete(heap_.pop(), -EBADF);
  }

  static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

  Runtime* rt_;
  deadline_heap heap_;
  /// The armed timer's deadline (never when none is armed; the minimum while a removal is on its
  /// way, so that nothing sends another).
  std::int64_t armed_at_ = never;
  /// The user data of the armed TIMEOUT: the fired_ node and a generation.
  std::uint64_t timer_data_ = 0;
  /// Read by the kernel when it prepares the TIMEOUT or the update: always the latest deadline
  /// asked for, so an SQE prepared after a newer one was asked for gets the newer (earlier) one.
  abi::kernel_timespec at_{};
  ready_node fired_{};     ///< the TIMEOUT's completion
  ready_node answered_{};  ///< an update's or removal's completion
  ready_node sync_{};      ///< queued to move the timer after sleeps were added
  std::uint64_t arms_ = 0;
  std::uint64_t rearms_ = 0;
  unsigned outstanding_ = 0;
  std::uint16_t generation_ = 0;
  rearm_by rearm_ = rearm_for_running_kernel();
  bool armed_ = false;
  bool answer_pending_ = false;
  bool sync_queued_ = false;
  bool closed_ = false;
};

}  // namespace urine::async::detail
