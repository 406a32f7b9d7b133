// The policy vocabulary of ring<...>: one small type per choice on each axis. A policy names its
// axis (`using axis = ...`) and carries what the ring needs to know at compile time: setup flags,
// entry types, how shared indices are read and published. Users may add their own memory-order
// policy; the concepts below say what it must provide.
module;
#include <atomic>
#include <concepts>
#include <cstdint>
export module urine.ring:policies;
import urine.abi;

export namespace urine {

/// The axes a ring is configured on; each policy type names exactly one.
namespace axis {
struct sqe_layout {};
struct cqe_layout {};
struct polling {};
struct memory_order {};
struct task_run {};
struct ring_fd {};
}  // namespace axis

// ---- SQE layout --------------------------------------------------------------------------------

/// 64-byte SQEs (the default).
struct sqe64 {
  using axis = urine::axis::sqe_layout;
  using entry = abi::sqe;
  static constexpr setup_flags flags = setup_flags::none;
};

/// 128-byte SQEs (IORING_SETUP_SQE128), for commands with an 80-byte payload.
struct sqe128 {
  using axis = urine::axis::sqe_layout;
  using entry = abi::sqe128;
  static constexpr setup_flags flags = setup_flags::sqe128;
};

// ---- CQE layout --------------------------------------------------------------------------------

/// 16-byte CQEs (the default).
struct cqe16 {
  using axis = urine::axis::cqe_layout;
  using entry = abi::cqe;
  static constexpr setup_flags flags = setup_flags::none;
  static constexpr bool has_big = false;
  static constexpr bool mixed = false;
};

/// 32-byte CQEs (IORING_SETUP_CQE32): every entry carries 16 extra bytes.
struct cqe32 {
  using axis = urine::axis::cqe_layout;
  using entry = abi::cqe32;
  static constexpr setup_flags flags = setup_flags::cqe32;
  static constexpr bool has_big = true;
  static constexpr bool mixed = false;
};

/// 16-byte slots where an entry flagged F_32 takes two (IORING_SETUP_CQE_MIXED, 6.18); the kernel
/// pads with an F_SKIP entry rather than wrap a big entry around the ring's end.
struct cqe_mixed {
  using axis = urine::axis::cqe_layout;
  using entry = abi::cqe;
  static constexpr setup_flags flags = setup_flags::cqe_mixed;
  static constexpr bool has_big = true;
  static constexpr bool mixed = true;
};

// ---- Polling mode ------------------------------------------------------------------------------

/// Submission and completion through io_uring_enter(2) (the default).
struct interrupt {
  using axis = urine::axis::polling;
  static constexpr setup_flags flags = setup_flags::none;
  static constexpr bool sq_thread = false;
  static constexpr bool io_poll = false;
};

/// A kernel thread polls the SQ (IORING_SETUP_SQPOLL). Submission enters the kernel only to wake
/// the thread. How long it polls before sleeping and which CPU it runs on are run-time numbers:
/// setup::sq_thread_idle_ms and setup::sq_thread_cpu.
struct sqpoll {
  using axis = urine::axis::polling;
  static constexpr setup_flags flags = setup_flags::sqpoll;
  static constexpr bool sq_thread = true;
  static constexpr bool io_poll = false;
};

/// Completions are found by busy-polling the device (IORING_SETUP_IOPOLL): O_DIRECT files on
/// polled block devices only. Reaping always enters the kernel.
struct iopoll {
  using axis = urine::axis::polling;
  static constexpr setup_flags flags = setup_flags::iopoll;
  static constexpr bool sq_thread = false;
  static constexpr bool io_poll = true;
};

/// IOPOLL that sleeps part of the expected latency before polling (IORING_SETUP_HYBRID_IOPOLL).
struct hybrid_iopoll {
  using axis = urine::axis::polling;
  static constexpr setup_flags flags = setup_flags::iopoll | setup_flags::hybrid_iopoll;
  static constexpr bool sq_thread = false;
  static constexpr bool io_poll = true;
};

// ---- Memory-order strategy ---------------------------------------------------------------------

/// Acquire loads of the indices the kernel writes, release stores of those we write (the default):
/// exactly the ordering the io_uring protocol needs, and no more.
struct acquire_release {
  using axis = urine::axis::memory_order;
  static inline std::uint32_t load_kernel_index(const std::uint32_t* p) noexcept {
    return std::atomic_ref(*const_cast<std::uint32_t*>(p)).load(std::memory_order_acquire);
  }
  static inline std::uint32_t load_word(const std::uint32_t* p) noexcept {
    return std::atomic_ref(*const_cast<std::uint32_t*>(p)).load(std::memory_order_relaxed);
  }
  static inline void publish(std::uint32_t* p, std::uint32_t v) noexcept {
    std::atomic_ref(*p).store(v, std::memory_order_release);
  }
  static inline void store_load_fence() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
};

/// Every shared access sequentially consistent: a baseline for verification and teaching.
struct sequentially_consistent {
  using axis = urine::axis::memory_order;
  static inline std::uint32_t load_kernel_index(const std::uint32_t* p) noexcept {
    return std::atomic_ref(*const_cast<std::uint32_t*>(p)).load(std::memory_order_seq_cst);
  }
  static inline std::uint32_t load_word(const std::uint32_t* p) noexcept {
    return std::atomic_ref(*const_cast<std::uint32_t*>(p)).load(std::memory_order_seq_cst);
  }
  static inline void publish(std::uint32_t* p, std::uint32_t v) noexcept {
    std::atomic_ref(*p).store(v, std::memory_order_seq_cst);
  }
  static inline void store_load_fence() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
};

/// What a memory-order policy must provide, one function per role:
/// - load_kernel_index: read an index the kernel publishes (the CQ tail; an SQPOLL ring's SQ head);
///   later reads of the entries it covers must not move before it.
/// - load_word: read a shared word whose ordering the caller already has (ring flags, counters,
///   the SQ head the kernel moved inside our own system call).
/// - publish: store an index (the SQ tail, the CQ head) or flag word we share; earlier writes of
///   the entries it covers must not move after it.
/// - store_load_fence: order a store before a later load (the SQPOLL wake-up check).
template <class M>
concept memory_order_policy = std::same_as<typename M::axis, axis::memory_order> &&
                              requires(const std::uint32_t* cp, std::uint32_t* p, std::uint32_t v) {
                                {
                                  M::load_kernel_index(cp)
                                } noexcept -> std::same_as<std::uint32_t>;
                                { M::load_word(cp) } noexcept -> std::same_as<std::uint32_t>;
                                { M::publish(p, v) } noexcept;
                                { M::store_load_fence() } noexcept;
                              };

// ---- Task-run mode -----------------------------------------------------------------------------

/// Completion task work interrupts the task when it arrives (the default).
struct default_task_run {
  using axis = urine::axis::task_run;
  static constexpr setup_flags flags = setup_flags::none;
  static constexpr bool deferred = false;
};

/// Task work waits for the next kernel entry instead of an interrupt (IORING_SETUP_COOP_TASKRUN);
/// with `Flag`, the kernel also raises IORING_SQ_TASKRUN when work is pending (TASKRUN_FLAG).
template <bool Flag = false>
struct coop_task_run {
  using axis = urine::axis::task_run;
  static constexpr setup_flags flags =
      setup_flags::coop_taskrun | (Flag ? setup_flags::taskrun_flag : setup_flags::none);
  static constexpr bool deferred = false;
};

/// Only one thread ever submits (IORING_SETUP_SINGLE_ISSUER); another gets EEXIST.
struct single_issuer {
  using axis = urine::axis::task_run;
  static constexpr setup_flags flags = setup_flags::single_issuer;
  static constexpr bool deferred = false;
};

/// Single issuer, and completions are produced only when that thread waits for them
/// (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN): peeking alone never sees new
/// completions; wait, or call get_events().
template <bool Flag = false>
struct defer_task_run {
  using axis = urine::axis::task_run;
  static constexpr setup_flags flags = setup_flags::single_issuer | setup_flags::defer_taskrun |
                                       (Flag ? setup_flags::taskrun_flag : setup_flags::none);
  static constexpr bool deferred = true;
};

// ---- Ring fd -----------------------------------------------------------------------------------

/// io_uring_enter(2) is given the ring's file descriptor (the default).
struct plain_ring_fd {
  using axis = urine::axis::ring_fd;
  static constexpr bool registered = false;
};

/// The ring fd is registered with the kernel at creation (IORING_REGISTER_RING_FDS) and every
/// enter and register call passes its index, sparing the kernel a file-table lookup per call.
struct registered_ring_fd {
  using axis = urine::axis::ring_fd;
  static constexpr bool registered = true;
};

// ---- Concepts ----------------------------------------------------------------------------------

template <class P>
concept ring_policy = requires { typename P::axis; };

template <class L>
concept sqe_layout_policy = std::same_as<typename L::axis, axis::sqe_layout>;
template <class L>
concept cqe_layout_policy = std::same_as<typename L::axis, axis::cqe_layout>;
template <class L>
concept polling_policy = std::same_as<typename L::axis, axis::polling>;
template <class L>
concept task_run_policy = std::same_as<typename L::axis, axis::task_run>;
template <class L>
concept ring_fd_policy = std::same_as<typename L::axis, axis::ring_fd>;

}  // namespace urine
