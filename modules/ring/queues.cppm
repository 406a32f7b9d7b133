// The two queues of a ring as the process sees them: where the words it shares with the kernel
// live, and the indices it keeps locally. They are plain values, so creating, moving, resizing
// and detaching a ring each replace them whole.
//
// A ring without kernel queues (moved from, or closed after a failed resize) is not a ring of
// null pointers: its views point at words of its own that read as an empty, full queue, so every
// hot-path function works unchanged and finds nothing to do — push finds no room, peek finds no
// completion — and the calls that would enter the kernel fail with EBADF on the closed fd.
module;
#include <cstddef>
#include <cstdint>
export module urine.ring:queues;
import urine.abi;
import :setup;

export namespace urine::detail {

/// The submission queue.
template <class Sqe>
struct sq_view {
  std::uint32_t* khead = nullptr;  ///< kernel-shared: the kernel's consumer index
  std::uint32_t* ktail = nullptr;  ///< kernel-shared: our producer index, as published
  std::uint32_t* kflags = nullptr;
  std::uint32_t* kdropped = nullptr;
  Sqe* sqes = nullptr;
  std::uint32_t mask = 0;
  std::uint32_t entries = 0;
  std::uint32_t tail = 0;       ///< next SQE to hand out
  std::uint32_t limit = 0;      ///< known kernel head + entries: the SQ is full at this tail
  std::uint32_t published = 0;  ///< SQPOLL: tail last handed to the thread
};

/// The completion queue.
template <class Cqe>
struct cq_view {
  std::uint32_t* khead = nullptr;  ///< kernel-shared: our consumer index, as published
  std::uint32_t* ktail = nullptr;  ///< kernel-shared: the kernel's producer index
  std::uint32_t* koverflow = nullptr;
  std::uint32_t* kflags = nullptr;
  const Cqe* cqes = nullptr;
  std::uint32_t mask = 0;
  std::uint32_t entries = 0;
  std::uint32_t head = 0;  ///< next CQE to read; published on every advance
};

/// What the views of a ring without kernel queues point at: zeros, written only by the ring that
/// owns them (each ring has its own, so detached rings on different threads share nothing).
struct detached_words {
  std::uint32_t sq_head = 0, sq_tail = 0, sq_flags = 0, sq_dropped = 0;
  std::uint32_t cq_head = 0, cq_tail = 0, cq_overflow = 0, cq_flags = 0;
};

template <class Sqe, class Cqe>
struct queues {
  sq_view<Sqe> sq;
  cq_view<Cqe> cq;

  /// The queues of a mapped ring, with the local indices taken from the kernel's.
  template <class Order>
  static queues map(const ring_core& core) noexcept {
    const abi::params& p = core.params();
    const auto word = [](std::byte* base, std::uint32_t offset) {
      return reinterpret_cast<std::uint32_t*>(base + offset);
    };
    std::byte* const s = core.sq_ring();
    std::byte* const c = core.cq_ring();
    queues q;
    q.sq = {.khead = word(s, p.sq_off.head),
            .ktail = word(s, p.sq_off.tail),
            .kflags = word(s, p.sq_off.flags),
            .kdropped = word(s, p.sq_off.dropped),
            .sqes = reinterpret_cast<Sqe*>(core.sqes()),
            .mask = *word(s, p.sq_off.ring_mask),
            .entries = *word(s, p.sq_off.ring_entries)};
    q.sq.tail = q.sq.published = Order::load_word(q.sq.khead);
    q.sq.limit = q.sq.tail + q.sq.entries;
    q.cq = {.khead = word(c, p.cq_off.head),
            .ktail = word(c, p.cq_off.tail),
            .koverflow = word(c, p.cq_off.overflow),
            .kflags = word(c, p.cq_off.flags),
            .cqes = reinterpret_cast<const Cqe*>(c + p.cq_off.cqes),
            .mask = *word(c, p.cq_off.ring_mask),
            .entries = *word(c, p.cq_off.ring_entries)};
    q.cq.head = Order::load_word(q.cq.khead);
    return q;
  }

  /// The queues of a ring without kernel queues: no entries, no room, no completions.
  static queues detached(detached_words& w) noexcept {
    w = {};
    queues q;
    q.sq = {
        .khead = &w.sq_head, .ktail = &w.sq_tail, .kflags = &w.sq_flags, .kdropped = &w.sq_dropped};
    q.cq = {.khead = &w.cq_head,
            .ktail = &w.cq_tail,
            .koverflow = &w.cq_overflow,
            .kflags = &w.cq_flags};
    return q;
  }
};

}  // namespace urine::detail
