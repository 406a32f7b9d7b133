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
#include <span>
#include <system_error>
#include <utility>
export module urine.ring:basic_ring;
import urine.abi;
import :policies;
import :config;
import :completion;
import :setup;

export namespace urine {

/// Per-SQE options that are not part of any operation: flags and the credentials to run under.
struct sqe_options {
  sqe_flags flags = sqe_flags::none;
  /// A personality id from the registration module (0: the submitting task's own credentials).
  std::uint16_t personality = 0;
};

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

  basic_ring(basic_ring&& o) noexcept : core_(std::move(o.core_)) { adopt_indices(o); }
  basic_ring& operator=(basic_ring&& o) noexcept {
    if (this != &o) {
      core_ = std::move(o.core_);
      adopt_indices(o);
    }
    return *this;
  }
  basic_ring(const basic_ring&) = delete;
  basic_ring& operator=(const basic_ring&) = delete;
  ~basic_ring() = default;

  // ---- submission ------------------------------------------------------------------------------

  /// The next free SQE, or nullptr when the SQ is full (submit, then try again). The SQE's
  /// contents are whatever was there before: prepare every field, or use push().
  [[nodiscard]] inline sqe_type* get_sqe() noexcept {
    if (sq_tail_ == sq_limit_ && !make_room()) [[unlikely]] return nullptr;
    return &sqes_[sq_tail_++ & sq_mask_];
  }

  /// Prepare `op` in the next SQE; false when the SQ is full. The SQE is cleared first, so an
  /// operation only writes the fields it uses.
  template <class Op>
  [[nodiscard]] inline bool push(const Op& op, user_data data = {}, sqe_options options = {}) noexcept {
    check_operation<Op>();
    // Tested on the indices, not on a null SQE pointer: the compiler cannot prove &sqes_[i]
    // non-null, so a pointer test would cost a compare per SQE.
    if (sq_tail_ == sq_limit_ && !make_room()) [[unlikely]] return false;
    fill_next(sqes_, sq_mask_, sq_tail_, op, data, options);
    return true;
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
      assert(static_cast<std::int32_t>(end_ - ring_->sq_tail_) > 0 &&
             "reservation::push: more SQEs than were reserved");
      fill_next(sqes_, mask_, ring_->sq_tail_, op, data, options);
    }

    /// Reserved SQEs not pushed yet.
    [[nodiscard]] inline unsigned remaining() const noexcept { return end_ - ring_->sq_tail_; }

   private:
    friend basic_ring;
    // The SQE array and mask are copied: a copy the compiler keeps in registers, where members of
    // the ring would be reloaded after every SQE store (an SQE's byte fields may alias them).
    inline reservation(basic_ring& r, unsigned n) noexcept
        : ring_(&r), sqes_(r.sqes_), mask_(r.sq_mask_), end_(r.sq_tail_ + n) {}

