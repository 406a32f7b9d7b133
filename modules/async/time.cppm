// Time: sleeps, and with_timeout, which bounds a single operation by a LINK_TIMEOUT linked to it
// (IOSQE_IO_LINK): both SQEs go in one submit, and no timer thread exists anywhere.
//
// A sleep on the steady clock (sleep_for, sleep_until a steady time point) waits in its runtime's
// deadline heap, which shares one kernel TIMEOUT among all sleeps (see sleep_queue): ten thousand
// idle connections are one kernel timer. A sleep until a system-clock time keeps a TIMEOUT of its
// own, absolute on CLOCK_REALTIME: that clock can be set, and only the kernel moves such a timer
// with it; converted to a monotonic deadline it would fire at the wrong time after a clock change.
module;
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <limits>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
export module urine.async:time;
import urine.abi;
import urine.ops;
import :core;
import :deadline_heap;
import :sleep_queue;
import :runtime;
import :stop;

export namespace urine::async::detail {

/// TIMEOUT with its timespec inside the operation, so the awaiter (in the frame) holds it.
struct sleep_op {
  static constexpr opcode code = opcode::timeout;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  abi::kernel_timespec at;
  timeout_flags flags = timeout_flags::none;
  std::uint32_t count = 0;  ///< multishot: how many times (0: until cancelled)

  inline void prepare(abi::sqe& s) const noexcept {
    ops::timeout{.after = &at, .count = count, .flags = flags}.prepare(s);
  }
};

template <class Clock>
[[nodiscard]] constexpr timeout_flags clock_flags() noexcept {
  if constexpr (std::is_same_v<Clock, std::chrono::system_clock>)
    return timeout_flags::abs | timeout_flags::realtime;
  else {
    static_assert(std::is_same_v<Clock, std::chrono::steady_clock>,
                  "sleep_until(): the kernel's timeouts run on the steady (CLOCK_MONOTONIC) or "
                  "the system (CLOCK_REALTIME) clock");
    return timeout_flags::abs;
  }
}

/// An absolute TIMEOUT at `t`.
template <class Clock, class Duration>
[[nodiscard]] inline sleep_op until(std::chrono::time_point<Clock, Duration> t) noexcept {
  return sleep_op{
      .at = to_timespec(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch())),
      .flags = clock_flags<Clock>()};
}

/// The deadline `d` from now, on CLOCK_MONOTONIC (the far future rather than an overflow).
[[nodiscard]] inline std::int64_t deadline_after(std::chrono::nanoseconds d) noexcept {
  const std::int64_t now = monotonic_now();
  constexpr std::int64_t far = std::numeric_limits<std::int64_t>::max();
  return d.count() > far - now ? far : now + d.count();
}

