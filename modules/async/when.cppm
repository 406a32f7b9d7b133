// when_all / when_any over awaitable operations (rt.op(...), with_timeout, sleep_for), tasks, or
// any awaitable with the same child protocol: start_child, cancel, take_result. The children live
// inside the combinator's awaiter, which lives in the parent's frame: nothing is allocated. Each
// child reports its end through the run queue; the parent resumes once every child has ended,
// so no child's buffer is still in the kernel's hands when it does.
module;
#include <coroutine>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
export module urine.async:when;
import :core;

export namespace urine::async {

/// The child protocol a combinator needs.
template <class C>
concept child_awaitable =
    requires(C& c, std::coroutine_handle<> (*fn)(detail::ready_node*) noexcept, void* ctx) {
      c.start_child(fn, ctx);
      c.cancel();
      c.take_result();
    };

/// What when_any resumes with: the index of the first child to complete, and every child's
/// result (the losers' too: a loser that completed before its cancel took effect delivers what
/// it produced, which is the caller's to use or release).
template <class... Results>
struct when_any_result {
  std::size_t index;
  std::tuple<Results...> results;
};

namespace detail {

/// Shared by when_all and when_any: children in a tuple, a countdown, the parent to resume.
template <bool Any, class... Children>
class combinator {
 public:
  explicit combinator(Children&&... c) noexcept : children_(std::move(c)...) {}
  combinator(combinator&& o) noexcept : children_(std::move(o.children_)) {}

  inline bool await_ready() const noexcept { return false; }
  inline bool await_suspend(std::coroutine_handle<> parent) noexcept {
    parent_ = parent;
    // One more than the children while they start: a child that ends at once (a task that
    // never suspends) cannot resume the parent before it has finished suspending.
    remaining_ = sizeof...(Children) + 1;
    start(std::index_sequence_for<Children...>{});
    return --remaining_ != 0;
  }
  inline auto await_resume() {
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
};

}  // namespace detail

/// Await every child; resumes with a tuple of their results.
template <child_awaitable... Children>
[[nodiscard]] inline detail::combinator<false, std::decay_t<Children>...> when_all(
    Children&&... children) noexcept {
  static_assert(sizeof...(Children) > 0, "when_all(): give it at least one awaitable");
  return detail::combinator<false, std::decay_t<Children>...>(std::forward<Children>(children)...);
}

/// Await the first child to complete; the others are cancelled, and the parent resumes once
/// every child has completed (see when_any_result).
template <child_awaitable... Children>
[[nodiscard]] inline detail::combinator<true, std::decay_t<Children>...> when_any(
    Children&&... children) noexcept {
  static_assert(sizeof...(Children) > 0, "when_any(): give it at least one awaitable");
  return detail::combinator<true, std::decay_t<Children>...>(std::forward<Children>(children)...);
}

}  // namespace urine::async
