// basic_ring<Config>: one io_uring, specialised at compile time for its configuration. The SQ
// tail and CQ head are kept locally and published once per submit / per reaped batch; every
// configuration test is `if constexpr`; nothing here allocates, throws or makes a virtual call.
module;
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <new>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
export module urine.ring:basic_ring;
import urine.abi;
import :policies;
import :config;
import :completion;
import :setup;
import :queues;

export namespace urine {

/// Per-SQE options that are not part of any operation: flags and the credentials to run under.
struct sqe_options {
  sqe_flags flags = sqe_flags::none;
  /// A personality id from the registration module (0: the submitting task's own credentials).
  std::uint16_t personality = 0;
};

template <class Config>
class basic_ring;

namespace detail {
template <class Config>
result<void> resize_ring(basic_ring<Config>& ring, std::uint32_t sq_entries,
                         std::uint32_t cq_entries);
}  // namespace detail

template <class Config>
class basic_ring {
  using sqe_policy = typename Config::sqe_layout;
  using cqe_policy = typename Config::cqe_layout;
  using poll_policy = typename Config::polling;
  using order = typename Config::memory_order;
  using task_policy = typename Config::task_run;
  using fd_policy = typename Config::ring_fd;

 public:
  using config = Config;
  using sqe_type = typename sqe_policy::entry;
  using cqe_type = typename cqe_policy::entry;
  using completion_type = completion<cqe_policy>;
  using copied_cqe_type = copied_cqe<cqe_policy>;
  using submit_result = std::expected<unsigned, std::error_code>;

  static constexpr bool is_sqpoll = poll_policy::sq_thread;
  static constexpr bool is_iopoll = poll_policy::io_poll;
  static constexpr bool is_deferred = task_policy::deferred;
  static constexpr bool has_registered_fd = fd_policy::registered;
  static constexpr bool has_big_cqes = cqe_policy::has_big;
  static constexpr bool is_sqe128 = sizeof(sqe_type) == 128;

  // ---- lifetime --------------------------------------------------------------------------------

  /// A ring with `entries` SQ entries and every other setup parameter at its default.
  [[nodiscard]] static result<basic_ring> create(std::uint32_t entries = 128) {
    return create(setup{.entries = entries});
  }

  [[nodiscard]] static result<basic_ring> create(const setup& s) {
    auto core = detail::ring_core::create(s, shape());
    if (!core) return std::unexpected(std::move(core.error()));
    return basic_ring(std::move(*core));
  }

  /// Moving leaves `o` a ring without queues: it accepts no SQE, finds no completion, and its
  /// system calls fail with EBADF; destroying or assigning to it is fine.
  basic_ring(basic_ring&& o) noexcept : core_(std::move(o.core_)) { adopt(o); }
  basic_ring& operator=(basic_ring&& o) noexcept {
    if (this != &o) {
      core_ = std::move(o.core_);
      adopt(o);
    }
    return *this;
  }
  basic_ring(const basic_ring&) = delete;
  basic_ring& operator=(const basic_ring&) = delete;
  ~basic_ring() = default;

  /// Whether the ring has its kernel queues: false once moved from, or closed by a failed resize.
  [[nodiscard]] explicit operator bool() const noexcept { return !is_detached(); }

  // ---- submission ------------------------------------------------------------------------------

  /// The next free SQE, or nullptr when the SQ is full (submit, then try again). The SQE's
  /// contents are whatever was there before: prepare every field, or use push().
  [[nodiscard]] inline sqe_type* get_sqe() noexcept {
    if (sq_.tail == sq_.limit && !make_room()) [[unlikely]]
      return nullptr;
    return &sq_.sqes[sq_.tail++ & sq_.mask];
  }

  /// Prepare `op` in the next SQE; false when the SQ is full. The SQE is cleared first, so an
  /// operation only writes the fields it uses.
  template <class Op>
  [[nodiscard]] inline bool push(const Op& op, user_data data = {},
                                 sqe_options options = {}) noexcept {
    check_operation<Op>();
    // Tested on the indices, not on a null SQE pointer: the compiler cannot prove &sqes[i]
    // non-null, so a pointer test would cost a compare per SQE.
    if (sq_.tail == sq_.limit && !make_room()) [[unlikely]]
      return false;
    fill_next(sq_.sqes, sq_.mask, sq_.tail, op, data, options);
    return true;
  }

