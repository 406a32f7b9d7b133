// runtime<Ring>: one ring of the user's policy set, owned by one thread, driving coroutines. It
// keeps the operations in flight within the CQ's capacity (the rest wait in an intrusive queue),
// dispatches each completion to the operation its user data points at, and resumes waiters from
// its run loop. operation<Runtime, Op> is the one awaitable behind every typed operation: its
// state lives in the awaiting frame, its SQE is prepared when it suspends.
module;
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <optional>
#include <stop_token>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
export module urine.async:runtime;
import urine.abi;
import urine.ring;
import urine.ops;
import urine.registration;
import :core;
import :messenger;
import :sleep_queue;
import :stop;
import :task;
import :zero_copy;

export namespace urine::async {

/// The ring a runtime uses unless told otherwise: one issuer, completions produced when the
/// runtime waits, the ring fd registered.
using default_ring = ring<defer_task_run<>, registered_ring_fd>;

template <class Runtime, class Op, class Token = void>
class operation;

template <class Ring = default_ring>
class runtime;

}  // namespace urine::async

export namespace urine::async::detail {

/// Whether `Op` hands back a new plain descriptor as its result: then a result nobody takes is
/// closed rather than leaked.
template <class Op>
inline constexpr bool produces_descriptor = [] {
  if constexpr (requires(const Op& o) { o.install.direct(); })
    return Op::code == opcode::accept || Op::code == opcode::openat ||
           Op::code == opcode::openat2 || Op::code == opcode::socket;
  else
    return false;
}();

/// An operation bounded by a LINK_TIMEOUT (see with_timeout): pushed as the operation with
/// IOSQE_IO_LINK and the timer right after it, in one submit.
template <class Op>
struct timed {
  Op op;
  abi::kernel_timespec after;
};
template <class Op>
inline constexpr bool is_timed = false;
template <class Op>
inline constexpr bool is_timed<timed<Op>> = true;

/// Whether `Op`'s completions end with a zero-copy send's notification.
template <class Op>
inline constexpr bool posts_notification = zero_copy_send<Op> || is_zero_copy<Op>;
template <class Op>
inline constexpr bool posts_notification<timed<Op>> = posts_notification<Op>;

template <class Op>
[[nodiscard]] inline bool is_plain_descriptor(const Op& op) noexcept {
  if constexpr (is_timed<Op>)
    return is_plain_descriptor(op.op);
  else if constexpr (produces_descriptor<Op>)
    return !op.install.direct();
  else
    return false;
}

/// What the reaping of a completion does with a waiter it makes runnable.
enum class delivery {
  resume,  ///< resume it now (the run loop: its CQE is already consumed)
  queue,   ///< queue it for the run loop (a reap from inside a running coroutine)
  drop,    ///< nothing (shutdown: no coroutine resumes)
};

/// Post `r` from a thread without a ring to post with (see messenger). False when it never got
/// through, after saying why on stderr.
inline bool send_ringless(const post_request& r) noexcept {
  const auto sent = send_ringless(r.target_fd, r.target_data);
  if (!sent) std::fprintf(stderr, "urine::async: %s\n", sent.error().message().c_str());
  return sent.has_value();
}

/// Post `node` as `r` says, from this thread: by the running runtime's ring, or ring-less. Once
/// posted, the node's frame may run on the other thread at once, so nothing here touches either
/// after publish_for_post.
inline void post(post_request& r, ready_node& node) noexcept {
  if (this_thread_poster.send != nullptr)
    return this_thread_poster.send(this_thread_poster.runtime, r, node);
  const post_request copy = r;
  publish_for_post(node);
  if (!send_ringless(copy)) [[unlikely]] {
    std::fputs(
        "urine::async: a post to another runtime could not be delivered (is its ring "
        "closed?)\n",
        stderr);
    std::abort();
  }
}

/// A debug-build check with a sentence: the kernel would write into freed memory otherwise.
inline void abort_if_in_flight(const operation_header& h) noexcept {
#ifndef NDEBUG
  if (h.state == op_state::in_flight || h.state == op_state::parked) {
    std::fputs(
        "urine::async: a coroutine frame was destroyed while suspended on an operation the "
        "kernel still holds; cancel it and let it complete first\n",
        stderr);
    std::abort();
  }
#else
  (void)h;
#endif
}

/// The 16 extra bytes of a completion, where the ring has them.
template <class Completion, bool Big, bool Mixed>
[[nodiscard]] inline const std::uint64_t* extra_of(const Completion& c) noexcept {
  if constexpr (!Big)
    return nullptr;
  else if constexpr (Mixed)
    return c.big() ? c.extra().data() : nullptr;
  else
    return c.extra().data();
}

}  // namespace urine::async::detail

