// What every part of the async layer shares: the run queue's node, an operation's completion
// header (the object a CQE's user data points at), the result an awaited operation resumes with,
// and the encoding of user data (address, tag, generation).
module;
#include <atomic>
#include <coroutine>
#include <cstdint>
#include <cstring>
#include <system_error>
export module urine.async:core;
import urine.abi;

export namespace urine::async {

/// Stands in for the extra CQE bytes on rings whose CQEs have none.
struct no_extra {};

/// The completion an awaited operation resumes with, `expected`-style: a value (the kernel's
/// non-negative result: bytes, a descriptor, ...) or a std::error_code; with the CQE's flags (the
/// provided buffer it used, F_MORE) and, on big-CQE rings, its 16 extra bytes.
template <class Extra = no_extra>
class io_result {
 public:
  constexpr io_result() noexcept = default;
  constexpr io_result(std::int32_t res, std::uint32_t flags) noexcept : res_(res), flags_(flags) {}

  [[nodiscard]] constexpr bool has_value() const noexcept { return res_ >= 0; }
  [[nodiscard]] constexpr explicit operator bool() const noexcept { return has_value(); }
  /// The result (meaningful when has_value()).
  [[nodiscard]] constexpr std::int32_t value() const noexcept { return res_; }
  [[nodiscard]] constexpr std::int32_t operator*() const noexcept { return res_; }
  /// The failure (empty when has_value()).
  [[nodiscard]] inline std::error_code error() const noexcept { return result_code(res_); }
  /// The kernel's own number: >= 0, or -errno.
  [[nodiscard]] constexpr std::int32_t raw() const noexcept { return res_; }
  [[nodiscard]] constexpr cqe_flags flags() const noexcept { return cqe_flags(flags_); }
  [[nodiscard]] constexpr bool more() const noexcept { return any(flags(), cqe_flags::more); }
  [[nodiscard]] constexpr bool has_buffer() const noexcept {
    return any(flags(), cqe_flags::buffer);
  }
  [[nodiscard]] constexpr std::uint16_t buffer_id() const noexcept {
    return static_cast<std::uint16_t>(flags_ >> cqe_buffer_shift);
  }
  /// The CQE's 16 extra bytes (big-CQE rings; zero on a cqe_mixed ring's small entries).
  [[nodiscard]] constexpr const Extra& extra() const noexcept { return extra_; }
  constexpr void set_extra(const Extra& e) noexcept { extra_ = e; }

 private:
  std::int32_t res_ = 0;
  std::uint32_t flags_ = 0;
  [[no_unique_address]] Extra extra_{};
};

/// The 16 extra bytes of a 32-byte CQE.
struct big_extra {
  std::uint64_t words[2] = {0, 0};
};

}  // namespace urine::async

export namespace urine::async::detail {

/// A coroutine (or a combinator's child) waiting in the runtime's run queue. `notify`, when set,
/// is called instead of resuming `handle`: combinators learn of a child's end that way, and it
/// returns the coroutine to run next (the parent once every child has ended, else a no-op).
struct ready_node {
  // `next` and `context` are written before they are read (by a queue's push, a post, the
  // combinator that sets notify), so an awaiter built per operation does not clear them.
  ready_node* next;
  std::coroutine_handle<> handle;
  std::coroutine_handle<> (*notify)(ready_node*) noexcept = nullptr;
  void* context;  ///< for notify: the combinator

  inline void run() noexcept {
    if (notify != nullptr)
      notify(this).resume();
    else
      handle.resume();
  }
};

/// An intrusive FIFO of nodes: nothing is allocated to queue a coroutine or park an operation.
class node_queue {
 public:
  node_queue() noexcept = default;
  node_queue(const node_queue&) = delete;
  node_queue& operator=(const node_queue&) = delete;

  [[nodiscard]] inline bool empty() const noexcept { return head_ == nullptr; }
  [[nodiscard]] inline ready_node* front() const noexcept { return head_; }
  inline void push(ready_node* n) noexcept {
    n->next = nullptr;
    if (head_ == nullptr)
      head_ = n;
    else
      tail_->next = n;
    tail_ = n;
  }
  inline ready_node* pop() noexcept {
    ready_node* n = head_;
    head_ = n->next;
    return n;
  }
  /// Move every node of `o` to the end of this queue.
  inline void splice(node_queue& o) noexcept {
    if (o.head_ == nullptr) return;
    if (head_ == nullptr)
      head_ = o.head_;
    else
      tail_->next = o.head_;
    tail_ = o.tail_;
    o.head_ = nullptr;
  }
  inline void clear() noexcept { head_ = nullptr; }