  /// A user data that is neither an integer, a pointer nor a urine::user_data.
  template <class Op, class Data>
    requires(!std::is_convertible_v<Data, user_data>)
  bool push(const Op&, Data&&, sqe_options = {}) noexcept {
    static_assert(std::is_convertible_v<Data, user_data>,
                  "push(): the user data must be an integer, a pointer or a urine::user_data (it "
                  "travels as 64 bits to the completion); convert other values explicitly");
    return false;
  }

  /// SQ room for a batch, tested once by reserve(): its pushes test nothing. The SQEs go to the
  /// ring as they are pushed, so the ring's submit sees them and its own push may be mixed in;
  /// every SQE pushed meanwhile, by either, counts against the room. Valid while the ring is
  /// neither moved nor resized.
  class reservation {
   public:
    reservation(const reservation&) = delete;
    reservation& operator=(const reservation&) = delete;
    reservation(reservation&&) noexcept = default;
    reservation& operator=(reservation&&) noexcept = default;
    ~reservation() = default;

    /// Prepare `op` in the next SQE, as basic_ring::push does, without a test for room: reserve()
    /// made it. Pushing more than was reserved is a bug (an assertion in debug builds).
    template <class Op>
    inline void push(const Op& op, user_data data = {}, sqe_options options = {}) noexcept {
      check_operation<Op>();
      assert(static_cast<std::int32_t>(end_ - ring_->sq_.tail) > 0 &&
             "reservation::push: more SQEs than were reserved");
      fill_next(sqes_, mask_, ring_->sq_.tail, op, data, options);
    }

    /// Reserved SQEs not pushed yet.
    [[nodiscard]] inline unsigned remaining() const noexcept { return end_ - ring_->sq_.tail; }

   private:
    friend basic_ring;
    // The SQE array and mask are copied: a copy the compiler keeps in registers, where members of
    // the ring would be reloaded after every SQE store (an SQE's byte fields may alias them).
    inline reservation(basic_ring& r, unsigned n) noexcept
        : ring_(&r), sqes_(r.sq_.sqes), mask_(r.sq_.mask), end_(r.sq_.tail + n) {}

    basic_ring* ring_;
    sqe_type* sqes_;
    std::uint32_t mask_;
    std::uint32_t end_;  ///< the SQ tail at which the room runs out
  };

  /// Room for `n` SQEs, or the reason there is none: EAGAIN when the SQ has fewer than `n` free
  /// entries now (submit, or on SQPOLL rings wait_for_sq_space(), then reserve again), EINVAL when
  /// `n` is more than the SQ holds, EBADF on a ring without queues.
  [[nodiscard]] inline std::expected<reservation, std::error_code> reserve(unsigned n) noexcept {
    if (sq_.limit - sq_.tail < n && !make_room(n)) [[unlikely]]
      return std::unexpected(no_room(n));
    return reservation(*this, n);
  }

  /// SQEs prepared and not yet consumed by the kernel.
  [[nodiscard]] unsigned sq_ready() const noexcept { return sq_.tail - load_sq_head(); }
  /// Free SQ entries.
  [[nodiscard]] unsigned sq_space_left() const noexcept {
    return sq_.entries - (sq_.tail - load_sq_head());
  }
  [[nodiscard]] unsigned sq_entries() const noexcept { return sq_.entries; }
  /// SQEs the kernel dropped as invalid (the SQ ring's dropped counter).
  [[nodiscard]] unsigned sq_dropped() const noexcept { return order::load_word(sq_.kdropped); }

  /// Hand prepared SQEs to the kernel. Returns how many it consumed. With nothing prepared (and,
  /// on SQPOLL rings, the thread awake), no system call.
  inline submit_result submit() noexcept { return submit_pending<true>(0); }

  /// Submit, and wait until at least `wait_nr` completions are ready. Enters the kernel even
  /// when there is nothing to submit or wait for (submit() would not), so that the waiting path
  /// tests nothing but the result.
  inline submit_result submit_and_wait(unsigned wait_nr) noexcept {
    return submit_pending<false>(wait_nr);
  }