export namespace urine::async {

template <class Ring>
class runtime {
 public:
  using ring_type = Ring;
  using extra_type = std::conditional_t<Ring::has_big_cqes, big_extra, no_extra>;
  using result_type = io_result<extra_type>;

  /// A runtime on a new ring of this type; throws std::system_error when the kernel refuses the
  /// ring (the message says what was refused).
  explicit runtime(const setup& s = {}) : runtime(create_ring(s)) {}
  /// A runtime on a ring created by the caller.
  explicit runtime(Ring&& r) : ring_(std::move(r)), root_(ready_) {
    const unsigned cq = ring_.cq_entries();
    // Room for CQEs no budget counts: posts from other rings and remote cancel requests.
    const unsigned margin = cq / 8 > 0 ? cq / 8 : 1;
    // The sleeps' one kernel timer keeps its own slots.
    const unsigned kept = margin + detail::sleep_queue<runtime>::cq_slots;
    budget_ = cq > kept + max_slots ? cq - kept : max_slots;
    admit_limit_ = budget_;
  }
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Cancels what is still in the kernel, collects every completion (no coroutine resumes), then
  /// destroys the frames of spawned tasks still suspended, releasing what their operations
  /// produced (descriptors closed, provided buffers given back).
  ~runtime() { shutdown(); }

  [[nodiscard]] Ring& ring() noexcept { return ring_; }
  [[nodiscard]] scope& root_scope() noexcept { return root_; }

  /// Drive the ring until `t` has finished; its result (or exception). Spawned tasks run too,
  /// and those not finished when `t` is stay suspended until the next run (or the destructor).
  template <class T>
  T run(task<T> t) {
    // Posts made by coroutines running here go through this ring.
    const detail::poster outer = std::exchange(detail::this_thread_poster, {this, &send_post});
    struct restore {
      detail::poster outer;
      ~restore() { detail::this_thread_poster = outer; }
    } restore_poster{outer};
    auto h = t.handle();
    h.promise().start.handle = h;
    ready_.push(&h.promise().start);
    while (!h.done()) {
      // Most rounds have nothing queued: completions resume their waiters from the reap.
      if (!ready_.empty()) {
        run_ready();
        if (h.done()) break;
      }
      drive(ready_.empty());
    }
    return task<T>::take_result(h);
  }

  /// Start `t` in this runtime's own scope, from any thread: posted by MSG_RING through the
  /// calling thread's running runtime, or ring-less (see messenger) from a thread without one.
  /// Nothing is allocated: the post travels in the task's own frame.
  inline void post(task<void> t) noexcept {
    auto h = t.release();
    detail::promise_base& p = h.promise();
    p.start.handle = h;
    p.post = {detail::encode(&p.start, 0, detail::tag::posted_spawn), ring_.fd()};
    detail::post(p.post, p.start);
  }

  /// Start `t` in the runtime's own scope.
  inline void spawn(task<void> t) noexcept { root_.spawn(std::move(t)); }
  /// Resumes when every task spawned into the runtime's scope has finished.
  [[nodiscard]] inline scope::join_awaiter join() noexcept { return root_.join(); }

  /// Await `o`: `co_await rt.op(ops::read{...})` resumes with its completion. A stop request on
  /// `token` (a std::stop_token or an inplace_stop_token) cancels it (see operation).
  template <class Op>
  [[nodiscard]] inline operation<runtime, Op> op(Op o) noexcept {
    return operation<runtime, Op>(*this, std::move(o));
  }
  /// The same, cancelled by a stop request on `token`.
  template <class Op, stop_token_kind Token>
  [[nodiscard]] inline operation<runtime, Op, Token> op(Op o, Token token) noexcept {
    return operation<runtime, Op, Token>(*this, std::move(o), std::move(token));
  }
  /// Await a zero-copy send: it resumes on its first completion, with the send's result (more()
  /// says a notification follows), and `tracker` counts its buffer as the kernel's until the
  /// notification arrives (see zc_tracker). A stop request on `token` cancels it.
  template <detail::zero_copy_send Op>
  [[nodiscard]] inline operation<runtime, detail::zero_copy<Op>> op(Op o,
                                                                    zc_tracker& tracker) noexcept {
    return operation<runtime, detail::zero_copy<Op>>(*this, {std::move(o), &tracker});
  }
  template <detail::zero_copy_send Op, stop_token_kind Token>
  [[nodiscard]] inline operation<runtime, detail::zero_copy<Op>, Token> op(Op o,
                                                                           zc_tracker& tracker,
                                                                           Token token) noexcept {
    return operation<runtime, detail::zero_copy<Op>, Token>(*this, {std::move(o), &tracker},
                                                            std::move(token));
  }