/// A steady-clock time point as a deadline.
template <class Duration>
[[nodiscard]] inline std::int64_t steady_deadline(
    std::chrono::time_point<std::chrono::steady_clock, Duration> t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace urine::async::detail

export namespace urine::async {

/// A sleep on the steady clock: resumes with no error when its deadline has passed, ECANCELED
/// when a stop request (or a combinator) cancelled it first. It waits in the runtime's deadline
/// heap, its node here in the awaiter: nothing is allocated and no SQE of its own is submitted.
/// A stop request on the owning thread takes it out of the heap at once; from another thread it
/// is posted to the owning runtime, which does the same (the sleep resumes only then).
template <class Runtime, class Token = void>
class sleep_awaiter : private detail::timer_node {
  /// Whether a stop token comes with it (Token is void otherwise).
  static constexpr bool Stoppable = !std::is_void_v<Token>;

 public:
  using result_type = typename Runtime::result_type;

  inline sleep_awaiter(Runtime& rt, std::int64_t deadline_ns) noexcept
    requires(!Stoppable)
      : rt_(&rt) {
    deadline = deadline_ns;
  }
  inline sleep_awaiter(Runtime& rt, std::int64_t deadline_ns,
                       std::conditional_t<Stoppable, Token, detail::no_stop_link> token) noexcept
    requires Stoppable
      : rt_(&rt) {
    deadline = deadline_ns;
    stop_.token = std::move(token);
  }
  /// Movable until started (combinators take their children by value).
  inline sleep_awaiter(sleep_awaiter&& o) noexcept : rt_(o.rt_) {
    deadline = o.deadline;
    if constexpr (Stoppable) stop_.token = std::move(o.stop_.token);
  }
  sleep_awaiter& operator=(sleep_awaiter&&) = delete;
  /// Not reachable through the API while queued (frames are destroyed after shutdown emptied
  /// the heap), but a heap must never keep a node that is gone.
  inline ~sleep_awaiter() {
    // First: a stop running on another thread is waited for while the rest is still whole.
    if constexpr (Stoppable) stop_.callback.reset();
    if (queued) (void)rt_->sleeps().remove(*this);
  }

  inline bool await_ready() const noexcept { return false; }
  inline bool await_suspend(std::coroutine_handle<> h) noexcept {
    handle = h;
    notify = nullptr;
    return begin(false);
  }
  inline std::error_code await_resume() noexcept {
    const result_type r = take_result();
    return r.raw() == -ETIME ? std::error_code{} : r.error();
  }

  // ---- the child protocol of combinators -------------------------------------------------------

  /// Start as a combinator's child: when done, `notify(this node)` runs from the run loop.
  inline void start_child(std::coroutine_handle<> (*notify_fn)(detail::ready_node*) noexcept,
                          void* ctx) noexcept {
    notify = notify_fn;
    context = ctx;
    if (!begin(true)) rt_->make_ready(this);
  }
  /// Cancel, from any thread (a combinator forwards its parent's stop from the thread that
  /// requested it).
  inline void cancel() noexcept { stop_from_any_thread(); }
  /// The result, once done: raw() is -ETIME when the deadline passed, -ECANCELED when stopped.
  [[nodiscard]] inline result_type take_result() noexcept {
    if constexpr (Stoppable) stop_.callback.reset();
    return result_type(res, 0);
  }

 private:
  /// Queue the sleep; false when it is already over (a stop requested before it began). A
  /// combinator's child may be cancelled from another thread, as one with a token may be stopped.
  inline bool begin(bool as_child) noexcept {
    claim = detail::unclaimed;
    remotely_stoppable = as_child;
    if constexpr (Stoppable) {
      if (stop_.token.stop_requested()) {
        res = -ECANCELED;
        return false;
      }
      remotely_stoppable = remotely_stoppable || stop_.token.stop_possible();
    }
    if (remotely_stoppable) {
      // Written before a stop can come: another thread's stop only reads them.
      stop_node_.notify = &stop_arrived;
      stop_node_.context = this;
      post_ = {detail::encode(&stop_node_, 0, detail::tag::posted), rt_->ring().fd()};
    }
    rt_->sleeps().add(*this);
    // Registered once queued: a stop already requested runs the callback here, on this thread.
    if constexpr (Stoppable) {
      if (stop_.token.stop_possible()) stop_.callback.emplace(stop_.token, stopper{this});
    }
    return true;
  }

  /// Cancel on the owning thread, unless a stop from another thread claimed the sleep first
  /// (its post completes it).
  inline void cancel_here() noexcept {
    if (remotely_stoppable && !detail::claim(*this, detail::claimed_by_owner)) return;
    rt_->sleeps().cancel(*this);
  }

  /// A stop from another thread, arrived on the owning thread: the sleep leaves the heap if its
  /// deadline has not taken it out already, and resumes.
  static std::coroutine_handle<> stop_arrived(detail::ready_node* n) noexcept {
    auto& self = *static_cast<sleep_awaiter*>(n->context);
    self.res = self.rt_->sleeps().remove(self) ? -ECANCELED : -ETIME;
    if (self.notify != nullptr) return self.notify(&self);
    return self.handle;
  }

  /// A stop on any thread: on the owning thread the sleep leaves the heap now; from another, it
  /// is claimed first, so the owner no longer completes it and the frame (where the post lives)
  /// stays until the post has arrived.
  inline void stop_from_any_thread() noexcept {
    if (std::this_thread::get_id() == rt_->owner()) return cancel_here();
    if (detail::claim(*this, detail::claimed_by_remote_stop)) detail::post(post_, stop_node_);
  }

  struct stopper {
    sleep_awaiter* self;
    void operator()() const noexcept { self->stop_from_any_thread(); }
  };

  Runtime* rt_;
  [[no_unique_address]] std::conditional_t<Stoppable, detail::stop_link<Token, stopper>,
                                           detail::no_stop_link> stop_;
  // Where a stop from another thread goes: a post of this node to the owning ring. Kept by every
  // sleep, since any may be a combinator's child (only written when it may be stopped remotely).
  detail::ready_node stop_node_{};
  detail::post_request post_{};
};

/// A sleep until a system-clock time: a TIMEOUT of its own, absolute on CLOCK_REALTIME, so a
/// change of the system clock moves it. Resumes as sleep_awaiter does.
template <class Runtime, class Token = void>
class realtime_sleep_awaiter : public operation<Runtime, detail::sleep_op, Token> {
 public:
  using operation<Runtime, detail::sleep_op, Token>::operation;
  inline std::error_code await_resume() noexcept {
    const auto r = operation<Runtime, detail::sleep_op, Token>::await_resume();
    return r.raw() == -ETIME ? std::error_code{} : r.error();
  }
};

/// Suspend for `d` on the steady clock (one node of the runtime's deadline heap).
template <class Runtime>
[[nodiscard]] inline sleep_awaiter<Runtime> sleep_for(Runtime& rt,
                                                      std::chrono::nanoseconds d) noexcept {
  return sleep_awaiter<Runtime>(rt, detail::deadline_after(d));
}
/// The same, cut short (ECANCELED) by a stop request on `token`.
template <class Runtime, stop_token_kind Token>
[[nodiscard]] inline sleep_awaiter<Runtime, Token> sleep_for(Runtime& rt,
                                                             std::chrono::nanoseconds d,
                                                             Token token) noexcept {
  return sleep_awaiter<Runtime, Token>(rt, detail::deadline_after(d), std::move(token));
}

/// Suspend until `t`: on the steady clock a sleep_awaiter, on the system clock a
/// realtime_sleep_awaiter (its own absolute CLOCK_REALTIME TIMEOUT).
template <class Runtime, class Clock, class Duration>
[[nodiscard]] inline auto sleep_until(Runtime& rt,
                                      std::chrono::time_point<Clock, Duration> t) noexcept {
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock>)
    return sleep_awaiter<Runtime>(rt, detail::steady_deadline(t));
  else
    return realtime_sleep_awaiter<Runtime>(rt, detail::until(t));
}
/// The same, cut short (ECANCELED) by a stop request on `token`.
template <class Runtime, class Clock, class Duration, stop_token_kind Token>
[[nodiscard]] inline auto sleep_until(Runtime& rt, std::chrono::time_point<Clock, Duration> t,
                                      Token token) noexcept {
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock>)
    return sleep_awaiter<Runtime, Token>(rt, detail::steady_deadline(t), std::move(token));
  else
    return realtime_sleep_awaiter<Runtime, Token>(rt, detail::until(t), std::move(token));
}

/// Await `op`, cancelled by the kernel if it has not completed within `d`: the operation and a
/// LINK_TIMEOUT linked to it, in one submit. Resumes once both have posted their completions, with
/// the operation's result, or ETIME when the timer cancelled it.
template <class Runtime, class Op>
[[nodiscard]] inline operation<Runtime, detail::timed<Op>> with_timeout(
    Runtime& rt, Op op, std::chrono::nanoseconds d) noexcept {
  return operation<Runtime, detail::timed<Op>>(rt,
                                               detail::timed<Op>{std::move(op), to_timespec(d)});
}
/// The same, also cancelled by a stop request on `token`.
template <class Runtime, class Op, stop_token_kind Token>
[[nodiscard]] inline operation<Runtime, detail::timed<Op>, Token> with_timeout(
    Runtime& rt, Op op, std::chrono::nanoseconds d, Token token) noexcept {
  return operation<Runtime, detail::timed<Op>, Token>(
      rt, detail::timed<Op>{std::move(op), to_timespec(d)}, std::move(token));
}

}  // namespace urine::async