  /// Submit, and wait for `wait_nr` completions or until `timeout` passes (ETIME). With a
  /// `min_wait` (6.12+), the kernel waits at least that long for the batch before returning
  /// fewer than `wait_nr`. Timed waits need kernel 5.11 (IORING_FEAT_EXT_ARG); before it, nothing
  /// is submitted and the error (ring_errc::timed_wait_needs_ext_arg, equal to ENOSYS) says so.
  inline submit_result submit_and_wait_for(unsigned wait_nr, std::chrono::nanoseconds timeout,
                                           std::chrono::microseconds min_wait = {}) noexcept {
    if (!has_timed_waits()) [[unlikely]]
      return std::unexpected(no_timed_wait());
    const unsigned pending = publish_sq();
    const int ret = enter_with_timeout(pending, wait_nr, wakeup_flag(), timeout, min_wait);
    if (ret < 0) return std::unexpected(enter_error(ret));
    if constexpr (is_sqpoll)
      return pending;
    else
      return consumed(ret);
  }

  /// SQPOLL rings: block until the kernel thread has made room in a full SQ (IORING_ENTER_SQ_WAIT).
  inline submit_result wait_for_sq_space() noexcept {
    static_assert(is_sqpoll,
                  "wait_for_sq_space(): only an sqpoll ring's kernel thread frees SQ entries by "
                  "itself; on other rings, submit() frees them");
    const int ret = enter(0, 0, bits(enter_flags::sq_wait));
    if (ret < 0) return std::unexpected(enter_error(ret));
    return sq_space_left();
  }

  /// SQPOLL rings: whether the kernel thread is asleep and the next submit must wake it.
  [[nodiscard]] bool needs_wakeup() const noexcept {
    static_assert(is_sqpoll, "needs_wakeup(): only an sqpoll ring has a kernel thread to wake");
    order::store_load_fence();
    return any(sq_flags(), sq_ring_flags::need_wakeup);
  }

  // ---- completion ------------------------------------------------------------------------------

  /// The oldest ready completion, or an empty one; never blocks. Overflowed completions (and, on
  /// IOPOLL rings, device completions) are pulled into the ring when it looks empty. Mark it seen
  /// with cqe_seen() before peeking again.
  [[nodiscard]] inline completion_type peek_cqe() noexcept {
    for (bool flushed = false;;) {
      const std::uint32_t ready = cq_slots_ready();
      if (ready != 0) {
        const cqe_type* e = &cq_.cqes[cq_.head & cq_.mask];
        if constexpr (cqe_policy::mixed) {
          if (e->flags & bits(cqe_flags::skip)) [[unlikely]] {
            advance_slots(1);
            continue;
          }
          // Both halves of a big entry are published together; half of one is not an entry yet.
          if ((e->flags & bits(cqe_flags::big)) && ready < 2) [[unlikely]]
            return {};
        }
        return completion_type(e);
      }
      if (flushed || !needs_flush()) return {};
      (void)get_events();
      flushed = true;
    }
  }

  /// Mark the completion returned by peek_cqe()/wait_cqe() as consumed.
  inline void cqe_seen(completion_type c) noexcept {
    if constexpr (cqe_policy::mixed)
      advance_slots(retire(&c.raw()));
    else
      advance_slots(1);
  }

  /// Consume `n` CQ slots at once (after reading them through completions()/peek).
  inline void cq_advance(unsigned n) noexcept { advance_slots(n); }

  /// Wait for a completion and return it (not yet consumed: call cqe_seen()).
  inline std::expected<completion_type, std::error_code> wait_cqe() noexcept {
    for (;;) {
      if (completion_type c = peek_cqe()) return c;
      const int ret = enter(0, 1, bits(enter_flags::getevents));
      if (ret < 0) return std::unexpected(enter_error(ret));
    }
  }

  /// Wait until at least `n` CQ slots hold completions, and return how many do. The CQ holds
  /// at most cq_entries() of them, so `n` is capped there: the same answer on every policy set
  /// (the kernel caps a plain ring's wait alike). On a cqe_mixed ring a big entry fills two slots.
  inline submit_result wait(unsigned n = 1) noexcept {
    if (n > cq_.entries) n = cq_.entries != 0 ? cq_.entries : 1;
    for (;;) {
      const unsigned ready = cq_ready();
      if (ready >= n) return ready;
      const int ret = enter(0, n, bits(enter_flags::getevents));
      if (ret < 0) return std::unexpected(enter_error(ret));
      // Without IOPOLL or deferred task work, the kernel returns only once `n` are there (or a
      // signal came); otherwise it may return early and the test above decides.
      if constexpr (!is_iopoll && !is_deferred) return cq_ready();
    }
  }