  /// CQ slots reserved by operations in flight.
  [[nodiscard]] unsigned in_flight() const noexcept { return in_flight_; }
  /// The most CQ slots operations may hold at once.
  [[nodiscard]] unsigned budget() const noexcept { return budget_; }
  /// Operations that had to wait for room in the budget, since creation.
  [[nodiscard]] std::uint64_t parked_total() const noexcept { return parked_total_; }
  /// Times the run loop found completions waiting in the kernel's overflow list.
  [[nodiscard]] std::uint64_t overflow_events() const noexcept { return overflow_events_; }

  /// Sleeps waiting for their deadline (they share one kernel timer).
  [[nodiscard]] std::size_t sleeping() const noexcept { return sleeps_.size(); }

  /// TIMEOUTs armed for sleeps since creation: one at a time, for the earliest deadline.
  [[nodiscard]] std::uint64_t timer_arms() const noexcept { return sleeps_.arms(); }

  /// Times a sleep earlier than the armed timer moved it (an update, or a removal and a new arm).
  [[nodiscard]] std::uint64_t timer_rearms() const noexcept { return sleeps_.rearms(); }

  // ---- the interface of awaitables (not for applications) --------------------------------------

  /// The most slots one operation reserves: its CQE, a link timer's, a cancel request's.
  static constexpr unsigned max_slots = 3;

  /// Reserve the CQ slots of `h`, or park it until there is room. True when it may push now.
  [[nodiscard, gnu::always_inline]] inline bool admit(detail::operation_header& h) noexcept {
    if (take_slots(h.slots)) [[likely]] {
      h.reserved = h.slots;
      h.state = detail::op_state::in_flight;
      return true;
    }
    park(h);
    return false;
  }
  /// The first half of admit(): reserve `n` CQ slots if there is room and nothing is parked.
  [[nodiscard, gnu::always_inline]] inline bool take_slots(unsigned n) noexcept {
    if (in_flight_ + n > admit_limit_) [[unlikely]]
      return false;
    in_flight_ += n;
    return true;
  }
  /// The second: queue `h` until unpark() finds room for it.
  inline void park(detail::operation_header& h) noexcept {
    h.state = detail::op_state::parked;
    parked_.push(&h);
    admit_limit_ = 0;  // in order: nothing passes a parked operation
    ++parked_total_;
  }

  /// A user data for `h` (a new generation) naming `h`, recorded in `h` for cancellation.
  [[nodiscard, gnu::always_inline]] inline std::uint64_t tag_next(
      detail::operation_header& h) noexcept {
    return tag_next(h, h);
  }
  /// The same, naming `target`: the header its CQEs go to (a zero-copy send's tracker).
  [[nodiscard, gnu::always_inline]] inline std::uint64_t tag_next(
      detail::operation_header& h, detail::operation_header& target) noexcept {
    const std::uint64_t ud = detail::encode(&target, ++generation_, detail::tag::operation);
    // Atomic because another thread's stop request may read it (see check_remote_stop).
    std::atomic_ref(h.user_data).store(ud, std::memory_order_relaxed);
    return ud;
  }

  /// Push one SQE, submitting first when the SQ is full. False (with `error` set) only when the
  /// ring cannot take SQEs at all.
  template <class Op>
  [[nodiscard]] inline bool push(const Op& o, std::uint64_t ud, sqe_options options = {}) noexcept {
    while (!ring_.push(o, user_data(ud), options)) [[unlikely]]
      if (!make_sq_room(1)) return false;
    return true;
  }

  /// Room for `n` SQEs in the SQ (linked SQEs must go in together).
  [[nodiscard]] inline bool sq_room(unsigned n) noexcept {
    while (ring_.sq_space_left() < n) [[unlikely]]
      if (!make_sq_room(n)) return false;
    return true;
  }

  /// Cancel `h` (on the owning thread): a parked operation completes as cancelled without
  /// reaching the kernel; one in flight gets an ASYNC_CANCEL by its user data, pushed now and
  /// submitted with the next submit. Its frame still resumes only on its own completion.
  inline void cancel(detail::operation_header& h) noexcept {
    if (h.cancel_requested) return;
    h.cancel_requested = true;
    if (h.state != detail::op_state::in_flight) return;  // parked: unpark completes it
    send_cancel(h.user_data);
    // The cancel's CQE takes the slot the operation reserved for it.
    if (h.reserved > h.pending)
      --h.reserved;
    else
      ++in_flight_;
  }

  /// A stop request from any thread. On another thread it never touches the ring: it marks the
  /// operation and posts the cancel request to the owning ring (see messenger).
  inline void cancel_from_any_thread(detail::operation_header& h) noexcept {
    if (std::this_thread::get_id() == owner_) return cancel(h);
    std::atomic_ref(h.remote_stop).store(true, std::memory_order_seq_cst);
    const std::uint64_t ud = std::atomic_ref(h.user_data).load(std::memory_order_seq_cst);
    // Not yet submitted: the owner sees remote_stop when it submits (both accesses are seq_cst).
    if (ud != 0)
      (void)detail::send_ringless(
          ring_.fd(),
          (ud & ~detail::tag_mask) | static_cast<std::uint64_t>(detail::tag::remote_cancel));
  }