    basic_ring* ring_;
    sqe_type* sqes_;
    std::uint32_t mask_;
    std::uint32_t end_;  ///< the SQ tail at which the room runs out
  };

  /// Room for `n` SQEs, or the reason there is none: EAGAIN when the SQ has fewer than `n` free
  /// entries now (submit, or on SQPOLL rings wait_for_sq_space(), then reserve again), EINVAL when
  /// `n` is more than the SQ holds.
  [[nodiscard]] inline std::expected<reservation, std::error_code> reserve(unsigned n) noexcept {
    if (sq_limit_ - sq_tail_ < n && !make_room(n)) [[unlikely]]
      return std::unexpected(errno_code(n > sq_entries_ ? EINVAL : EAGAIN));
    return reservation(*this, n);
  }

  /// SQEs prepared and not yet consumed by the kernel.
  [[nodiscard]] unsigned sq_ready() const noexcept { return sq_tail_ - load_sq_head(); }
  /// Free SQ entries.
  [[nodiscard]] unsigned sq_space_left() const noexcept {
    return sq_entries_ - (sq_tail_ - load_sq_head());
  }
  [[nodiscard]] unsigned sq_entries() const noexcept { return sq_entries_; }
  /// SQEs the kernel dropped as invalid (the SQ ring's dropped counter).
  [[nodiscard]] unsigned sq_dropped() const noexcept { return order::load_relaxed(sq_kdropped_); }

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
  /// fewer than `wait_nr`.
  inline submit_result submit_and_wait_for(unsigned wait_nr, std::chrono::nanoseconds timeout,
                                           std::chrono::microseconds min_wait = {}) noexcept {
    const unsigned pending = publish_sq();
    std::uint32_t flags = 0;
    if constexpr (is_sqpoll) {
      order::full_fence();
      if (any(sq_flags(), sq_ring_flags::need_wakeup)) flags |= bits(enter_flags::sq_wakeup);
    }
    const int ret = enter_with_timeout(pending, wait_nr, flags, timeout, min_wait);
    if (ret < 0) return std::unexpected(errno_code(-ret));
    if constexpr (is_sqpoll)
      return pending;
    else
      return consumed(ret);
  }

  /// SQPOLL rings: block until the kernel thread has made room in a full SQ (IORING_ENTER_SQ_WAIT).
  inline submit_result wait_for_sq_space() noexcept
    requires is_sqpoll
  {
    const int ret = enter(0, 0, bits(enter_flags::sq_wait));
    if (ret < 0) return std::unexpected(errno_code(-ret));
    return sq_space_left();
  }

  /// SQPOLL rings: whether the kernel thread is asleep and the next submit must wake it.
  [[nodiscard]] bool needs_wakeup() const noexcept
    requires is_sqpoll
  {
    order::full_fence();
    return any(sq_flags(), sq_ring_flags::need_wakeup);
  }

  // ---- completion ------------------------------------------------------------------------------

  /// The oldest ready completion, or an empty one; never blocks. Overflowed completions (and, on
  /// IOPOLL rings, device completions) are pulled into the ring when it looks empty. Mark it seen
  /// with cqe_seen() before peeking again.
  [[nodiscard]] inline completion_type peek_cqe() noexcept {
    for (bool flushed = false;;) {
      const std::uint32_t tail = order::load_acquire(cq_ktail_);
      if (cq_head_ != tail) {
        const cqe_type* e = &cqes_[cq_head_ & cq_mask_];
        if constexpr (cqe_policy::mixed) {
          if (e->flags & bits(cqe_flags::skip)) [[unlikely]] {
            advance_slots(1);
            continue;
          }
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
      advance_slots(any(c.flags(), cqe_flags::big) ? 2 : 1);
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
      if (ret < 0) return std::unexpected(errno_code(-ret));
    }
  }

  /// Wait until at least `n` completions are ready (CQ slots on a cqe_mixed ring); returns how many are.
  inline submit_result wait(unsigned n = 1) noexcept {
    for (;;) {
      const unsigned ready = cq_ready();
      if (ready >= n) return ready;
      const int ret = enter(0, n, bits(enter_flags::getevents));
      if (ret < 0) return std::unexpected(errno_code(-ret));
      if constexpr (!is_iopoll && !is_deferred) return cq_ready();
    }
  }

  /// Wait for `n` completions or until `timeout` passes (then ETIME); see submit_and_wait_for.
  inline submit_result wait_for(unsigned n, std::chrono::nanoseconds timeout,
                                std::chrono::microseconds min_wait = {}) noexcept {
    if (const unsigned ready = cq_ready(); ready >= n) return ready;
    const int ret = enter_with_timeout(0, n, 0, timeout, min_wait);
    if (ret < 0) return std::unexpected(errno_code(-ret));
    return cq_ready();
  }

  /// Call `fn(completion)` for every ready completion, then consume them all at once.
  template <class Fn>
  inline unsigned for_each_cqe(Fn&& fn) noexcept(noexcept(fn(std::declval<completion_type>()))) {
    const std::uint32_t first = cq_head_;
    std::uint32_t tail = order::load_acquire(cq_ktail_);
    // An empty ring returns here, so the walk below starts without a test of its own.
    if (tail == first) {
      if (!needs_flush()) return 0;
      (void)get_events();
      tail = order::load_acquire(cq_ktail_);
      if (tail == first) return 0;
    }
    std::uint32_t head = first;
    unsigned count = 0;
    if constexpr (cqe_policy::mixed) {
      while (head != tail) {
        const cqe_type* e = &cqes_[head & cq_mask_];
        if (e->flags & bits(cqe_flags::skip)) {
          ++head;
          continue;
        }
        head += (e->flags & bits(cqe_flags::big)) ? 2 : 1;
        fn(completion_type(e));
        ++count;
      }
    } else {
      // One slot per completion: the count is the distance walked, with no second counter.
      do fn(completion_type(&cqes_[head & cq_mask_]));
      while (++head != tail);
      count = tail - first;
    }
    cq_head_ = head;
    order::store_release(cq_khead_, head);
    return count;
  }

  /// Copy up to out.size() ready completions out of the ring and consume them.
  inline unsigned copy_cqes(std::span<copied_cqe_type> out) noexcept {
    unsigned n = 0;
    while (n < out.size()) {
      const completion_type c = peek_cqe();
      if (!c) break;
      copied_cqe_type copy{};
      std::memcpy(&copy, &c.raw(), entry_size(c));
      out[n++] = copy;
      cqe_seen(c);
    }
    return n;
  }

  /// Ready completions (CQ slots), without entering the kernel.
  [[nodiscard]] unsigned cq_ready() const noexcept {
    return order::load_acquire(cq_ktail_) - cq_head_;
  }
  [[nodiscard]] unsigned cq_entries() const noexcept { return cq_entries_; }
  /// Completions the kernel could not deliver at all (the CQ ring's overflow counter). With
  /// IORING_FEAT_NODROP this stays 0: overflowed completions wait in the kernel instead.
  [[nodiscard]] unsigned cq_overflow() const noexcept { return order::load_relaxed(cq_koverflow_); }
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
    if (ret < 0) return std::unexpected(errno_code(-ret));
    return cq_ready();
  }

  /// Turn eventfd notifications for this ring off or on (IORING_CQ_EVENTFD_DISABLED).
  void set_eventfd_enabled(bool enabled) noexcept {
    std::uint32_t f = order::load_relaxed(cq_kflags_);
    f = enabled ? (f & ~bits(cq_ring_flags::eventfd_disabled)) : (f | bits(cq_ring_flags::eventfd_disabled));
    order::store_release(cq_kflags_, f);
  }

  // ---- raw access and state --------------------------------------------------------------------

  /// io_uring_enter(2) on this ring (through the registered index when the policy says so).
  inline int enter(unsigned to_submit, unsigned min_complete, std::uint32_t flags,
                   const void* arg = nullptr, std::size_t arg_size = abi::kernel_sigset_size) noexcept {
    if constexpr (has_registered_fd) flags |= bits(enter_flags::registered_ring);
    return abi::io_uring_enter(enter_fd_, to_submit, min_complete, flags, arg, arg_size);
  }

  /// io_uring_register(2) on this ring; returns the kernel's result (-errno on failure).
  [[nodiscard]] int register_raw(register_opcode op, const void* arg, std::uint32_t nr) const noexcept {
    return core_.do_register(op, arg, nr);
  }

  /// Start a ring created with setup::disabled (IORING_REGISTER_ENABLE_RINGS).
  result<void> enable() noexcept {
    const int ret = register_raw(register_opcode::register_enable_rings, nullptr, 0);
    if (ret < 0) return fail(ret, "IORING_REGISTER_ENABLE_RINGS");
    return {};
  }

  /// Resize the SQ and CQ rings in place (IORING_REGISTER_RESIZE_RINGS, 6.13; the kernel resizes
  /// only DEFER_TASKRUN rings). The public face is urine.registration's resize_rings(). This is
  /// the one place outside creation where the kernel moves the shared memory under us: prepared
  /// SQEs are published first so the kernel copies them along (it copies head...tail), and after
  /// the remap every cached pointer and mask is re-read. The SQ tail is the kernel's copy of ours,
  /// so local indices stay as they were; SQEs and completions obtained earlier are invalid.
  result<void> resize(std::uint32_t sq_entries, std::uint32_t cq_entries) {
    (void)publish_sq();
    order::store_release(cq_khead_, cq_head_);
    if (auto r = core_.resize(sq_entries, cq_entries, shape()); !r) return r;
    const std::uint32_t tail = sq_tail_;
    map_indices();
    sq_tail_ = sq_published_ = tail;
    return {};
  }

  /// The ring's fd (-1 for a REGISTERED_FD_ONLY ring).
  [[nodiscard]] int fd() const noexcept { return core_.fd(); }
  /// The registered ring index (-1 when not registered).
  [[nodiscard]] int registered_index() const noexcept { return core_.registered_index(); }
  /// The setup flags the kernel accepted for this ring.
  [[nodiscard]] setup_flags flags() const noexcept { return setup_flags(core_.params().flags); }
  [[nodiscard]] feature_flags features() const noexcept { return feature_flags(core_.params().features); }
  [[nodiscard]] const abi::params& params() const noexcept { return core_.params(); }

 private:
  explicit basic_ring(detail::ring_core core) noexcept : core_(std::move(core)) { map_indices(); }

  static constexpr detail::ring_shape shape() noexcept {
    std::uint32_t idle = 0;
    int cpu = -1;
    if constexpr (is_sqpoll) {
      idle = poll_policy::idle_ms;
      cpu = poll_policy::cpu;
    }
    return {Config::flags, sizeof(sqe_type),
            cqe_policy::has_big && !cqe_policy::mixed ? 32u : 16u, idle, cpu,
            fd_policy::registered};
  }

  template <class Op>
  static consteval void check_operation() {
    static_assert(requires(const Op& op, abi::sqe& s) { op.prepare(s); } ||
                      requires(const Op& op, abi::sqe128& s) { op.prepare(s); },
                  "push(): not an operation (it needs a prepare(abi::sqe&) member)");
    if constexpr (requires { Op::needs_sqe128; }) {
      static_assert(!Op::needs_sqe128 || is_sqe128,
                    "push(): this operation carries a 128-byte SQE and needs a ring<sqe128, ...>");
    }
    if constexpr (requires { Op::needs_big_cqe; }) {
      static_assert(!Op::needs_big_cqe || has_big_cqes,
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

  /// Publish the SQ tail and enter the kernel. With `SkipIdle` (submit()), nothing to submit
  /// returns without a system call; waiting callers do not pay for that test.
  template <bool SkipIdle>
  inline submit_result submit_pending(unsigned wait_nr) noexcept {
    const unsigned pending = publish_sq();
    std::uint32_t flags = wait_nr > 0 ? bits(enter_flags::getevents) : 0;
    if constexpr (is_sqpoll) {
      // The kernel thread may have gone to sleep before seeing the new tail: the full fence orders
      // our tail store before the flag load, pairing with the thread's own barrier.
      order::full_fence();
      if (any(sq_flags(), sq_ring_flags::need_wakeup)) flags |= bits(enter_flags::sq_wakeup);
      if (flags == 0) return pending;
      const int ret = enter(pending, wait_nr, flags);
      if (ret < 0) [[unlikely]]
        return std::unexpected(errno_code(-ret));
      return pending;
    } else {
      if constexpr (SkipIdle) {
        if (pending == 0 && wait_nr == 0) return 0u;
      }
      const int ret = enter(pending, wait_nr, flags);
      if (ret < 0) [[unlikely]]
        return std::unexpected(errno_code(-ret));
      return consumed(ret);
    }
  }

  template <class Op>
  static inline void fill(sqe_type& entry, const Op& op, user_data data, sqe_options options) noexcept {
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

  /// Publish the local SQ tail. Without SQPOLL, returns how many SQEs the kernel has yet to
  /// consume (anything an earlier enter left is submitted again with the new ones); with SQPOLL,
  /// how many this call handed to the thread.
  inline unsigned publish_sq() noexcept {
    // A plain store on x86 and cheaper than testing whether the tail moved.
    order::store_release(sq_ktail_, sq_tail_);
    if constexpr (is_sqpoll) {
      const unsigned fresh = sq_tail_ - sq_published_;
      sq_published_ = sq_tail_;
      return fresh;
    } else {
      return sq_tail_ - (sq_limit_ - sq_entries_);
    }
  }

  /// Without SQPOLL the kernel consumes SQEs only inside our enter, and says how many: the head
  /// advances by that, with no load of the shared head.
  inline unsigned consumed(int ret) noexcept {
    sq_limit_ += static_cast<unsigned>(ret);
    return static_cast<unsigned>(ret);
  }

  /// The SQ looked too full for `n` more SQEs: re-read the kernel's head. False when it is.
  [[gnu::noinline]] bool make_room(unsigned n = 1) noexcept {
    sq_limit_ = load_sq_head() + sq_entries_;
    return sq_limit_ - sq_tail_ >= n;
  }

  inline std::uint32_t load_sq_head() const noexcept {
    // Without SQPOLL the kernel moves the head only inside our own io_uring_enter, which orders it.
    if constexpr (is_sqpoll)
      return order::load_acquire(sq_khead_);
    else
      return order::load_relaxed(sq_khead_);
  }

  [[nodiscard]] inline sq_ring_flags sq_flags() const noexcept {
    return sq_ring_flags(order::load_relaxed(sq_kflags_));
  }

  /// Whether an empty-looking CQ may still have completions the kernel must be asked for.
  [[nodiscard]] inline bool needs_flush() const noexcept {
    if constexpr (is_iopoll) return true;
    return any(sq_flags(), sq_ring_flags::cq_overflow | sq_ring_flags::taskrun);
  }

  inline void advance_slots(unsigned n) noexcept {
    cq_head_ += n;
    order::store_release(cq_khead_, cq_head_);
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
                 flags | bits(enter_flags::getevents) | bits(enter_flags::ext_arg), &arg, sizeof arg);
  }

  void map_indices() noexcept {
    const abi::params& p = core_.params();
    const auto at = [](std::byte* base, std::uint32_t off) {
      return reinterpret_cast<std::uint32_t*>(base + off);
    };
    std::byte* sq = core_.sq_ring();
    std::byte* cq = core_.cq_ring();
    sq_khead_ = at(sq, p.sq_off.head);
    sq_ktail_ = at(sq, p.sq_off.tail);
    sq_kflags_ = at(sq, p.sq_off.flags);
    sq_kdropped_ = at(sq, p.sq_off.dropped);
    sq_mask_ = *at(sq, p.sq_off.ring_mask);
    sq_entries_ = *at(sq, p.sq_off.ring_entries);
    sqes_ = reinterpret_cast<sqe_type*>(core_.sqes());
    cq_khead_ = at(cq, p.cq_off.head);
    cq_ktail_ = at(cq, p.cq_off.tail);
    cq_koverflow_ = at(cq, p.cq_off.overflow);
    cq_kflags_ = at(cq, p.cq_off.flags);
    cq_mask_ = *at(cq, p.cq_off.ring_mask);
    cq_entries_ = *at(cq, p.cq_off.ring_entries);
    cqes_ = reinterpret_cast<const cqe_type*>(cq + p.cq_off.cqes);
    sq_tail_ = sq_published_ = order::load_relaxed(sq_khead_);
    sq_limit_ = sq_tail_ + sq_entries_;
    cq_head_ = order::load_relaxed(cq_khead_);
    enter_fd_ = has_registered_fd ? core_.registered_index() : core_.fd();
  }

  void adopt_indices(basic_ring& o) noexcept {
    sq_khead_ = std::exchange(o.sq_khead_, nullptr);
    sq_ktail_ = std::exchange(o.sq_ktail_, nullptr);
    sq_kflags_ = std::exchange(o.sq_kflags_, nullptr);
    sq_kdropped_ = std::exchange(o.sq_kdropped_, nullptr);
    sqes_ = std::exchange(o.sqes_, nullptr);
    sq_mask_ = o.sq_mask_;
    sq_entries_ = std::exchange(o.sq_entries_, 0);
    sq_tail_ = o.sq_tail_;
    sq_published_ = o.sq_published_;
    sq_limit_ = std::exchange(o.sq_limit_, o.sq_tail_);
    cq_khead_ = std::exchange(o.cq_khead_, nullptr);
    cq_ktail_ = std::exchange(o.cq_ktail_, nullptr);
    cq_koverflow_ = std::exchange(o.cq_koverflow_, nullptr);
    cq_kflags_ = std::exchange(o.cq_kflags_, nullptr);
    cqes_ = std::exchange(o.cqes_, nullptr);
    cq_mask_ = o.cq_mask_;
    cq_entries_ = std::exchange(o.cq_entries_, 0);
    cq_head_ = o.cq_head_;
    enter_fd_ = std::exchange(o.enter_fd_, -1);
  }

  detail::ring_core core_;

  // Submission queue: kernel-shared words, then our local view.
  std::uint32_t* sq_khead_ = nullptr;
  std::uint32_t* sq_ktail_ = nullptr;
  std::uint32_t* sq_kflags_ = nullptr;
  std::uint32_t* sq_kdropped_ = nullptr;
  sqe_type* sqes_ = nullptr;
  std::uint32_t sq_mask_ = 0;
  std::uint32_t sq_entries_ = 0;
  std::uint32_t sq_tail_ = 0;       ///< next SQE to hand out
  std::uint32_t sq_limit_ = 0;      ///< known kernel head + entries: the SQ is full at this tail
  std::uint32_t sq_published_ = 0;  ///< SQPOLL: tail last handed to the thread

  // Completion queue.
  std::uint32_t* cq_khead_ = nullptr;
  std::uint32_t* cq_ktail_ = nullptr;
  std::uint32_t* cq_koverflow_ = nullptr;
  std::uint32_t* cq_kflags_ = nullptr;
  const cqe_type* cqes_ = nullptr;
  std::uint32_t cq_mask_ = 0;
  std::uint32_t cq_entries_ = 0;
  std::uint32_t cq_head_ = 0;  ///< next CQE to read; published on every advance

  int enter_fd_ = -1;
};

/// A ring configured by policies, in any order; axes left out take their defaults. The same
/// choices in another order name the same type.
template <class... Policies>
using ring = basic_ring<typename resolve_config<Policies...>::type>;

}  // namespace urine