  /// Wait for `n` completions or until `timeout` passes (then ETIME); see submit_and_wait_for.
  inline submit_result wait_for(unsigned n, std::chrono::nanoseconds timeout,
                                std::chrono::microseconds min_wait = {}) noexcept {
    if (const unsigned ready = cq_ready(); ready >= n) return ready;
    if (!has_timed_waits()) [[unlikely]]
      return std::unexpected(no_timed_wait());
    const int ret = enter_with_timeout(0, n, 0, timeout, min_wait);
    if (ret < 0) return std::unexpected(enter_error(ret));
    return cq_ready();
  }

  /// Call `fn(completion)` for every ready completion, then consume them all at once. Returns
  /// how many there were.
  template <class Fn>
  inline unsigned for_each_cqe(Fn&& fn) noexcept(noexcept(fn(std::declval<completion_type>()))) {
    return reap(~0u, fn);
  }

  /// Call `fn(completion)` for every ready completion, each consumed (the head published) before
  /// `fn` sees it, as a copy detached from its slot. So `fn` may run code that reaps this ring
  /// again (a nested reap sees only what this walk has not reached) or that admits new work
  /// against the room the completion freed. Returns how many `fn` saw.
  template <class Fn>
  [[gnu::always_inline]] inline unsigned consume_each_cqe(Fn&& fn) noexcept(
      noexcept(fn(std::declval<completion_type>()))) {
    const std::uint32_t ready = ready_or_flush();
    if (ready == 0) return 0;
    // Compared by signed distance: a nested reap may move the head past `end`.
    const std::uint32_t end = cq_.head + ready;
    unsigned count = 0;
    while (static_cast<std::int32_t>(cq_.head - end) < 0) {
      const cqe_type* e = &cq_.cqes[cq_.head & cq_.mask];
      alignas(copied_cqe_type) std::byte copy[sizeof(copied_cqe_type)];
      if constexpr (cqe_policy::mixed) {
        if (e->flags & bits(cqe_flags::skip)) {
          advance_slots(1);
          continue;
        }
        if ((e->flags & bits(cqe_flags::big)) && end - cq_.head < 2) break;  // half of one
        std::memcpy(copy, e, entry_size(completion_type(e)));
        advance_slots(retire(e));
      } else {
        std::memcpy(copy, e, sizeof(cqe_type));
        advance_slots(1);
      }
      fn(completion_type(std::launder(reinterpret_cast<const cqe_type*>(copy))));
      ++count;
    }
    return count;
  }

  /// Copy up to out.size() ready completions out of the ring and consume them.
  inline unsigned copy_cqes(std::span<copied_cqe_type> out) noexcept {
    copied_cqe_type* to = out.data();
    return reap(static_cast<std::uint32_t>(out.size()), [&to](completion_type c) noexcept {
      *to = copied_cqe_type{};
      std::memcpy(to++, &c.raw(), entry_size(c));
    });
  }

  /// Ready completions (CQ slots), without entering the kernel.
  [[nodiscard]] unsigned cq_ready() const noexcept { return cq_slots_ready(); }
  [[nodiscard]] unsigned cq_entries() const noexcept { return cq_.entries; }
  /// Completions the kernel could not deliver at all (the CQ ring's overflow counter). With
  /// IORING_FEAT_NODROP this stays 0: overflowed completions wait in the kernel instead.
  [[nodiscard]] unsigned cq_overflow() const noexcept { return order::load_word(cq_.koverflow); }
  /// Whether completions are waiting in the kernel's overflow list for room in the CQ.
  [[nodiscard]] bool cq_has_overflow() const noexcept {
    return any(sq_flags(), sq_ring_flags::cq_overflow);
  }
  /// Whether the kernel has task work pending for this ring (TASKRUN_FLAG rings).
  [[nodiscard]] bool taskrun_pending() const noexcept {
    return any(sq_flags(), sq_ring_flags::taskrun);
  }

  /// Enter the kernel to flush overflowed completions and run pending task work, without waiting.
  inline submit_result get_events() noexcept {
    const int ret = enter(0, 0, bits(enter_flags::getevents));
    if (ret < 0) return std::unexpected(enter_error(ret));
    return cq_ready();
  }

  /// Turn eventfd notifications for this ring off or on (IORING_CQ_EVENTFD_DISABLED).
  void set_eventfd_enabled(bool enabled) noexcept {
    std::uint32_t f = order::load_word(cq_.kflags);
    f = enabled ? (f & ~bits(cq_ring_flags::eventfd_disabled))
                : (f | bits(cq_ring_flags::eventfd_disabled));
    order::publish(cq_.kflags, f);
  }

