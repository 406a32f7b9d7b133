// when_all / when_any over awaitable operations (rt.op(...), with_timeout, sleep_for), tasks, or
// any awaitable with the same child protocol: start_child, cancel, take_result. The children live
// inside the combinator's awaiter, which lives in the parent's frame: nothing is allocated. Each
// child reports its end through the run queue; the parent resumes once every child has ended,
// so no child's buffer is still in the kernel's hands when it does.
//
// A task has no cancellation of its own, so a task child is given as a stoppable child: a
// function of an inplace_stop_token returning the task. The combinator makes the task when it
// starts, with the token of a source it holds inline, and requests stop on that source when the
// child loses (or the parent's token is stopped); the task passes the token to what it awaits.
// Operations awaited without a token pay nothing for any of this.
module;
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
export module urine.async:when;
import :core;
import :stop;

export namespace urine::async {

/// The child protocol a combinator needs.
template <class C>
concept child_awaitable =
    requires(C& c, std::coroutine_handle<> (*fn)(detail::ready_node*) noexcept, void* ctx) {
      c.start_child(fn, ctx);
      c.cancel();
      c.take_result();
    };

/// A stoppable child: a function of the token the combinator stops it with, returning the
/// awaitable (a task, typically) that does the work.
template <class F>
concept stoppable_child_factory = !child_awaitable<F> && std::invocable<F&, inplace_stop_token> &&
                                  child_awaitable<std::invoke_result_t<F&, inplace_stop_token>>;

/// What a combinator accepts as a child.
template <class C>
concept combinator_child =
    child_awaitable<std::decay_t<C>> || stoppable_child_factory<std::decay_t<C>>;

/// What when_any resumes with: the index of the first child to complete, and every child's
/// result (the losers' too: a loser that completed before its cancel took effect delivers what
/// it produced, which is the caller's to use or release).
template <class... Results>
struct when_any_result {
  std::size_t index;
  std::tuple<Results...> results;
};

namespace detail {

/// A stoppable child inside its combinator: the function that makes it, the source of its token
/// (inline: std::stop_source would allocate its state), and, once started, what it made.
template <class F>
class stoppable_child {
 public:
  using made_type = std::invoke_result_t<F&, inplace_stop_token>;

  inline explicit stoppable_child(F make) noexcept(std::is_nothrow_move_constructible_v<F>)
      : make_(std::move(make)) {}
  /// Before it starts (a combinator is moved into place): the function moves, the source and
  /// the child are made anew.
  inline stoppable_child(stoppable_child&& o) noexcept(std::is_nothrow_move_constructible_v<F>)
      : make_(std::move(o.make_)) {}

  inline void start_child(std::coroutine_handle<> (*notify_fn)(ready_node*) noexcept,
                          void* ctx) noexcept {
    child_.emplace(std::invoke(make_, stop_.get_token()));
    child_->start_child(notify_fn, ctx);
  }
  /// From any thread: the child sees the stop through its token.
  inline void cancel() noexcept { stop_.request_stop(); }
  [[nodiscard]] inline auto take_result() { return child_->take_result(); }

 private:
  F make_;
  inplace_stop_source stop_;
  std::optional<made_type> child_;  // after the source: it is gone before the source is
};

/// How a child given to a combinator is kept.
template <class C>
using child_of = std::conditional_t<child_awaitable<C>, C, stoppable_child<C>>;

/// Shared by when_all and when_any: children in a tuple, a countdown, the parent to resume, and
/// the parent's stop token, if given (void if not), forwarded to every child.
template <bool Any, class Token, class... Children>
class combinator {
  static constexpr bool forwards_stop = !std::is_void_v<Token>;

 public:
  template <class... C>
  explicit combinator(C&&... c) noexcept
    requires(!forwards_stop)
      : children_(std::forward<C>(c)...) {}
  template <class... C>
  explicit combinator(std::conditional_t<forwards_stop, Token, no_stop_link> token,
                      C&&... c) noexcept
    requires forwards_stop
      : children_(std::forward<C>(c)...) {
    parent_stop_.token = std::move(token);
  }
  combinator(combinator&& o) noexcept : children_(std::move(o.children_)) {
    if constexpr (forwards_stop) parent_stop_.token = std::move(o.parent_stop_.token);
  }

