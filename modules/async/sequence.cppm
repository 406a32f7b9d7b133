// Multishot operations as async sequences: one request posts many completions (F_MORE while it
// stays armed); `co_await seq.next()` yields them one by one. Completions that arrive while
// nobody awaits wait in fixed storage inside the sequence (in the frame); past it, those that
// carry a provided buffer of a non-incremental ring wait chained through that ring's per-buffer
// state (each holds a distinct buffer id until it is yielded), so a receive loses nothing
// whatever the storage, and the request's last completion has a slot of its own. When the kernel
// stops the request (F_MORE clear) the sequence ends, or, when the user asked for it, re-arms at
// the next next() (after ENOBUFS, once buffers have been given back). close() cancels the request
// and drains it; what the drained completions produced (accepted descriptors, provided buffers) is
// released. A stop token, if given, ends the sequence as cancel() does, from any thread.
module;
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
export module urine.async:sequence;
import urine.abi;
import urine.ops;
import urine.registration;
import :core;
import :runtime;
import :stop;
import :time;

export namespace urine::async {

/// What a sequence does when the kernel stops its request without being asked to.
enum class rearm : std::uint8_t {
  never,  ///< the sequence ends with that completion
  always  ///< the next next() submits the request again (unless it ended with end of stream)
};

/// How a sequence behaves at its ends: whether it re-arms when the kernel ends the request, and
/// the buffer ring that unclaimed completions go back to.
struct sequence_options {
  /// Whether the request is submitted again when a completion arrives without F_MORE.
  rearm mode = rearm::never;
  /// The provided-buffer ring the request selects from: completions buffered and never taken are
  /// given back to it, and (unless it is incremental) completions past the sequence's storage
  /// wait chained through it instead of being dropped.
  buffer_ring* buffers = nullptr;
};

/// A multishot request's completions. Lives in the frame (it is the operation's state); must
/// not be destroyed while armed (close() it first, or let the runtime's destructor drain it).
/// Completions nobody awaits wait in storage for `Capacity` of them; past it, a receive on a
/// non-incremental buffer ring given in the options loses none (see overruns()), anything else
/// is released and the request stopped.
/// With a stop token (`Token` a std::stop_token or an inplace_stop_token; void for none), a stop
/// request ends it as cancel() does: on the owning thread an ASYNC_CANCEL by its user data, from
/// another thread a request posted to the owning ring; next() then yields what is buffered and
/// ends, and the sequence never re-arms.
template <class Runtime, class Op, std::size_t Capacity = 32, class Token = void>
class sequence : private detail::operation_header {
  /// Whether a stop token comes with it.
  static constexpr bool Stoppable = !std::is_void_v<Token>;
  /// What the stoppable constructor takes (a stand-in where there is no token).
  using token_type = std::conditional_t<Stoppable, Token, detail::no_stop_link>;

 public:
  using result_type = typename Runtime::result_type;

  inline sequence(Runtime& rt, Op op, sequence_options options = {}) noexcept
    requires(!Stoppable)
      : rt_(&rt), op_(std::move(op)), options_(options) {
    hooks = &hooks_table;
    user_data = 0;
  }
  inline sequence(Runtime& rt, Op op, sequence_options options, token_type token) noexcept
    requires Stoppable
      : rt_(&rt), op_(std::move(op)), options_(options) {
    hooks = &hooks_table;
    user_data = 0;
    stop_.token = std::move(token);
    // Here already (the sequence never moves): a stop before the first next() ends it unarmed.
    stop_.callback.emplace(stop_.token, stopper{this});
  }
  sequence(const sequence&) = delete;
  sequence& operator=(const sequence&) = delete;
  inline ~sequence() {
    detail::abort_if_in_flight(*this);
    release_buffered();
  }

  struct next_awaiter {
    sequence* s;
    inline bool await_ready() const noexcept { return s->count_ > 0 || s->finished(); }
    inline bool await_suspend(std::coroutine_handle<> h) noexcept {
      if (!s->armed() && s->header().state != detail::op_state::parked && !s->arm()) return false;
      s->handle = h;
      s->waiting_ = true;
      return true;
    }
    inline std::optional<result_type> await_resume() noexcept {
      if (s->count_ > 0) return s->pop();  // the storage is empty only when nothing waits
      return std::nullopt;
    }
  };
  /// The next completion, or nullopt once the sequence has ended and everything was yielded.
  [[nodiscard]] inline next_awaiter next() noexcept { return {this}; }

  struct close_awaiter {
    sequence* s;
    inline bool await_ready() const noexcept {
      return s->header().state != detail::op_state::in_flight &&
             s->header().state != detail::op_state::parked;
    }
    inline void await_suspend(std::coroutine_handle<> h) noexcept {
      s->closing_ = true;
      s->handle = h;
      s->waiting_ = true;
      s->rt_->cancel(s->header());
    }
    inline void await_resume() noexcept {
      s->closing_ = true;
      s->release_buffered();
    }
  };
  /// Cancel the request, wait for its last completion, release what nobody took.
  [[nodiscard]] inline close_awaiter close() noexcept { return {this}; }

