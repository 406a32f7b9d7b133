// The sleeps of a runtime, ordered by deadline: an intrusive pairing heap. Its nodes live in the
// sleeps' awaiters (in the frames), so keeping ten thousand idle timers allocates nothing. Insert
// is O(1), removing the earliest amortized O(log n), and removing any node (a sleep stopped
// early) amortized O(log n): each node knows its place through a back link.
module;
#include <cstddef>
#include <cstdint>
#include <utility>
export module urine.async:deadline_heap;
import :core;

export namespace urine::async::detail {

/// A sleep waiting for its deadline. The ready_node part is how it resumes once due (its
/// coroutine, or a combinator's notify), through the runtime's run queue.
struct timer_node : ready_node {
  std::int64_t deadline;  ///< nanoseconds on CLOCK_MONOTONIC (std::chrono::steady_clock)
  // The heap's links: the first child, the next sibling, and `prev` — the parent of a first
  // child, the left sibling of any other, nullptr for the root.
  timer_node* child;
  timer_node* sibling;
  timer_node* prev;
  std::int32_t res;     ///< -ETIME when due, -ECANCELED when stopped first
  bool queued = false;  ///< in a heap
  /// Whether a stop request from another thread may claim it (see sleep_queue's claim).
  bool remotely_stoppable = false;
  /// Who completes it, when another thread may stop it: 0 nobody yet, 1 the owner (its deadline
  /// came or it was stopped on the owning thread), 2 a stop posted from another thread, which
  /// completes it when it arrives. Accessed atomically.
  std::uint8_t claim = 0;
};

/// A min-heap of timer_nodes by deadline (equal deadlines in no particular order).
class deadline_heap {
 public:
  deadline_heap() noexcept = default;
  deadline_heap(const deadline_heap&) = delete;
  deadline_heap& operator=(const deadline_heap&) = delete;

  [[nodiscard]] inline bool empty() const noexcept { return root_ == nullptr; }
  [[nodiscard]] inline std::size_t size() const noexcept { return size_; }
  /// The earliest node (the heap must not be empty).
  [[nodiscard]] inline timer_node& top() const noexcept { return *root_; }

  inline void push(timer_node& n) noexcept {
    n.child = nullptr;
    n.sibling = nullptr;
    n.prev = nullptr;
    n.queued = true;
    root_ = meld(root_, &n);
    ++size_;
  }

  /// Take the earliest node out (the heap must not be empty).
  inline timer_node& pop() noexcept {
    timer_node& top = *root_;
    root_ = merge_pairs(top.child);
    forget(top);
    return top;
  }

  /// Take `n` out, wherever it is.
  inline void erase(timer_node& n) noexcept {
    if (&n == root_) {
      (void)pop();
      return;
    }
    // Cut n's subtree out of the list of children it is in, then meld its children back.
    if (n.prev->child == &n)
      n.prev->child = n.sibling;
    else
      n.prev->sibling = n.sibling;
    if (n.sibling != nullptr) n.sibling->prev = n.prev;
    root_ = meld(root_, merge_pairs(n.child));
    forget(n);
  }

 private:
  inline void forget(timer_node& n) noexcept {
    n.queued = false;
    --size_;
  }

  /// One heap of two roots (either may be null; neither has siblings).
  static inline timer_node* meld(timer_node* a, timer_node* b) noexcept {
    if (a == nullptr) return b;
    if (b == nullptr) return a;
    if (b->deadline < a->deadline) std::swap(a, b);
    // b becomes a's first child.
    b->sibling = a->child;
    if (a->child != nullptr) a->child->prev = b;
    b->prev = a;
    a->child = b;
    return a;
  }

  /// One heap of a list of siblings: melded in pairs left to right, then the pairs right to
  /// left (the two passes that give the pairing heap its amortized O(log n)).
  static inline timer_node* merge_pairs(timer_node* first) noexcept {
    timer_node* pairs = nullptr;  // the melded pairs, last first, chained through `sibling`
    while (first != nullptr) {
      timer_node* a = first;
      timer_node* b = a->sibling;
      first = b != nullptr ? b->sibling : nullptr;
      a->sibling = nullptr;
      a->prev = nullptr;
      if (b != nullptr) {
        b->sibling = nullptr;
        b->prev = nullptr;
      }
      timer_node* pair = meld(a, b);
      pair->sibling = pairs;
      pairs = pair;
    }
    timer_node* result = nullptr;
    while (pairs != nullptr) {
      timer_node* next = pairs->sibling;
      pairs->sibling = nullptr;
      result = meld(result, pairs);
      pairs = next;
    }
    return result;
  }

  timer_node* root_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace urine::async::detail
