// task<T>: a lazy coroutine. It starts when awaited (the awaiter is resumed by symmetric transfer
// when it ends) or when spawned into a scope (which owns it from then on). Its frame comes from
// the per-thread frame allocator. An exception thrown in a task travels to whoever awaits it; a
// spawned task has no one, so an exception escaping one ends the program (std::terminate), as one
// escaping a thread does.
module;
#include <coroutine>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
export module urine.async:task;
import :frame_allocator;
import :core;

export namespace urine::async {

class scope;
template <class T = void>
class task;

}  // namespace urine::async

export namespace urine::async::detail {

/// A spawned task's place in its scope's list of live tasks.
struct scope_link {
  scope_link* prev = this;
  scope_link* next = this;
  std::coroutine_handle<> frame;
};

struct promise_base {
  std::coroutine_handle<> continuation;  ///< who awaits this task
  scope* owner = nullptr;                ///< the scope of a spawned task
  scope_link link;
  ready_node start;                  ///< queued on spawn, so the task starts from the run loop
  post_request post;                 ///< when posted to another runtime
  ready_node* completion = nullptr;  ///< as a combinator's child: told at the end instead
  std::exception_ptr exception;

  static inline void* operator new(std::size_t n) { return frame_allocator::allocate(n); }
  static inline void operator delete(void* p, std::size_t n) noexcept {
    frame_allocator::deallocate(p, n);
  }

  inline std::suspend_always initial_suspend() noexcept { return {}; }
  inline void unhandled_exception() noexcept { exception = std::current_exception(); }

  struct final_awaiter {
    inline bool await_ready() const noexcept { return false; }
    template <class Promise>
    inline std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept;
    inline void await_resume() const noexcept {}
  };
  inline final_awaiter final_suspend() noexcept { return {}; }
};

template <class T>
struct promise : promise_base {
  std::optional<T> value;
  inline task<T> get_return_object() noexcept;
  template <class U>
  inline void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct promise<void> : promise_base {
  inline task<void> get_return_object() noexcept;
  inline void return_void() noexcept {}
};

}  // namespace urine::async::detail

export namespace urine::async {

/// A lazy coroutine returning T. Move-only; destroying a task that has not run destroys its frame.
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~task() {
    if (h_) h_.destroy();
  }

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  [[nodiscard]] bool done() const noexcept { return h_ && h_.done(); }
  [[nodiscard]] handle_type handle() const noexcept { return h_; }
  /// Give up ownership of the frame.
  [[nodiscard]] handle_type release() noexcept { return std::exchange(h_, {}); }

  struct awaiter {
    handle_type child;
    inline bool await_ready() const noexcept { return false; }
    inline std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
      child.promise().continuation = parent;
      return child;  // symmetric transfer: the child runs without growing the stack
    }
    inline T await_resume() { return take_result(child); }
  };
  /// Start the task and resume the awaiter when it ends, with its result (or its exception).
  awaiter operator co_await() && noexcept { return awaiter{h_}; }
  awaiter operator co_await() & noexcept { return awaiter{h_}; }

  // ---- the child protocol of combinators (when_all, when_any) ----------------------------------

  /// Start as a combinator's child: the task runs now, and when it ends `notify` says what runs
  /// next. A task has no cancellation of its own: as a loser of when_any it runs to its end.
  inline void start_child(std::coroutine_handle<> (*notify_fn)(detail::ready_node*) noexcept,
                          void* ctx) noexcept {
    child_node_.notify = notify_fn;
    child_node_.context = ctx;
    h_.promise().completion = &child_node_;
    h_.resume();
  }
  inline void cancel() noexcept {}
  /// The finished task's result; void becomes std::monostate, so results fit in a tuple.
  [[nodiscard]] inline auto take_result() {
    if constexpr (std::is_void_v<T>) {
      take_result(h_);
      return std::monostate{};
    } else {
      return take_result(h_);
    }
  }