  /// After a submission: a stop request from another thread may have come before the user data
  /// was published.
  inline void check_remote_stop(detail::operation_header& h) noexcept {
    // Pairs with cancel_from_any_thread: either that thread read the user data stored before
    // this fence, or this load sees its mark.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (std::atomic_ref(h.remote_stop).load(std::memory_order_relaxed)) cancel(h);
  }

  /// The sleeps and their kernel timer.
  [[nodiscard]] detail::sleep_queue<runtime>& sleeps() noexcept { return sleeps_; }

  /// Queue `n` to run from the run loop.
  inline void make_ready(detail::ready_node* n) noexcept { ready_.push(n); }
  [[nodiscard]] detail::node_queue& run_queue() noexcept { return ready_; }

  /// Complete `h` without the kernel (cancelled before submission, or the ring failed).
  inline void complete_locally(detail::operation_header& h, int res) noexcept {
    h.pending = 0;
    h.state = detail::op_state::done;
    (void)h.hooks->on_cqe(&h, detail::tag::operation, detail::cqe_data{res, 0, nullptr});
    ready_.push(&h);
  }

  /// Take back the slots `h` still holds (a failed push).
  inline void release(detail::operation_header& h) noexcept {
    in_flight_ -= h.reserved;
    h.reserved = 0;
  }

  /// The thread that owns the ring.
  [[nodiscard]] std::thread::id owner() const noexcept { return owner_; }

 private:
  static Ring create_ring(const setup& s) {
    auto r = Ring::create(s);
    if (!r) throw std::system_error(r.error().code(), r.error().context());
    return std::move(*r);
  }

  /// Resume everything queued now; what they queue runs in the next round, after the ring has
  /// been looked at again.
  inline void run_ready() {
    detail::node_queue round;
    round.splice(ready_);
    while (!round.empty()) round.pop()->run();
  }

  /// Submit, wait for at least one completion when `block` (and nothing else is runnable), and
  /// dispatch what arrived.
  void drive(bool block) {
    if (block) {
      if (const auto r = ring_.submit_and_wait(1); !r) [[unlikely]]
        check_enter(r.error());
    } else if (const auto r = submit_without_waiting(); !r) [[unlikely]] {
      check_enter(r.error());
    }
    reap<detail::delivery::resume>();
  }

  std::expected<unsigned, std::error_code> submit_without_waiting() {
    if constexpr (Ring::is_deferred) {
      if (auto s = ring_.submit(); !s) return s;
      return ring_.get_events();
    } else {
      return ring_.submit();
    }
  }

  /// An enter that failed for another reason than a signal or a full CQ is the ring's end.
  [[gnu::noinline]] static void check_enter(std::error_code e) {
    if (e != std::errc::interrupted && e != std::errc::device_or_resource_busy &&
        e != std::errc::resource_unavailable_try_again)
      throw std::system_error(e, "urine::async::runtime: io_uring_enter");
  }

  /// Dispatch every ready completion, then admit parked operations. Resuming a waiter from the
  /// walk is safe because each completion is consumed before it is dispatched: the slots it
  /// frees are free in the kernel's eyes too, and a reap nested in the resumed code starts after
  /// it.
  template <detail::delivery D>
  [[gnu::always_inline]] inline void reap() noexcept {
    if (ring_.cq_has_overflow()) [[unlikely]]
      ++overflow_events_;
    const auto each = [this](const typename Ring::completion_type& c) noexcept { dispatch<D>(c); };
    if constexpr (D == detail::delivery::resume)
      ring_.consume_each_cqe(each);
    else
      ring_.for_each_cqe(each);
    if (!parked_.empty()) [[unlikely]]
      unpark();
  }

  /// The waiter `n` may run.
  template <detail::delivery D>
  inline void deliver(detail::ready_node& n) noexcept {
    if constexpr (D == detail::delivery::resume)
      n.run();
    else if constexpr (D == detail::delivery::queue)
      ready_.push(&n);
  }

