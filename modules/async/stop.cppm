// A stop source that lives inline (in a combinator, in a frame): std::stop_source keeps its state
// on the heap, one allocation per source, which a combinator made per await cannot afford. The
// source, its token and its callbacks have std::stop_source's meaning: a stop is requested once,
// from any thread; the callbacks registered then run on the requesting thread; a callback
// registered after the request runs at once; destroying a callback while another thread runs it
// waits for it to return. The state is one atomic byte (stop requested, list locked) and an
// intrusive list of callbacks: nothing is allocated.
module;
#include <atomic>
#include <concepts>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>
export module urine.async:stop;

export namespace urine::async {

class inplace_stop_source;
template <class Callback>
class inplace_stop_callback;

}  // namespace urine::async

export namespace urine::async::detail {

/// A callback's place in its source's list.
struct stop_callback_node {
  void (*execute)(stop_callback_node*) noexcept;
  stop_callback_node* next = nullptr;
  /// The pointer that points at this node; null once it is out of the list (run, or running).
  stop_callback_node** prev = nullptr;
  /// While the requesting thread runs it: set when the callback removes itself from inside.
  bool* removed_while_running = nullptr;
  /// Set by the requesting thread once the callback has returned.
  std::atomic<bool> finished{false};
};

}  // namespace urine::async::detail

export namespace urine::async {

/// What an inplace_stop_source hands out: cheap to copy, valid while its source lives.
class inplace_stop_token {
 public:
  inplace_stop_token() noexcept = default;

  /// Whether a stop can ever be requested (false for a default-constructed token).
  [[nodiscard]] inline bool stop_possible() const noexcept { return source_ != nullptr; }
  /// Tokens of one source are equal.
  friend bool operator==(const inplace_stop_token&, const inplace_stop_token&) = default;
  /// Whether a stop was requested on the source.
  [[nodiscard]] inline bool stop_requested() const noexcept;

 private:
  friend class inplace_stop_source;
  template <class Callback>
  friend class inplace_stop_callback;
  inline explicit inplace_stop_token(const inplace_stop_source* s) noexcept : source_(s) {}
  const inplace_stop_source* source_ = nullptr;
};

/// A stop source with its state inside itself. Neither copyable nor movable (tokens point at it);
/// must outlive every callback registered on its tokens.
class inplace_stop_source {
 public:
  inplace_stop_source() noexcept = default;
  inplace_stop_source(const inplace_stop_source&) = delete;
  inplace_stop_source& operator=(const inplace_stop_source&) = delete;

  [[nodiscard]] inline inplace_stop_token get_token() const noexcept {
    return inplace_stop_token(this);
  }
  /// Whether a stop was requested.
  [[nodiscard]] inline bool stop_requested() const noexcept {
    return (state_.load(std::memory_order_acquire) & requested) != 0;
  }

  /// Request the stop and run the registered callbacks on this thread. False when a stop was
  /// already requested (the callbacks ran then).
  inline bool request_stop() noexcept {
    // Set both bits at once, only from an unlocked state without a stop.
    std::uint8_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((s & requested) != 0) return false;
      if ((s & locked) != 0) {
        std::this_thread::yield();
        s = state_.load(std::memory_order_relaxed);
      } else if (state_.compare_exchange_weak(s, requested | locked, std::memory_order_seq_cst,
                                              std::memory_order_relaxed)) {
        break;
      }
    }
    stopper_ = std::this_thread::get_id();
    while (callbacks_ != nullptr) {
      detail::stop_callback_node* n = callbacks_;
      unlink(n);
      bool removed = false;
      n->removed_while_running = &removed;
      unlock();  // a callback may register or remove callbacks of this source
      n->execute(n);
      if (!removed) {
        n->removed_while_running = nullptr;
        n->finished.store(true, std::memory_order_release);
      }
      lock();
    }
    unlock();
    return true;
  }

 private:
  template <class Callback>
  friend class inplace_stop_callback;

  static constexpr std::uint8_t requested = 1;
  static constexpr std::uint8_t locked = 2;

  /// Take the list's lock (spinning: it is held for a few stores). The stop bit is kept.
  inline void lock() const noexcept {
    std::uint8_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((s & locked) != 0) {
        std::this_thread::yield();
        s = state_.load(std::memory_order_relaxed);
      } else if (state_.compare_exchange_weak(s, s | locked, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
        return;
      }
    }
  }
  inline void unlock() const noexcept {
    state_.fetch_and(static_cast<std::uint8_t>(~locked), std::memory_order_release);
  }