  /// Ask the kernel to stop the request without waiting: an awaiting next() resumes with what is
  /// left and then nullopt. close() is this and the wait.
  inline void cancel() noexcept {
    ended_ = true;  // no re-arm, whatever the last completion says
    if (header().state == detail::op_state::in_flight || header().state == detail::op_state::parked)
      rt_->cancel(header());
  }

  /// Whether the kernel holds the request.
  [[nodiscard]] inline bool armed() const noexcept {
    return header().state == detail::op_state::in_flight;
  }
  /// Completions waiting to be yielded: in the storage, held by the buffer ring, and the last.
  [[nodiscard]] inline std::size_t buffered() const noexcept {
    return count_ + held_.count + (has_last_ ? 1 : 0);
  }
  /// Completions that found the storage full and could not wait elsewhere: released (a
  /// descriptor closed, a buffer given back), and the request cancelled; it then ends, or with
  /// rearm::always re-arms at the next next(). A completion that carries a buffer of
  /// `options.buffers` waits in that ring instead (never an overrun) unless the ring is
  /// incremental; the request's last completion (F_MORE clear) always has a slot of its own. So
  /// a receive on a non-incremental provided-buffer ring never overruns, whatever Capacity is;
  /// an accept, a poll, a timeout, or a receive on an incremental ring needs Capacity for the
  /// largest burst nobody awaits.
  [[nodiscard]] inline std::size_t overruns() const noexcept { return overruns_; }
  /// Times the request was submitted.
  [[nodiscard]] inline std::size_t arms() const noexcept { return arms_; }

 private:
  [[nodiscard]] inline const detail::operation_header& header() const noexcept { return *this; }
  [[nodiscard]] inline detail::operation_header& header() noexcept { return *this; }

  /// Ended: not in the kernel, nothing buffered, and no re-arm to come.
  [[nodiscard]] inline bool finished() const noexcept {
    return header().state != detail::op_state::in_flight &&
           header().state != detail::op_state::parked && (ended_ || closing_ || stopped());
  }

  /// Whether its token was stopped (from any thread): the end, whatever the kernel says.
  [[nodiscard]] inline bool stopped() const noexcept {
    if constexpr (Stoppable)
      return stop_.token.stop_requested();
    else
      return false;
  }

  /// Submit the request (again). False when the sequence has ended. remote_stop is not cleared:
  /// only a stop of its token sets it, and that is the end.
  inline bool arm() noexcept {
    if (ended_ || closing_ || stopped()) return false;
    cancel_requested = false;
    self_cancel_ = false;
    slots = 2;  // its completions and a cancel request's
    pending = 1;
    ++arms_;
    if (rt_->admit(*this)) push_now();
    return true;
  }

  inline void push_now() noexcept {
    if (!rt_->push(op_, rt_->tag_next(*this))) [[unlikely]] {
      rt_->release(*this);
      ended_ = true;
      rt_->complete_locally(*this, -EBADF);
    } else if constexpr (Stoppable) {
      // A stop from another thread may have read the user data of an earlier arm (or none),
      // and left its mark instead.
      rt_->check_remote_stop(*this);
    }
  }

  static void push_parked(detail::operation_header* h) noexcept {
    static_cast<sequence*>(h)->push_now();
  }

  static bool take_cqe(detail::operation_header* h, detail::tag,
                       const detail::cqe_data& d) noexcept {
    auto* self = static_cast<sequence*>(h);
    const result_type r(d.res, d.flags);
    const bool last = !r.more();
    if (self->closing_) {
      self->release(r);
    } else if (last && r.raw() == -ECANCELED && (h->cancel_requested || self->stopped())) {
      // The answer to a cancel: nothing to yield.
    } else if (self->count_ < Capacity) [[likely]] {
      self->items_[(self->head_ + self->count_++) % Capacity] = r;
    } else {
      self->overflow(r);
    }
    if (last) {
      // End of stream (0 bytes), an error other than ENOBUFS, or a cancel: the sequence ends,
      // unless the user asked for re-arming and the request merely ran out of buffers or stopped.
      const bool end_of_stream = r.raw() == 0 && !r.has_buffer() && is_stream();
      const bool stoppable = r.raw() == -ENOBUFS || (r.raw() >= 0 && !end_of_stream);
      // A cancel the sequence made itself (an overrun, a pause) re-arms like any other stop.
      const bool user_cancel = (h->cancel_requested && !self->self_cancel_) || self->stopped();
      const bool stopped = stoppable || (r.raw() == -ECANCELED && self->self_cancel_);
      if (self->options_.mode == rearm::never || !stopped || user_cancel) self->ended_ = true;
    }
    if (self->closing_ && !last) return false;
    return std::exchange(self->waiting_, false);
  }

  /// The hooks every object of this type points at.
  static constexpr detail::operation_hooks hooks_table{&take_cqe, &push_parked};

  /// A stop request on the token, on whichever thread made it.
  struct stopper {
    sequence* self;
    void operator()() const noexcept { self->rt_->cancel_from_any_thread(self->header()); }
  };