  // ---- raw access and state --------------------------------------------------------------------

  /// io_uring_enter(2) on this ring (through the registered index when the policy says so).
  inline int enter(unsigned to_submit, unsigned min_complete, std::uint32_t flags,
                   const void* arg = nullptr,
                   std::size_t arg_size = abi::kernel_sigset_size) noexcept {
    if constexpr (has_registered_fd) flags |= bits(enter_flags::registered_ring);
    return abi::io_uring_enter(enter_fd_, to_submit, min_complete, flags, arg, arg_size);
  }

  /// io_uring_register(2) on this ring; returns the kernel's result (-errno on failure).
  [[nodiscard]] int register_raw(register_opcode op, const void* arg,
                                 std::uint32_t nr) const noexcept {
    return core_.do_register(op, arg, nr);
  }

  /// The ring's fd (-1 for a REGISTERED_FD_ONLY ring, or a ring without queues).
  [[nodiscard]] int fd() const noexcept { return core_.fd(); }
  /// The registered ring index (-1 when not registered).
  [[nodiscard]] int registered_index() const noexcept { return core_.registered_index(); }
  /// The setup flags the kernel accepted for this ring.
  [[nodiscard]] setup_flags flags() const noexcept { return setup_flags(core_.params().flags); }
  [[nodiscard]] feature_flags features() const noexcept {
    return feature_flags(core_.params().features);
  }
  [[nodiscard]] const abi::params& params() const noexcept { return core_.params(); }

 private:
  friend result<void> detail::resize_ring<Config>(basic_ring&, std::uint32_t, std::uint32_t);

  explicit basic_ring(detail::ring_core core) noexcept : core_(std::move(core)) { map_queues(); }

  static constexpr detail::ring_shape shape() noexcept {
    return {Config::flags, sizeof(sqe_type), sizeof(cqe_type), fd_policy::registered};
  }

  template <class Op>
  static consteval void check_operation() {
    static_assert(
        requires(const Op& op, abi::sqe& s) { op.prepare(s); } ||
            requires(const Op& op, abi::sqe128& s) { op.prepare(s); },
        "push(): not an operation (it needs a prepare(abi::sqe&) member)");
    if constexpr (requires { Op::needs_sqe128; }) {
      static_assert(!Op::needs_sqe128 || is_sqe128,
                    "push(): this operation carries a 128-byte SQE and needs a ring<sqe128, ...>");
    }
    if constexpr (requires { Op::needs_big_cqe; }) {
      static_assert(
          !Op::needs_big_cqe || has_big_cqes,
          "push(): this operation posts a 32-byte CQE and needs a cqe32 or cqe_mixed ring");
    }
    static_assert(!is_iopoll || iopoll_capable<Op>(),
                  "push(): the kernel refuses this operation on IOPOLL rings (iopoll, "
                  "hybrid_iopoll); use a ring with another polling mode");
  }

  /// Only operations that declare `iopoll_capable = true` go on IOPOLL rings: the kernel accepts
  /// few opcodes there, so the safe default is "no".
  template <class Op>
  static consteval bool iopoll_capable() {
    if constexpr (requires { Op::iopoll_capable; })
      return Op::iopoll_capable;
    else
      return false;
  }

  /// Prepare `op` in the SQE at `tail`, then advance it. The tail is stored after the SQE, so in a
  /// loop of pushes the compiler forwards the stored value to the next load.
  template <class Op>
  static inline void fill_next(sqe_type* sqes, std::uint32_t mask, std::uint32_t& tail,
                               const Op& op, user_data data, sqe_options options) noexcept {
    const std::uint32_t at = tail;
    fill(sqes[at & mask], op, data, options);
    tail = at + 1;
  }

  template <class Op>
  static inline void fill(sqe_type& entry, const Op& op, user_data data,
                          sqe_options options) noexcept {
    if constexpr (is_sqe128) {
      if constexpr (requires(const Op& o, abi::sqe128& s) { o.prepare(s); }) {
        entry = abi::sqe128{};
        op.prepare(entry);
      } else {
        entry.base = abi::sqe{};
        op.prepare(entry.base);
      }
      finish(entry.base, data, options);
    } else {
      entry = abi::sqe{};
      op.prepare(entry);
      finish(entry, data, options);
    }
  }