  inline void unlink(detail::stop_callback_node* n) const noexcept {
    *n->prev = n->next;
    if (n->next != nullptr) n->next->prev = n->prev;
    n->prev = nullptr;
  }

  /// Add `n` to the list; false (nothing added) when a stop was already requested.
  inline bool add(detail::stop_callback_node* n) const noexcept {
    std::uint8_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if ((s & requested) != 0) return false;
      if ((s & locked) != 0) {
        std::this_thread::yield();
        s = state_.load(std::memory_order_acquire);
      } else if (state_.compare_exchange_weak(s, s | locked, std::memory_order_acquire,
                                              std::memory_order_acquire)) {
        break;
      }
    }
    n->next = callbacks_;
    n->prev = &callbacks_;
    if (callbacks_ != nullptr) callbacks_->prev = &n->next;
    callbacks_ = n;
    unlock();
    return true;
  }

  /// Take `n` out of the list. If the requesting thread has taken it already, wait until it has
  /// returned — unless this is that thread (the callback removes itself, or already ran).
  inline void remove(detail::stop_callback_node* n) const noexcept {
    lock();
    if (n->prev != nullptr) {
      unlink(n);
      unlock();
      return;
    }
    const std::thread::id stopper = stopper_;
    unlock();
    if (stopper == std::this_thread::get_id()) {
      if (n->removed_while_running != nullptr) *n->removed_while_running = true;
      return;
    }
    while (!n->finished.load(std::memory_order_acquire)) std::this_thread::yield();
  }

  mutable std::atomic<std::uint8_t> state_{0};
  mutable detail::stop_callback_node* callbacks_ = nullptr;
  std::thread::id stopper_;
};

/// Runs `Callback` when a stop is requested on the token's source (at once, on this thread, if it
/// was already). Neither copyable nor movable; destroying it deregisters the callback.
template <class Callback>
class inplace_stop_callback : private detail::stop_callback_node {
 public:
  template <class C>
    requires std::constructible_from<Callback, C>
  inline explicit inplace_stop_callback(inplace_stop_token token, C&& callback) noexcept(
      std::is_nothrow_constructible_v<Callback, C>)
      : callback_(std::forward<C>(callback)) {
    execute = &run;
    if (token.source_ == nullptr) return;
    if (token.source_->add(this))
      source_ = token.source_;
    else
      callback_();  // stopped already: runs now, and nothing is left to deregister
  }
  inplace_stop_callback(const inplace_stop_callback&) = delete;
  inplace_stop_callback& operator=(const inplace_stop_callback&) = delete;
  inline ~inplace_stop_callback() {
    if (source_ != nullptr) source_->remove(this);
  }

 private:
  static void run(detail::stop_callback_node* n) noexcept {
    static_cast<inplace_stop_callback*>(n)->callback_();
  }
  Callback callback_;
  const inplace_stop_source* source_ = nullptr;
};

/// The stop tokens operations, sleeps, timeouts, sequences and combinators accept.
template <class T>
concept stop_token_kind = std::same_as<T, std::stop_token> || std::same_as<T, inplace_stop_token>;

}  // namespace urine::async

export namespace urine::async::detail {

/// The callback type that goes with a token type.
template <class Token, class Callback>
struct stop_callback_for;
template <class Callback>
struct stop_callback_for<std::stop_token, Callback> {
  using type = std::stop_callback<Callback>;
};
template <class Callback>
struct stop_callback_for<inplace_stop_token, Callback> {
  using type = inplace_stop_callback<Callback>;
};
template <class Token, class Callback>
using stop_callback_t = typename stop_callback_for<Token, Callback>::type;

/// What something stoppable keeps: the token, and the callback registered while it waits.
template <class Token, class Callback>
struct stop_link {
  Token token;
  std::optional<stop_callback_t<Token, Callback>> callback;
};
/// Without a stop token nothing is kept (and nothing paid) for one.
struct no_stop_link {};

}  // namespace urine::async::detail

namespace urine::async {

// Defined where the source is complete.
inline bool inplace_stop_token::stop_requested() const noexcept {
  return source_ != nullptr && source_->stop_requested();
}

}  // namespace urine::async