  template <detail::delivery D>
  [[gnu::always_inline]] inline void dispatch(const typename Ring::completion_type& c) noexcept {
    const std::uint64_t ud = c.user_data().value();
    if (detail::tag_of(ud) == detail::tag::single) [[likely]] {
      // One CQE, one slot, no hook: the result goes into the header and the waiter (never a
      // combinator's child: children are cancellable) resumes.
      // No tag bits and no generation: the user data is the address itself.
      auto* h = reinterpret_cast<detail::operation_header*>(static_cast<std::uintptr_t>(ud));
      h->res = c.result();
      h->res_flags = static_cast<std::uint32_t>(c.flags());
      if (c.more()) [[unlikely]]
        return;  // a multishot request awaited as one operation resumes on its last CQE
      --in_flight_;
      if constexpr (D == detail::delivery::resume) {
        // It runs now, and its await_resume marks it idle: nothing can look at it in between.
        h->handle.resume();
      } else {
        h->state = detail::op_state::done;  // what a frame destroyed before it runs goes by
        deliver<D>(*h);
      }
      return;
    }
    dispatch_tagged<D>(ud, c.result(), static_cast<std::uint32_t>(c.flags()),
                       detail::extra_of<typename Ring::completion_type, Ring::has_big_cqes,
                                        Ring::config::cqe_layout::mixed>(c));
  }

  /// Every completion but a single operation's. Its parts come in registers, so the completion
  /// need not live in memory (on big-CQE rings its extra bytes do).
  template <detail::delivery D>
  [[gnu::noinline]] void dispatch_tagged(std::uint64_t ud, std::int32_t res, std::uint32_t flags,
                                         const std::uint64_t* extra) noexcept {
    switch (detail::tag_of(ud)) {
      case detail::tag::operation:
      case detail::tag::link_timer: {
        auto* h = detail::address_of<detail::operation_header>(ud);
        if (h->hooks->route != nullptr) [[unlikely]] {
          const detail::routed r = h->hooks->route(h, ud, detail::cqe_data{res, flags, extra});
          in_flight_ -= r.freed;
          if (r.first != nullptr) deliver<D>(*r.first);
          if (r.then != nullptr) deliver<D>(*r.then);
          break;
        }
        const bool last = detail::tag_of(ud) == detail::tag::link_timer ||
                          !any(cqe_flags(flags), cqe_flags::more);
        if (last) {
          if (--h->pending == 0) {
            // Done: every slot it still holds goes back, a cancel slot it never used included.
            in_flight_ -= h->reserved;
            h->reserved = 0;
            h->state = detail::op_state::done;
          } else {
            --h->reserved;
            --in_flight_;
          }
        }
        const detail::cqe_data d{res, flags, extra};
        if (h->hooks->on_cqe(h, detail::tag_of(ud), d)) deliver<D>(*h);
        break;
      }
      case detail::tag::posted: {
        auto* n = detail::receive_post(detail::address_of<detail::ready_node>(ud));
        // At shutdown nothing runs, but the sleeps' timer counts its completions.
        if constexpr (D == detail::delivery::drop)
          (void)sleeps_.collected(n);
        else
          deliver<D>(*n);
        break;
      }
      case detail::tag::posted_spawn: {
        auto* n = detail::receive_post(detail::address_of<detail::ready_node>(ud));
        root_.adopt(
            std::coroutine_handle<detail::promise<void>>::from_address(n->handle.address()));
        break;
      }
      case detail::tag::post_failed:
        // The target's CQ was full: the post never arrived, so its frame is still suspended.
        if (!detail::send_ringless(*detail::address_of<detail::post_request>(ud))) [[unlikely]] {
          std::fputs("urine::async: a post to another runtime could not be delivered\n", stderr);
          std::abort();
        }
        break;
      case detail::tag::remote_cancel:
        // Only the user data is used: the operation may be gone, and then nothing matches.
        ++in_flight_;
        send_cancel((ud & ~detail::tag_mask) | static_cast<std::uint64_t>(detail::tag::operation));
        break;
      case detail::tag::ignored:
      case detail::tag::single:  // handled by dispatch
      default:
        --in_flight_;
        break;
    }
  }

  /// Admit parked operations while there is room, in order.
  [[gnu::noinline]] void unpark() noexcept {
    admit_limit_ = budget_;
    while (!parked_.empty()) {
      auto* h = static_cast<detail::operation_header*>(parked_.front());
      // Stopped while parked, on this thread or another: cancelled without reaching the kernel
      // (submitted, it could still take data that another operation waits for).
      if (h->cancel_requested || std::atomic_ref(h->remote_stop).load(std::memory_order_seq_cst)) {
        h->cancel_requested = true;
        (void)parked_.pop();
        complete_locally(*h, -ECANCELED);
        continue;
      }
      if (in_flight_ + h->slots > budget_) {
        admit_limit_ = 0;
        return;
      }
      (void)parked_.pop();
      in_flight_ += h->slots;
      h->reserved = h->slots;
      h->state = detail::op_state::in_flight;
      h->hooks->push(h);
    }
  }