  static constexpr bool is_stream() noexcept {
    return Op::code == opcode::recv || Op::code == opcode::recvmsg ||
           Op::code == opcode::read_multishot;
  }

  /// A completion that finds the storage full (nobody is taking them): the last one goes to its
  /// own slot; one with a buffer waits in the buffer ring; anything else is released and the
  /// request stopped. Everything in the storage is older than anything held, and the last is the
  /// newest, so pop() keeps the arrival order by refilling the storage from them.
  [[gnu::noinline]] void overflow(const result_type& r) noexcept {
    if (!r.more()) {
      // One per arm, and a re-arm waits until everything was yielded: the slot is free.
      last_ = r;
      has_last_ = true;
    } else if (options_.buffers != nullptr && options_.buffers->hold(held_, r.raw(), r.flags())) {
      // Nothing is lost. With rearm::always the request also pauses — cancelled now, armed again
      // once everything was yielded — so a task that is busy elsewhere does not let its
      // connection take the buffers that every connection on the ring shares.
      if (options_.mode == rearm::always) pause();
    } else {
      ++overruns_;
      release(r);
      pause();
    }
  }

  /// Cancel the request on the sequence's own account: it ends, or re-arms with rearm::always.
  inline void pause() noexcept {
    if (header().cancel_requested) return;
    self_cancel_ = true;
    rt_->cancel(header());
  }

  /// The oldest completion (count_ > 0). While completions wait outside the storage, the storage
  /// stays full: the slot this frees takes the oldest of them.
  inline result_type pop() noexcept {
    const result_type r = items_[head_];
    head_ = (head_ + 1) % Capacity;
    if (held_.count != 0 || has_last_) [[unlikely]]
      refill();
    else
      --count_;
    return r;
  }

  /// Move the oldest completion waiting outside the storage into the slot pop() just freed.
  [[gnu::noinline]] void refill() noexcept {
    result_type& slot = items_[(head_ + count_ - 1) % Capacity];
    if (held_.count != 0) {
      const held_completion c = options_.buffers->unhold(held_);
      slot = result_type(c.res, bits(c.flags));
    } else {
      slot = last_;
      has_last_ = false;
    }
  }

  /// Release everything buffered: the storage, the held completions, the last one.
  inline void release_buffered() noexcept {
    while (count_ > 0) release(pop());
  }

  /// Give back what a completion produced: a descriptor is closed, a provided buffer returned.
  inline void release(const result_type& r) noexcept {
    if (!r.has_value()) return;
    if (detail::is_plain_descriptor(op_)) {
      ::close(r.value());
    } else if (r.has_buffer() && options_.buffers != nullptr) {
      auto lease = options_.buffers->take(r.raw(), r.flags());
      (void)lease;  // dropped at once: the buffer goes back to the ring
    }
  }

  Runtime* rt_;
  Op op_;
  sequence_options options_;
  std::array<result_type, Capacity> items_{};
  std::size_t head_ = 0;
  std::size_t count_ = 0;  ///< in items_; Capacity while anything waits outside it
  /// Completions past the storage, each chained through its buffer's state in options_.buffers
  /// (without a big CQE's extra bytes, which a receive never posts).
  held_completions held_{};
  result_type last_{};  ///< the request's last completion, when it found the storage full
  bool has_last_ = false;
  std::size_t overruns_ = 0;
  std::size_t arms_ = 0;
  bool waiting_ = false;
  bool ended_ = false;
  bool closing_ = false;
  bool self_cancel_ = false;  ///< the request was cancelled by pause(), not by the user
  /// Last: deregistered (waiting for a callback another thread runs) before the rest goes.
  [[no_unique_address]] std::conditional_t<Stoppable, detail::stop_link<Token, stopper>,
                                           detail::no_stop_link> stop_;
};

/// A sequence over a multishot request: `op` must ask for multishot itself
/// (accept_flags::multishot, recvsend_flags::recv_multishot, poll_flags::add_multi, read_multishot,
/// timeout_flags::multishot). A stop request on `token` ends it (see sequence).
template <class Runtime, class Op, stop_token_kind Token>
[[nodiscard]] inline sequence<Runtime, Op, 32, Token> multishot(Runtime& rt, Op op,
                                                                sequence_options options,
                                                                Token token) noexcept {
  return sequence<Runtime, Op, 32, Token>(rt, std::move(op), options, std::move(token));
}
/// The same, without a stop token.
template <class Runtime, class Op>
[[nodiscard]] inline sequence<Runtime, Op> multishot(
    Runtime& rt, Op op, sequence_options options = sequence_options()) noexcept {
  return sequence<Runtime, Op>(rt, std::move(op), options);
}

/// A multishot TIMEOUT: a completion every `period`, `count` times (0: until closed).
template <class Runtime>
[[nodiscard]] inline sequence<Runtime, detail::sleep_op> ticks(Runtime& rt,
                                                               std::chrono::nanoseconds period,
                                                               std::uint32_t count = 0) noexcept {
  return sequence<Runtime, detail::sleep_op>(
      rt, detail::sleep_op{
              .at = to_timespec(period), .flags = timeout_flags::multishot, .count = count});
}

}  // namespace urine::async