  /// The result of a finished task: its value, or its exception rethrown.
  static inline T take_result(handle_type h) {
    promise_type& p = h.promise();
    if (p.exception) std::rethrow_exception(p.exception);
    if constexpr (!std::is_void_v<T>) return std::move(*p.value);
  }

 private:
  handle_type h_;
  detail::ready_node child_node_;
};

/// Where spawned tasks live: the scope owns each frame until the task ends (the frame then frees
/// itself) and can be awaited until it is empty. Destroying a scope destroys the frames of tasks
/// still in it; a task suspended on an operation the kernel still holds must not be destroyed
/// (the runtime drains its operations first; debug builds abort with a sentence otherwise).
class scope {
 public:
  /// A scope whose tasks start from `queue` (a runtime's run queue).
  inline explicit scope(detail::node_queue& queue) noexcept : queue_(&queue) {}
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;
  inline ~scope() { destroy_all(); }

  /// Hand `t` to the scope; it starts from the run loop.
  inline void spawn(task<void> t) noexcept { adopt(t.release()); }

  /// Take ownership of a task's frame (released from its task) and queue its start.
  inline void adopt(std::coroutine_handle<detail::promise<void>> h) noexcept {
    detail::promise_base& p = h.promise();
    p.owner = this;
    p.link.frame = h;
    p.link.prev = head_.prev;
    p.link.next = &head_;
    head_.prev->next = &p.link;
    head_.prev = &p.link;
    ++size_;
    p.start.handle = h;
    queue_->push(&p.start);
  }

  /// Tasks spawned and not yet finished.
  [[nodiscard]] inline std::size_t size() const noexcept { return size_; }
  [[nodiscard]] inline bool empty() const noexcept { return size_ == 0; }

  struct join_awaiter {
    scope* s;
    inline bool await_ready() const noexcept { return s->empty(); }
    inline void await_suspend(std::coroutine_handle<> h) noexcept { s->joiner_ = h; }
    inline void await_resume() const noexcept {}
  };
  /// Resumes when every task spawned into the scope has finished (one joiner at a time).
  [[nodiscard]] inline join_awaiter join() noexcept { return {this}; }

  /// Destroy every task still in the scope (their frames, and what the frames own).
  inline void destroy_all() noexcept {
    while (head_.next != &head_) {
      detail::scope_link* l = head_.next;
      unlink(*l);
      l->frame.destroy();
    }
  }

  /// A spawned task ended: free its frame; the joiner runs next if the scope is now empty.
  inline std::coroutine_handle<> finished(detail::promise_base& p,
                                          std::coroutine_handle<> h) noexcept {
    if (p.exception) [[unlikely]] {
      std::fputs(
          "urine::async: an exception escaped a spawned task; spawned tasks must handle "
          "their own exceptions\n",
          stderr);
      std::terminate();
    }
    unlink(p.link);
    h.destroy();
    if (size_ == 0 && joiner_) return std::exchange(joiner_, {});
    return std::noop_coroutine();
  }

 private:
  inline void unlink(detail::scope_link& l) noexcept {
    l.prev->next = l.next;
    l.next->prev = l.prev;
    l.prev = l.next = &l;
    --size_;
  }

  detail::node_queue* queue_;
  detail::scope_link head_;
  std::size_t size_ = 0;
  std::coroutine_handle<> joiner_;
};

}  // namespace urine::async

namespace urine::async::detail {

template <class Promise>
inline std::coroutine_handle<> promise_base::final_awaiter::await_suspend(
    std::coroutine_handle<Promise> h) noexcept {
  promise_base& p = h.promise();
  if (p.continuation) return p.continuation;
  if (p.completion != nullptr) return p.completion->notify(p.completion);
  if (p.owner != nullptr) return p.owner->finished(p, h);
  return std::noop_coroutine();  // a root task (run()): its caller sees it done
}

template <class T>
inline task<T> promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<promise<T>>::from_promise(*this));
}
inline task<void> promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<promise<void>>::from_promise(*this));
}

}  // namespace urine::async::detail