  inline bool await_ready() const noexcept { return false; }
  inline bool await_suspend(std::coroutine_handle<> parent) noexcept {
    parent_ = parent;
    // One more than the children while they start: a child that ends at once (a task that
    // never suspends) cannot resume the parent before it has finished suspending.
    remaining_ = sizeof...(Children) + 1;
    start(std::index_sequence_for<Children...>{});
    // Registered after the children started: a stop from another thread finds each operation's
    // user data published (or its mark is seen when a parked one is submitted). One requested
    // already runs here.
    if constexpr (forwards_stop)
      parent_stop_.callback.emplace(parent_stop_.token, parent_stopper{this});
    return --remaining_ != 0;
  }
  inline auto await_resume() {
    // Waits for the callback if another thread runs it: the children outlive it.
    if constexpr (forwards_stop) parent_stop_.callback.reset();
    auto results = take(std::index_sequence_for<Children...>{});
    if constexpr (Any)
      return std::apply(
          [this](auto&&... r) {
            return when_any_result<std::decay_t<decltype(r)>...>{winner_, {std::move(r)...}};
          },
          std::move(results));
    else
      return results;
  }

 private:
  static constexpr std::size_t none = ~std::size_t{0};

  template <std::size_t... I>
  inline void start(std::index_sequence<I...>) noexcept {
    (std::get<I>(children_).start_child(&child_done<I>, this), ...);
  }
  template <std::size_t... I>
  inline auto take(std::index_sequence<I...>) {
    return std::tuple{std::get<I>(children_).take_result()...};
  }
  template <std::size_t... I>
  inline void cancel_except(std::size_t winner, std::index_sequence<I...>) noexcept {
    ((I != winner ? std::get<I>(children_).cancel() : void()), ...);
  }

  /// The parent's stop, on the thread that requested it: every child is asked to stop.
  struct parent_stopper {
    combinator* self;
    void operator()() const noexcept {
      self->cancel_except(none, std::index_sequence_for<Children...>{});
    }
  };

  template <std::size_t I>
  static std::coroutine_handle<> child_done(ready_node* n) noexcept {
    auto* self = static_cast<combinator*>(n->context);
    if constexpr (Any) {
      if (self->winner_ == none) {
        self->winner_ = I;
        self->cancel_except(I, std::index_sequence_for<Children...>{});
      }
    }
    if (--self->remaining_ == 0) return self->parent_;
    return std::noop_coroutine();
  }

  std::tuple<Children...> children_;
  std::size_t remaining_ = 0;
  std::size_t winner_ = none;
  std::coroutine_handle<> parent_;
  /// The parent's token, and the callback registered on it while the children run.
  [[no_unique_address]] std::conditional_t<forwards_stop, stop_link<Token, parent_stopper>,
                                           no_stop_link> parent_stop_;
};

}  // namespace detail

/// Await every child; resumes with a tuple of their results. A child is an awaitable or a
/// stoppable child (a function of an inplace_stop_token returning one, see when.cppm).
template <combinator_child... Children>
[[nodiscard]] inline detail::combinator<false, void, detail::child_of<std::decay_t<Children>>...>
when_all(Children&&... children) noexcept {
  static_assert(sizeof...(Children) > 0, "when_all(): give it at least one awaitable");
  return detail::combinator<false, void, detail::child_of<std::decay_t<Children>>...>(
      std::forward<Children>(children)...);
}
/// The same, and a stop requested on `token` (from any thread) asks every child to stop.
template <stop_token_kind Token, combinator_child... Children>
[[nodiscard]] inline detail::combinator<false, Token, detail::child_of<std::decay_t<Children>>...>
when_all(Token token, Children&&... children) noexcept {
  static_assert(sizeof...(Children) > 0, "when_all(): give it at least one awaitable");
  return detail::combinator<false, Token, detail::child_of<std::decay_t<Children>>...>(
      std::move(token), std::forward<Children>(children)...);
}

/// Await the first child to complete; the others are cancelled (a stoppable child's token is
/// stopped), and the parent resumes once every child has completed (see when_any_result).
template <combinator_child... Children>
[[nodiscard]] inline detail::combinator<true, void, detail::child_of<std::decay_t<Children>>...>
when_any(Children&&... children) noexcept {
  static_assert(sizeof...(Children) > 0, "when_any(): give it at least one awaitable");
  return detail::combinator<true, void, detail::child_of<std::decay_t<Children>>...>(
      std::forward<Children>(children)...);
}
/// The same, and a stop requested on `token` (from any thread) asks every child to stop.
template <stop_token_kind Token, combinator_child... Children>
[[nodiscard]] inline detail::combinator<true, Token, detail::child_of<std::decay_t<Children>>...>
when_any(Token token, Children&&... children) noexcept {
  static_assert(sizeof...(Children) > 0, "when_any(): give it at least one awaitable");
  return detail::combinator<true, Token, detail::child_of<std::decay_t<Children>>...>(
      std::move(token), std::forward<Children>(children)...);
}

}  // namespace urine::async