  static inline void finish(abi::sqe& s, user_data data, sqe_options options) noexcept {
    s.user_data = data.value();
    s.flags |= bits(options.flags);
    s.personality = options.personality;
  }

  /// Publish the SQ tail and enter the kernel. With `SkipIdle` (submit()), nothing to submit
  /// returns without a system call; waiting callers do not pay for that test.
  template <bool SkipIdle>
  inline submit_result submit_pending(unsigned wait_nr) noexcept {
    const unsigned pending = publish_sq();
    std::uint32_t flags = wait_nr > 0 ? bits(enter_flags::getevents) : 0;
    if constexpr (is_sqpoll) {
      flags |= wakeup_flag();
      if (flags == 0) [[likely]]
        return idle_submit(pending);
      const int ret = enter(pending, wait_nr, flags);
      if (ret < 0) [[unlikely]]
        return std::unexpected(enter_error(ret));
      return pending;
    } else {
      if constexpr (SkipIdle) {
        if (pending == 0 && wait_nr == 0) return idle_submit(0);
      }
      const int ret = enter(pending, wait_nr, flags);
      if (ret < 0) [[unlikely]]
        return std::unexpected(enter_error(ret));
      return consumed(ret);
    }
  }

  /// The error of a failed enter(). A registered ring without queues passes index -1, which the
  /// kernel refuses as out of range (EINVAL): it answers as a closed fd would. Only failures pay
  /// for the test.
  [[gnu::cold]] std::error_code enter_error(int ret) const noexcept {
    if (has_registered_fd && enter_fd_ < 0) return errno_code(EBADF);
    return errno_code(-ret);
  }

  /// Whether the kernel takes a timeout with a wait (IORING_FEAT_EXT_ARG, 5.11).
  [[nodiscard]] inline bool has_timed_waits() const noexcept {
    return has(feature_flags(core_.params().features), feature_flags::ext_arg);
  }

  /// Why a timed wait cannot be made: no ring (EBADF), or a kernel without timed waits (a
  /// urine.ring error naming the feature and the kernel; it compares equal to ENOSYS).
  [[gnu::cold]] std::error_code no_timed_wait() const noexcept {
    if (is_detached()) return errno_code(EBADF);
    return make_error_code(ring_errc::timed_wait_needs_ext_arg);
  }

  /// A submit that needs no system call: `pending` SQEs went to the SQ thread, or there was
  /// nothing to do. A ring without queues says so, as the system call would.
  inline submit_result idle_submit(unsigned pending) const noexcept {
    if (is_detached()) [[unlikely]]
      return std::unexpected(errno_code(EBADF));
    return pending;
  }

  /// SQPOLL rings: the enter flag that wakes the kernel thread if it fell asleep before seeing
  /// the new tail (0 when it is awake; always 0 on other rings).
  inline std::uint32_t wakeup_flag() const noexcept {
    if constexpr (is_sqpoll) {
      // The full fence orders our tail store before the flag load, pairing with the thread's own
      // barrier.
      order::store_load_fence();
      if (any(sq_flags(), sq_ring_flags::need_wakeup)) return bits(enter_flags::sq_wakeup);
    }
    return 0;
  }

  /// Publish the local SQ tail. Without SQPOLL, returns how many SQEs the kernel has yet to
  /// consume (anything an earlier enter left is submitted again with the new ones); with SQPOLL,
  /// how many this call handed to the thread.
  inline unsigned publish_sq() noexcept {
    // A plain store on x86 and cheaper than testing whether the tail moved.
    order::publish(sq_.ktail, sq_.tail);
    if constexpr (is_sqpoll) {
      const unsigned fresh = sq_.tail - sq_.published;
      sq_.published = sq_.tail;
      return fresh;
    } else {
      return sq_.tail - (sq_.limit - sq_.entries);
    }
  }

  /// Without SQPOLL the kernel consumes SQEs only inside our enter, and says how many: the head
  /// advances by that, with no load of the shared head.
  inline unsigned consumed(int ret) noexcept {
    sq_.limit += static_cast<unsigned>(ret);
    return static_cast<unsigned>(ret);
  }

  /// The SQ looked too full for `n` more SQEs: re-read the kernel's head. False when it is.
  [[gnu::noinline]] bool make_room(unsigned n = 1) noexcept {
    sq_.limit = load_sq_head() + sq_.entries;
    return sq_.limit - sq_.tail >= n;
  }