  /// this_thread_poster's hook: a MSG_RING SQE to the target, sent with the next submit. Its own
  /// CQE is skipped on success (the frame may already run elsewhere); a failure posts one.
  static void send_post(void* self, detail::post_request& r, detail::ready_node& node) noexcept {
    auto& rt = *static_cast<runtime*>(self);
    const detail::post_request copy = r;
    const std::uint64_t failure = detail::encode(&r, 0, detail::tag::post_failed);
    detail::publish_for_post(node);
    if constexpr (Ring::is_iopoll) {
      (void)rt;
      (void)failure;
      if (!detail::send_ringless(copy)) std::abort();
    } else if (!rt.push(
                   ops::msg_ring{.target = copy.target_fd, .data = user_data(copy.target_data)},
                   failure, sqe_options{.flags = sqe_flags::cqe_skip_success})) {
      if (!detail::send_ringless(copy)) std::abort();
    }
  }

  inline void send_cancel(std::uint64_t target) noexcept {
    const ops::async_cancel c{.match = ops::cancel_match::of(user_data(target))};
    if constexpr (Ring::is_iopoll) {
      (void)c;  // IOPOLL rings refuse ASYNC_CANCEL: the operation completes on its own
      --in_flight_;
    } else if (!push(c, static_cast<std::uint64_t>(detail::tag::ignored))) {
      --in_flight_;
    }
  }

  /// Submit so the kernel consumes SQEs. False when the ring cannot take any.
  [[gnu::noinline]] bool make_sq_room(unsigned n) noexcept {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      auto r = ring_.submit();
      if (!r && r.error() != std::errc::interrupted &&
          r.error() != std::errc::device_or_resource_busy &&
          r.error() != std::errc::resource_unavailable_try_again)
        return false;
      if constexpr (Ring::is_sqpoll) {
        if (ring_.sq_space_left() < n) (void)ring_.wait_for_sq_space();
      }
      if (ring_.sq_space_left() >= n) return true;
      if (!r) reap<detail::delivery::queue>();  // the kernel wants completions consumed first
    }
    return false;
  }

  void shutdown() noexcept {
    if (!ring_) return;
    // Parked operations never reached the kernel: nothing to collect.
    forget_parked();
    sleeps_.close();
    if constexpr (!Ring::is_iopoll) {
      if (in_flight_ > 0) {
        ++in_flight_;
        (void)push(ops::async_cancel{.match = ops::cancel_match::any(), .all = true},
                   static_cast<std::uint64_t>(detail::tag::ignored));
      }
    }
    for (int rounds = 0; (in_flight_ > 0 || sleeps_.outstanding() > 0) && rounds < 100000;
         ++rounds) {
      auto r = ring_.submit_and_wait(1);
      if (!r && r.error() != std::errc::interrupted &&
          r.error() != std::errc::device_or_resource_busy)
        break;
      ring_.for_each_cqe([this](const typename Ring::completion_type& c) noexcept {
        dispatch<detail::delivery::drop>(c);
      });
      forget_parked();
    }
    ready_.clear();
    root_.destroy_all();
  }

  void forget_parked() noexcept {
    while (!parked_.empty())
      static_cast<detail::operation_header*>(parked_.pop())->state = detail::op_state::idle;
    admit_limit_ = budget_;
  }

  Ring ring_;
  detail::node_queue ready_;
  detail::node_queue parked_;
  scope root_;
  unsigned in_flight_ = 0;
  unsigned budget_ = 0;
  /// What admit() compares against: the budget, or 0 while operations are parked (they go
  /// first). One comparison on the fast path instead of two.
  unsigned admit_limit_ = 0;
  std::uint16_t generation_ = 0;
  std::uint64_t overflow_events_ = 0;
  std::uint64_t parked_total_ = 0;
  std::thread::id owner_ = std::this_thread::get_id();
  detail::sleep_queue<runtime> sleeps_{*this};
};

/// Await one typed operation. Its state (the operation, the completion header, the result) lives
/// where the awaiter lives: in the awaiting frame. Nothing happens until it is awaited; the SQE
/// is prepared in await_suspend, with the header's address as user data (and, where it can be
/// cancelled, a fresh generation). Without a stop token, outside a combinator, on a ring without
/// big CQEs, it is a single operation: its completion is stored and its waiter resumed by the
/// reaping walk itself, with nothing paid for cancellation.
///
/// With a stop token, a stop request cancels it (ASYNC_CANCEL by user data, sent with the next
/// submit; from another thread, posted to the owning ring). The frame still resumes only on the
/// operation's own completion, with the kernel's result: -ECANCELED only if the kernel cancelled
/// it; if it completed anyway, the real result — an accepted descriptor, bytes in a provided
/// buffer — is what the awaiter gets. A stop requested before the operation is submitted
/// completes it with ECANCELED without the kernel.
template <class Runtime, class Op, class Token>
class operation : private detail::operation_header {
  /// Whether a stop token comes with it (Token is void otherwise).
  static constexpr bool Stoppable = !std::is_void_v<Token>;
  /// What the stoppable constructor takes (a stand-in where there is no token).
  using token_type = std::conditional_t<Stoppable, Token, detail::no_stop_link>;

