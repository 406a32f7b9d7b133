// Zero-copy sends that resume on their first completion. A SEND_ZC or SENDMSG_ZC posts two CQEs
// with the same user data: the send's result (F_MORE set when a notification follows), then the
// notification (F_NOTIF) once the kernel no longer reads the caller's buffer. The first resumes
// the sender, so it can go on at once; the second can come long after the sender's frame has
// moved on, so the user data names a zc_tracker, which the caller owns (one per connection, say)
// and which counts the buffers the kernel still holds. Nothing is allocated: the tracker finds the
// send a first CQE is for among the sends it has in flight, by the user data's generation.
module;
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
export module urine.async:zero_copy;
import urine.abi;
import :core;

export namespace urine::async {

/// The buffers of zero-copy sends the kernel still holds. `co_await rt.op(ops::send_zc{...},
/// tracker)` resumes with the send's result as soon as its first completion arrives; the
/// tracker counts the send as pending until its notification says the kernel no longer reads the
/// buffer. A buffer may be reused or freed once pending() is 0 (`co_await tracker.drained()`).
///
/// Owned by the caller, on the runtime's thread; its address is the user data of the sends, so
/// it does not move. It must outlive every notification of its sends: destroyed while one is
/// still to come, a debug build aborts with a sentence. Await drained() before it goes (the
/// runtime's destructor also collects every notification, so a tracker that outlives the runtime
/// is safe).
class zc_tracker : private detail::operation_header {
 public:
  inline zc_tracker() noexcept { hooks = &hooks_table; }
  zc_tracker(const zc_tracker&) = delete;
  zc_tracker& operator=(const zc_tracker&) = delete;
  inline ~zc_tracker() {
#ifndef NDEBUG
    if (pending_ != 0 || drain_waiter_ != nullptr) {
      std::fputs(
          "urine::async: a zc_tracker was destroyed while the kernel still holds the buffer of "
          "one of its sends (its notification is still to come); co_await its drained() "
          "first\n",
          stderr);
      std::abort();
    }
#endif
  }

  /// Sends whose buffer the kernel may still read: submitted, and their notification (or, for a
  /// send that failed before it took the buffer, their only completion) not yet arrived.
  [[nodiscard]] inline unsigned pending() const noexcept { return pending_; }
  /// Notifications received since creation.
  [[nodiscard]] inline std::uint64_t notifications() const noexcept { return notifications_; }
  /// Notifications that said the kernel copied the data instead (sends with
  /// recvsend_flags::send_zc_report_usage; over loopback the kernel always copies).
  [[nodiscard]] inline std::uint64_t copied() const noexcept { return copied_; }

  struct drained_awaiter {
    zc_tracker* tracker;
    detail::ready_node node{};
    [[nodiscard]] inline bool await_ready() const noexcept { return tracker->pending_ == 0; }
    inline void await_suspend(std::coroutine_handle<> h) noexcept {
      if (tracker->drain_waiter_ != nullptr) [[unlikely]] {
        std::fputs("urine::async: two coroutines await the drained() of one zc_tracker\n", stderr);
        std::abort();
      }
      node.handle = h;
      tracker->drain_waiter_ = &node;
    }
    inline void await_resume() const noexcept {}
  };
  /// Resumes when pending() is 0: the kernel holds none of the buffers sent through this tracker.
  /// One coroutine at a time may await it.
  [[nodiscard]] inline drained_awaiter drained() noexcept { return {this}; }

  // ---- the interface of awaitables (not for applications) --------------------------------------

  /// What the sends' user data points at.
  [[nodiscard]] inline detail::operation_header& header() noexcept { return *this; }

  /// `send` went to the kernel with a user data naming this tracker: its first completion is
  /// routed back to it, and its buffer counts as held until its notification.
  inline void expect(detail::operation_header& send) noexcept {
    send.next = sending_;
    sending_ = &send;
    ++pending_;
  }

 private:
  /// One CQE with this tracker's address in its user data.
  static inline detail::routed route(detail::operation_header* h, std::uint64_t ud,
                                     const detail::cqe_data& d) noexcept {
    auto* self = static_cast<zc_tracker*>(h);
    const auto flags = cqe_flags(d.flags);
    if (any(flags, cqe_flags::notif)) {
      // The notification's slot was the send's, kept by the tracker since its first CQE.
      ++self->notifications_;
      if ((static_cast<std::uint32_t>(d.res) & notif_usage_zc_copied) != 0) ++self->copied_;
      return {.freed = 1, .first = self->release_one()};
    }
    detail::operation_header* send = self->take_send(ud);
    // Its slots go back but for the notification's, when one follows (F_MORE).
    const bool notification_follows = any(flags, cqe_flags::more);
    detail::routed r{.freed = send->reserved - (notification_follows ? 1u : 0u), .first = send};
    send->reserved = 0;
    send->pending = 0;
    send->state = detail::op_state::done;
    (void)send->hooks->on_cqe(send, detail::tag::operation, d);
    if (!notification_follows) r.then = self->release_one();
    return r;
  }

  /// The send in flight that `ud` was submitted with, taken off the list. The kernel posts one
  /// first CQE per send, so it is there.
  inline detail::operation_header* take_send(std::uint64_t ud) noexcept {
    detail::ready_node** link = reinterpret_cast<detail::ready_node**>(&sending_);
    while (static_cast<detail::operation_header*>(*link)->user_data != ud) link = &(*link)->next;
    auto* send = static_cast<detail::operation_header*>(*link);
    *link = send->next;
    return send;
  }

  /// One buffer fewer in the kernel's hands: the coroutine awaiting drained(), if it may run now.
  inline detail::ready_node* release_one() noexcept {
    --pending_;
    if (pending_ != 0 || drain_waiter_ == nullptr) return nullptr;
    detail::ready_node* w = drain_waiter_;
    drain_waiter_ = nullptr;
    return w;
  }

  static inline bool no_cqe(detail::operation_header*, detail::tag,
                            const detail::cqe_data&) noexcept {
    return false;
  }
  static inline void no_push(detail::operation_header*) noexcept {}
  /// The runtime reaches a tracker only through route.
  static constexpr detail::operation_hooks hooks_table{&no_cqe, &no_push, &route};

  detail::operation_header* sending_ = nullptr;  ///< sends awaiting their first CQE, linked by next
  detail::ready_node* drain_waiter_ = nullptr;
  unsigned pending_ = 0;
  std::uint64_t notifications_ = 0;
  std::uint64_t copied_ = 0;
};

}  // namespace urine::async

export namespace urine::async::detail {

/// A zero-copy send awaited with a tracker (see runtime::op): the typed operation, and the
/// tracker its notification goes to.
template <class Op>
struct zero_copy {
  Op op;
  zc_tracker* tracker;
};
template <class Op>
inline constexpr bool is_zero_copy = false;
template <class Op>
inline constexpr bool is_zero_copy<zero_copy<Op>> = true;

/// The operations whose completions include a notification.
template <class Op>
concept zero_copy_send = Op::code == opcode::send_zc || Op::code == opcode::sendmsg_zc;

}  // namespace urine::async::detail