 private:
  ready_node* head_ = nullptr;
  ready_node* tail_ = nullptr;
};

/// One CQE as the runtime hands it to an operation.
struct cqe_data {
  std::int32_t res;
  std::uint32_t flags;
  const std::uint64_t* extra;  ///< the 16 extra bytes, or nullptr
};

// ---- user data ---------------------------------------------------------------------------------
// A user data is the address of an operation header (8-byte aligned: three low bits free for a
// tag) with a 16-bit generation in the top bits, which user-space addresses never use. A cancel
// matches the whole value, so a cancel that arrives after its operation ended cannot hit a new
// operation that reuses the address: the generation differs. An operation nobody can cancel
// (tag::single) needs no generation: its tag alone differs from every cancel's target.

enum class tag : std::uint64_t {
  single = 0,      ///< a plain one-shot operation: its CQE goes into the header, its waiter resumes
  link_timer = 1,  ///< the LINK_TIMEOUT bounding the operation
  posted = 2,      ///< a MSG_RING post from another ring: the address is a ready_node
  ignored = 3,     ///< a CQE nobody waits for (a cancel request's own result)
  remote_cancel = 4,  ///< another thread asks to cancel the operation with this user data
  posted_spawn = 5,   ///< a MSG_RING post of a task to adopt: the address is its start node
  post_failed = 6,    ///< this ring's MSG_RING could not post: the address is its post_request
  operation = 7,      ///< an operation with a hook: timed, cancellable, multishot, big CQEs
};

/// A post to another ring: the user data its completion there carries, and that ring's fd. Lives
/// in the posting frame (or promise), which cannot resume before the post has arrived.
struct post_request {
  std::uint64_t target_data = 0;
  int target_fd = -1;
};
inline constexpr std::uint64_t tag_mask = 7;
inline constexpr std::uint64_t address_mask = 0x0000'ffff'ffff'fff8;
inline constexpr unsigned generation_shift = 48;

[[nodiscard]] inline tag tag_of(std::uint64_t ud) noexcept { return tag(ud & tag_mask); }
template <class T>
[[nodiscard]] inline T* address_of(std::uint64_t ud) noexcept {
  return reinterpret_cast<T*>(static_cast<std::uintptr_t>(ud & address_mask));
}
[[nodiscard]] inline std::uint64_t encode(const void* p, std::uint16_t generation, tag t) noexcept {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)) |
         std::uint64_t{generation} << generation_shift | static_cast<std::uint64_t>(t);
}

/// A node handed to another thread through a ring: what the poster wrote before posting is
/// ordered by the kernel, which the race detector cannot see. A release store on the poster's
/// side and an acquire load on the receiver's (plain moves on x86) state that order in C++.
inline void publish_for_post(ready_node& n) noexcept {
  std::atomic_ref(n.next).store(nullptr, std::memory_order_release);
}
inline ready_node* receive_post(ready_node* n) noexcept {
  (void)std::atomic_ref(n->next).load(std::memory_order_acquire);
  return n;
}

/// How this thread posts to another ring: through the runtime it is running, if any (a MSG_RING
/// SQE, sent with that runtime's next submit).
struct poster {
  void* runtime = nullptr;
  void (*send)(void* runtime, post_request& request, ready_node& node) noexcept = nullptr;
};
inline thread_local constinit poster this_thread_poster{};

/// Where an operation stands.
enum class op_state : std::uint8_t {
  idle,       ///< not started (or finished and resumed)
  parked,     ///< waiting for room in the CQ budget
  in_flight,  ///< its SQE(s) are with the kernel
  done,       ///< every CQE it expects has arrived
};

struct operation_header;

/// What a header that routes its completions itself (see operation_hooks::route) asks of the
/// runtime for one CQE: the CQ slots it gives back, and up to two waiters to run.
struct routed {
  unsigned freed = 0;
  ready_node* first = nullptr;
  ready_node* then = nullptr;
};

/// What the runtime calls on an operation: one table per operation type, one pointer per object.
struct operation_hooks {
  /// Take one CQE (of this operation, or of its link timer); true when the waiter should run.
  bool (*on_cqe)(operation_header*, tag, const cqe_data&) noexcept;
  /// Push the SQE(s) now: room in the CQ budget and the SQ is the runtime's business.
  void (*push)(operation_header*) noexcept;
  /// Set for a header several operations share (a zero-copy send tracker): it takes each CQE
  /// whole, the runtime's budget included, and finds the operation the CQE is for by its user
  /// data. Null for a header of one operation, which the runtime accounts for itself.
  routed (*route)(operation_header*, std::uint64_t user_data, const cqe_data&) noexcept = nullptr;
};

/// The part of an awaitable operation the runtime sees: what a CQE's user data points at.
struct operation_header : ready_node {
  const operation_hooks* hooks = nullptr;
  /// As submitted: address, generation (written by the owner). Read before it is written only by
  /// a stop request from another thread, so stoppable operations (and sequences) clear it first.
  std::uint64_t user_data;
  // The result of its last CQE (tag::single, operation) and that CQE's flags: written when the
  // CQE arrives (or the operation completes without the kernel), read only after that.
  std::int32_t res;
  std::uint32_t res_flags;
  op_state state = op_state::idle;
  std::uint8_t slots = 1;     ///< CQ slots to reserve: its CQEs, and one for a cancel request
  std::uint8_t reserved = 0;  ///< CQ slots it still holds in the runtime's budget
  std::uint8_t pending = 0;   ///< CQEs still to come before it is done
  bool cancel_requested = false;
  bool remote_stop = false;  ///< set (atomically) by a stop request from another thread
};

}  // namespace urine::async::detail