 public:
  using result_type = typename Runtime::result_type;

  inline operation(Runtime& rt, Op op) noexcept
    requires(!Stoppable)
      : rt_(&rt), op_(std::move(op)) {
    hooks = &hooks_table;
  }
  inline operation(Runtime& rt, Op op, token_type token) noexcept
    requires Stoppable
      : rt_(&rt), op_(std::move(op)) {
    hooks = &hooks_table;
    user_data = 0;
    stop_.token = std::move(token);
  }
  /// Movable until started (combinators take their children by value).
  inline operation(operation&& o) noexcept : rt_(o.rt_), op_(std::move(o.op_)) {
    hooks = &hooks_table;
    if constexpr (Stoppable) {
      user_data = 0;
      stop_.token = std::move(o.stop_.token);
    }
  }
  operation& operator=(operation&&) = delete;
  inline ~operation() {
    detail::abort_if_in_flight(*this);
    // A result nobody took (the frame is destroyed by the runtime's shutdown).
    if (state == detail::op_state::done && res >= 0 && detail::is_plain_descriptor(op_))
      ::close(res);
  }

  inline bool await_ready() const noexcept { return false; }
  [[gnu::always_inline]] inline bool await_suspend(std::coroutine_handle<> h) noexcept {
    handle = h;
    return begin();
  }
  inline result_type await_resume() noexcept { return take_result(); }

  // ---- the child protocol of combinators -------------------------------------------------------

  /// Start as a combinator's child: when done, `notify(this node)` runs from the run loop.
  inline void start_child(std::coroutine_handle<> (*notify_fn)(detail::ready_node*) noexcept,
                          void* ctx) noexcept {
    notify = notify_fn;
    context = ctx;
    cancellable_ = true;
    user_data = 0;  // read by a cancel from another thread (a combinator's parent's stop)
    if (!begin()) rt_->make_ready(this);
  }
  /// Ask for cancellation, from any thread (a combinator forwards its parent's stop from the
  /// thread that requested it).
  inline void cancel() noexcept { rt_->cancel_from_any_thread(*this); }
  /// The result, once done.
  [[nodiscard]] inline result_type take_result() noexcept {
    if constexpr (Stoppable) stop_.callback.reset();
    state = detail::op_state::idle;
    result_type r(res, res_flags);
    if constexpr (has_extra) r.set_extra(extra_);
    return r;
  }
  [[nodiscard]] inline detail::ready_node* node() noexcept { return this; }

 protected:
  Runtime* rt_;
  Op op_;

 private:
  /// CQEs beyond the operation's own that it waits for: a link timer's.
  static constexpr std::uint8_t extra_cqes = detail::is_timed<Op> ? 1 : 0;
  /// A CQ slot for a zero-copy send's notification: the operation's last CQE, or the tracker's.
  static constexpr std::uint8_t notification_slot = detail::posts_notification<Op> ? 1 : 0;
  /// Whether the ring's CQEs carry 16 extra bytes for the result.
  static constexpr bool has_extra = !std::is_same_v<typename Runtime::extra_type, no_extra>;
  /// Whether the operation can go as tag::single: one CQE, nothing to copy beside the result,
  /// and no way to be cancelled (neither a stop token nor a combinator asks) — so no hook, no
  /// generation and no cancel slot.
  static constexpr bool may_be_single =
      !Stoppable && !detail::is_timed<Op> && !detail::posts_notification<Op> && !has_extra;

  /// Push the SQE(s); the slots are reserved.
  [[gnu::always_inline]] inline void push_now() noexcept {
    bool pushed;
    if constexpr (detail::is_timed<Op>) {
      pushed = rt_->sq_room(2);
      if (pushed) {
        const std::uint64_t ud = rt_->tag_next(*this);
        pushed = rt_->push(op_.op, ud, sqe_options{.flags = sqe_flags::io_link}) &&
                 rt_->push(ops::link_timeout{.after = &op_.after},
                           (ud & ~detail::tag_mask) |
                               static_cast<std::uint64_t>(detail::tag::link_timer));
      }
    } else if constexpr (detail::is_zero_copy<Op>) {
      // The CQEs go to the tracker, which hands the first back to this operation. Its CQE
      // cannot come before expect(): a reap that push makes to free SQ room runs before the SQE
      // is placed.
      pushed = rt_->push(op_.op, rt_->tag_next(*this, op_.tracker->header()));
      if (pushed) op_.tracker->expect(*this);
    } else {
      pushed = rt_->push(op_, rt_->tag_next(*this));
    }
    if (!pushed) [[unlikely]] {
      rt_->release(*this);
      rt_->complete_locally(*this, -EBADF);
    }
  }