  [[gnu::noinline]] std::error_code no_room(unsigned n) const noexcept {
    if (is_detached()) return errno_code(EBADF);
    return errno_code(n > sq_.entries ? EINVAL : EAGAIN);
  }

  inline std::uint32_t load_sq_head() const noexcept {
    // Without SQPOLL the kernel moves the head only inside our own io_uring_enter, which orders it.
    if constexpr (is_sqpoll)
      return order::load_kernel_index(sq_.khead);
    else
      return order::load_word(sq_.khead);
  }

  [[nodiscard]] inline sq_ring_flags sq_flags() const noexcept {
    return sq_ring_flags(order::load_word(sq_.kflags));
  }

  /// Whether an empty-looking CQ may still have completions the kernel must be asked for.
  [[nodiscard]] inline bool needs_flush() const noexcept {
    if constexpr (is_iopoll) return true;
    return any(sq_flags(), sq_ring_flags::cq_overflow | sq_ring_flags::taskrun);
  }

  /// Filled CQ slots. On a cqe_mixed ring, a distance beyond cq_entries() (a tail behind our
  /// head, or run ahead of it: see retire()) is not trusted to index entries by. With one slot per
  /// completion the kernel never posts past a full ring, and the walk steps one slot to the
  /// tail, so those rings take the distance as it is.
  [[nodiscard]] inline std::uint32_t cq_slots_ready() const noexcept {
    const std::uint32_t ready = order::load_kernel_index(cq_.ktail) - cq_.head;
    if constexpr (cqe_policy::mixed)
      return ready <= cq_.entries ? ready : clamp_slots(ready);
    else
      return ready;
  }

  /// A tail behind our head reads as nothing ready; one too far ahead as a full ring.
  [[gnu::noinline]] std::uint32_t clamp_slots(std::uint32_t ready) const noexcept {
    return static_cast<std::int32_t>(ready) < 0 ? 0 : cq_.entries;
  }

  /// cqe_mixed: mark a consumed entry's slots as padding before the head moves past them, and
  /// return how many slots it took. Under CQ overflow, 6.18 can count a slot in its tail that it
  /// never writes (a 32-byte completion meeting a full ring with only its last slot free), and
  /// write the next completion one slot early; a slot it skips that way then still holds what
  /// was read from it a lap before. Marked, such a slot reads as padding and is passed over: no
  /// completion is ever handed out twice, and no stale bytes as a completion.
  static inline std::uint32_t retire(const cqe_type* e) noexcept {
    // The CQ is mapped writable; the kernel writes a slot again only after the head has passed
    // it, and the head is published with release after this store.
    auto* slot = const_cast<cqe_type*>(e);
    const std::uint32_t slots = (slot->flags & bits(cqe_flags::big)) ? 2 : 1;
    slot[0].flags = bits(cqe_flags::skip);
    if (slots == 2) slot[1].flags = bits(cqe_flags::skip);
    return slots;
  }

  /// Hand at most `max` ready completions to `fn`, then publish the new head once: one acquire
  /// of the tail and one release of the head per batch.
  template <class Fn>
  inline unsigned reap(std::uint32_t max,
                       Fn&& fn) noexcept(noexcept(fn(std::declval<completion_type>()))) {
    const std::uint32_t ready = ready_or_flush();
    // An empty ring returns here, so the walk below starts without a test of its own.
    if (ready == 0) return 0;
    std::uint32_t head = cq_.head;
    unsigned count = 0;
    if constexpr (cqe_policy::mixed) {
      // Walked by signed distance to the end, so a two-slot step can never pass it.
      const std::uint32_t end = head + ready;
      while (count < max && static_cast<std::int32_t>(end - head) > 0) {
        const cqe_type* e = &cq_.cqes[head & cq_.mask];
        if (e->flags & bits(cqe_flags::skip)) {
          ++head;
          continue;
        }
        if ((e->flags & bits(cqe_flags::big)) && end - head < 2) break;  // half of one: not yet
        fn(completion_type(e));
        head += retire(e);
        ++count;
      }
      if (head == cq_.head) return 0;
    } else {
      // One slot per completion: the count is the distance walked, with no second counter.
      count = ready < max ? ready : max;
      if (count == 0) return 0;
      const std::uint32_t end = head + count;
      do fn(completion_type(&cq_.cqes[head & cq_.mask]));
      while (++head != end);
    }
    cq_.head = head;
    order::publish(cq_.khead, head);
    return count;
  }

