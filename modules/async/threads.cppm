// A ring per thread: a coroutine moves to another runtime's thread with `co_await switch_to(rt)`.
// The move is a MSG_RING post (through the runtime the coroutine runs on, sent with its next
// submit; ring-less from a thread without one) carrying the address of a node in the awaiting
// frame: the other runtime queues it and resumes the coroutine there. Nothing is allocated.
module;
#include <coroutine>
export module urine.async:threads;
import :core;
import :runtime;

export namespace urine::async {

/// What co_await switch_to(rt) awaits: the coroutine suspends here and resumes on `rt`'s thread.
template <class Runtime>
class switch_awaiter {
 public:
  explicit switch_awaiter(Runtime& target) noexcept : target_(&target) {}
  inline bool await_ready() const noexcept { return false; }
  inline void await_suspend(std::coroutine_handle<> h) noexcept {
    node_.handle = h;
    request_ = {detail::encode(&node_, 0, detail::tag::posted), target_->ring().fd()};
    detail::post(request_, node_);
  }
  inline void await_resume() const noexcept {}

 private:
  Runtime* target_;
  detail::ready_node node_;
  detail::post_request request_;
};

/// Resume the awaiting coroutine on `target`'s thread (its run loop).
template <class Runtime>
[[nodiscard]] inline switch_awaiter<Runtime> switch_to(Runtime& target) noexcept {
  return switch_awaiter<Runtime>(target);
}

}  // namespace urine::async