  [[gnu::always_inline]] inline bool begin() noexcept {
    if constexpr (may_be_single) {
      if (!cancellable_) [[likely]] {
        // All four fields in one go (the compiler joins the stores): one slot, one CQE.
        if (rt_->take_slots(1)) [[likely]] {
          state = detail::op_state::in_flight;
          slots = 1;
          reserved = 1;
          pending = 1;
          push_single();
        } else {
          slots = 1;
          pending = 1;
          rt_->park(*this);
        }
        return true;
      }
    }
    const bool stoppable = stop_possible();
    if constexpr (Stoppable) {
      if (stoppable && stop_.token.stop_requested()) [[unlikely]] {
        state = detail::op_state::done;
        res = -ECANCELED;
        res_flags = 0;
        return false;
      }
    }
    cancel_requested = false;
    remote_stop = false;
    slots = static_cast<std::uint8_t>(1 + extra_cqes + notification_slot +
                                      ((stoppable || cancellable_) ? 1 : 0));
    pending = static_cast<std::uint8_t>(1 + extra_cqes);
    if (rt_->admit(*this)) push_now();
    // Registered after the submission: a stop already requested runs the callback here, on
    // this thread; one from another thread finds the user data published.
    if constexpr (Stoppable) {
      if (stoppable) stop_.callback.emplace(stop_.token, stopper{this});
    }
    return true;
  }

  /// Push the SQE of a single operation; its slot is reserved.
  [[gnu::always_inline]] inline void push_single() noexcept {
    if (!rt_->push(op_, detail::encode(this, 0, detail::tag::single))) [[unlikely]] {
      rt_->release(*this);
      rt_->complete_locally(*this, -EBADF);
    }
  }

  static void push_parked(detail::operation_header* h) noexcept {
    auto* self = static_cast<operation*>(h);
    if constexpr (may_be_single) {
      if (!self->cancellable_) return self->push_single();
    }
    self->push_now();
    // Submitted after waiting in the queue: a stop from another thread (its token's, or its
    // combinator's parent's) may have found no user data to cancel, and left its mark instead.
    // Before the first push nobody could be told of the operation: its callback (or the
    // combinator's) is registered after it.
    if (self->state == detail::op_state::in_flight &&
        (self->stop_registered() || self->cancellable_))
      self->rt_->check_remote_stop(*self);
  }

  static bool take_cqe(detail::operation_header* h, detail::tag t,
                       const detail::cqe_data& d) noexcept {
    auto* self = static_cast<operation*>(h);
    if (t == detail::tag::operation && is_notification(d)) {
      // A send awaited without a tracker resumes on its notification, with the send's result;
      // nothing follows.
      h->res_flags &= ~static_cast<std::uint32_t>(cqe_flags::more);
    } else if (t == detail::tag::operation) {
      h->res = d.res;
      h->res_flags = d.flags;
      if constexpr (has_extra) {
        self->extra_ = {};
        if (d.extra != nullptr) std::memcpy(self->extra_.words, d.extra, sizeof self->extra_.words);
      }
    } else if constexpr (detail::is_timed<Op>) {
      self->timer_result_ = d.res;
    }
    if constexpr (detail::is_timed<Op>) {
      // The timer fired and cancelled the operation: say so as ETIME.
      if (h->pending == 0 && self->timer_result_ == -ETIME && h->res == -ECANCELED) {
        h->res = -ETIME;
        h->res_flags = 0;
      }
    }
    return h->pending == 0;
  }

  [[nodiscard]] static inline bool is_notification(const detail::cqe_data& d) noexcept {
    if constexpr (detail::posts_notification<Op>)
      return any(cqe_flags(d.flags), cqe_flags::notif);
    else
      return false;
  }

  /// The hooks every object of this type points at.
  static constexpr detail::operation_hooks hooks_table{&take_cqe, &push_parked};

  struct stopper {
    operation* self;
    void operator()() const noexcept { self->rt_->cancel_from_any_thread(*self); }
  };

  [[nodiscard]] inline bool stop_possible() const noexcept {
    if constexpr (Stoppable)
      return stop_.token.stop_possible();
    else
      return false;
  }
  [[nodiscard]] inline bool stop_registered() const noexcept {
    if constexpr (Stoppable)
      return stop_.callback.has_value();
    else
      return false;
  }

 protected:
  /// The link timer's result (timed operations only).
  [[no_unique_address]] std::conditional_t<detail::is_timed<Op>, std::int32_t, no_extra>
      timer_result_{};
  [[no_unique_address]] typename Runtime::extra_type extra_{};

 private:
  [[no_unique_address]] std::conditional_t<Stoppable, detail::stop_link<Token, stopper>,
                                           detail::no_stop_link> stop_;
  bool cancellable_ = false;
};

}  // namespace urine::async