  /// Filled CQ slots; when there are none, overflowed completions (and IOPOLL's, and deferred
  /// task work) are pulled in first, if the kernel holds any.
  inline std::uint32_t ready_or_flush() noexcept {
    if (const std::uint32_t ready = cq_slots_ready(); ready != 0 || !needs_flush()) return ready;
    (void)get_events();
    return cq_slots_ready();
  }

  inline void advance_slots(unsigned n) noexcept {
    cq_.head += n;
    order::publish(cq_.khead, cq_.head);
  }

  static std::size_t entry_size(completion_type c) noexcept {
    if constexpr (cqe_policy::mixed)
      return any(c.flags(), cqe_flags::big) ? sizeof(abi::cqe32) : sizeof(abi::cqe);
    else
      return sizeof(cqe_type);
  }

  inline int enter_with_timeout(unsigned to_submit, unsigned wait_nr, std::uint32_t flags,
                                std::chrono::nanoseconds timeout,
                                std::chrono::microseconds min_wait) noexcept {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    abi::kernel_timespec ts{secs.count(), (timeout - secs).count()};
    abi::getevents_arg arg{};
    arg.sigmask_sz = abi::kernel_sigset_size;
    arg.min_wait_usec = static_cast<std::uint32_t>(min_wait.count());
    arg.ts = reinterpret_cast<std::uintptr_t>(&ts);
    return enter(to_submit, wait_nr,
                 flags | bits(enter_flags::getevents) | bits(enter_flags::ext_arg), &arg,
                 sizeof arg);
  }

  using queues_type = detail::queues<sqe_type, cqe_type>;

  [[nodiscard]] bool is_detached() const noexcept { return cq_.khead == &detached_.cq_head; }

  /// Point the queues at the kernel's rings (or at our own zeros when the core has none).
  void map_queues() noexcept {
    if (!core_.is_open()) return detach();
    set(queues_type::template map<order>(core_));
    enter_fd_ = has_registered_fd ? core_.registered_index() : core_.fd();
  }

  void detach() noexcept {
    set(queues_type::detached(detached_));
    enter_fd_ = -1;
  }

  void set(const queues_type& q) noexcept {
    sq_ = q.sq;
    cq_ = q.cq;
  }

  /// Take `o`'s queues (its core has just been moved here) and leave it detached.
  void adopt(basic_ring& o) noexcept {
    if (o.is_detached()) {
      detach();
    } else {
      sq_ = o.sq_;
      cq_ = o.cq_;
      enter_fd_ = o.enter_fd_;
    }
    o.detach();
  }

  detail::ring_core core_;
  detail::sq_view<sqe_type> sq_;
  detail::cq_view<cqe_type> cq_;
  int enter_fd_ = -1;
  detail::detached_words detached_;
};

namespace detail {

/// IORING_REGISTER_RESIZE_RINGS (6.13; the kernel resizes only DEFER_TASKRUN rings), reached
/// through urine.registration's resize_rings(). This is the one place outside creation where
/// the kernel moves the shared memory under us: prepared SQEs are published first so the kernel
/// copies them along (it copies head...tail), and afterwards the queues are mapped anew. The SQ
/// tail is the kernel's copy of ours, so local indices stay as they were; SQEs and completions
/// obtained earlier are invalid. If the kernel resized but the new rings could not be mapped,
/// the ring is closed and left without queues (every call then fails with EBADF): there is no
/// ring to go back to.
template <class Config>
result<void> resize_ring(basic_ring<Config>& ring, std::uint32_t sq_entries,
                         std::uint32_t cq_entries) {
  (void)ring.publish_sq();
  Config::memory_order::publish(ring.cq_.khead, ring.cq_.head);
  auto resized = ring.core_.resize(sq_entries, cq_entries, ring.shape());
  if (!ring.core_.is_open()) {
    ring.detach();
    return resized;
  }
  if (!resized) return resized;
  const std::uint32_t tail = ring.sq_.tail;
  ring.map_queues();
  ring.sq_.tail = ring.sq_.published = tail;
  return {};
}

}  // namespace detail

/// A ring configured by policies, in any order; axes left out take their defaults. The same
/// choices in another order name the same type.
template <class... Policies>
using ring = basic_ring<typename resolve_config<Policies...>::type>;

}  // namespace urine
