// Provided-buffer rings (REGISTER_PBUF_RING, UNREGISTER_PBUF_RING, PBUF_STATUS): a ring of
// buffers the kernel picks from when a request says "any buffer of group G" (IOSQE_BUFFER_SELECT),
// which is what lets one multishot receive run for ever without the application choosing memory
// in advance.
//
// The part that is easy to get wrong is giving buffers back: a buffer may be re-added only after
// the application is done reading it, and (with incremental consumption) only after the kernel
// is done filling it. buffer_ring::take() turns a completion into a provided_buffer — a move-only
// lease on the bytes the completion delivered — and the buffer goes back to the kernel when the
// last lease on it is released, never earlier. The raw add/advance/commit primitives remain for
// callers who manage ids themselves.
module;
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>
#include <utility>
#include <vector>
export module urine.registration:buf_ring;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// Who provides the memory of the ring of buffer descriptors.
enum class buffer_ring_memory : std::uint8_t {
  application,  ///< urine maps it and hands its address to the kernel
  kernel,  ///< the kernel allocates it and urine maps it through the ring fd (IOU_PBUF_RING_MMAP)
};

struct buffer_ring_options {
  std::uint16_t group = 0;           ///< the buffer group id requests select from
  std::uint32_t entries = 64;        ///< ring slots and buffers: a power of two, 1 ... 32768
  std::uint32_t buffer_size = 4096;  ///< bytes per buffer
  buffer_ring_memory memory = buffer_ring_memory::application;
  /// IOU_PBUF_RING_INC (6.12): a buffer is consumed piece by piece, so many small receives share
  /// one buffer; completions carry F_BUF_MORE while the kernel keeps filling it.
  bool incremental = false;
  /// The buffers' memory, entries × buffer_size bytes (empty: urine maps it). It must outlive
  /// the buffer ring.
  std::span<std::byte> storage = {};
};

class buffer_ring;

/// A first-in first-out queue of completions a buffer ring holds for its owner (see
/// buffer_ring::hold): the queue is three numbers, the completions are chained through the
/// ring's per-buffer state, so holding any number of them needs no memory of the owner's.
struct held_completions {
  std::uint16_t head = 0;   ///< buffer id of the oldest held completion
  std::uint16_t tail = 0;   ///< buffer id of the newest
  std::uint32_t count = 0;  ///< how many are held
};

/// A completion's result and flags, as a buffer ring gives back one it held.
struct held_completion {
  std::int32_t res = 0;
  cqe_flags flags = cqe_flags::none;
};

/// The bytes one completion delivered into a provided buffer: a lease that gives the buffer back
/// to its ring when released (or destroyed). Empty when the completion carried no buffer (a
/// receive at end of stream). It must not outlive its buffer_ring.
class provided_buffer {
 public:
  provided_buffer() noexcept = default;
  inline provided_buffer(provided_buffer&& o) noexcept
      : owner_(std::exchange(o.owner_, nullptr)), data_(o.data_), id_(o.id_), more_(o.more_) {}
  inline provided_buffer& operator=(provided_buffer&& o) noexcept {
    if (this != &o) {
      release();
      owner_ = std::exchange(o.owner_, nullptr);
      data_ = o.data_;
      id_ = o.id_;
      more_ = o.more_;
    }
    return *this;
  }
  provided_buffer(const provided_buffer&) = delete;
  provided_buffer& operator=(const provided_buffer&) = delete;
  inline ~provided_buffer() { release(); }

  /// The delivered bytes (the completion's result counts them).
  [[nodiscard]] inline std::span<std::byte> data() const noexcept { return data_; }
  [[nodiscard]] inline std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(data_.data()), data_.size()};
  }
  [[nodiscard]] inline std::size_t size() const noexcept { return data_.size(); }
  [[nodiscard]] inline bool empty() const noexcept { return data_.empty(); }
  /// The buffer id (valid when the lease holds a buffer).
  [[nodiscard]] inline std::uint16_t id() const noexcept { return id_; }
  /// Whether this lease holds a buffer at all.
  [[nodiscard]] inline bool holds_buffer() const noexcept { return owner_ != nullptr; }
  /// F_BUF_MORE: the kernel goes on filling the same buffer (incremental rings).
  [[nodiscard]] inline bool kernel_continues() const noexcept { return more_; }

  /// Done with the bytes: the buffer returns to the ring once no lease and not the kernel holds it.
  inline void release() noexcept;

 private:
  friend class buffer_ring;
  inline provided_buffer(buffer_ring* owner, std::span<std::byte> data, std::uint16_t id,
                         bool more) noexcept
      : owner_(owner), data_(data), id_(id), more_(more) {}
  buffer_ring* owner_ = nullptr;
  std::span<std::byte> data_;
  std::uint16_t id_ = 0;
  bool more_ = false;
};

/// A registered provided-buffer ring with its buffers. Unregisters on destruction (after every
/// lease is gone: leases point into it, so it must not move while any exists); unregister()
/// does it now (IORING_UNREGISTER_PBUF_RING).
class buffer_ring : public detail::registration<buffer_ring, std::uint16_t> {
 public:
  static constexpr std::uint32_t max_entries = 32768;

  buffer_ring(buffer_ring&& o) noexcept;
  buffer_ring& operator=(buffer_ring&&) = delete;
  ~buffer_ring();

  [[nodiscard]] inline std::uint16_t group() const noexcept { return payload(); }
  [[nodiscard]] inline std::uint32_t entries() const noexcept { return mask_ + 1; }
  [[nodiscard]] inline std::uint32_t buffer_size() const noexcept { return buffer_size_; }
  [[nodiscard]] inline bool incremental() const noexcept { return incremental_; }
  /// The whole memory of buffer `id`.
  [[nodiscard]] inline std::span<std::byte> buffer(std::uint16_t id) const noexcept {
    return {storage_ + std::size_t{id} * buffer_size_, buffer_size_};
  }
  /// Buffers currently in the kernel's hands (added and not yet fully consumed, as far as the
  /// completions taken so far tell).
  [[nodiscard]] inline std::uint32_t available() const noexcept { return available_; }

  // ---- the lease interface ---------------------------------------------------------------------

  /// What a completion of a request that selected from this group delivered. An error when the
  /// request failed — ENOBUFS, with a sentence saying so, when every buffer was handed out and the
  /// ring ran dry (a multishot request has then stopped: re-arm it after giving buffers back).
  template <class Completion>
  [[nodiscard]] std::expected<provided_buffer, error> take(const Completion& c) {
    return take(c.result(), c.flags());
  }
  [[nodiscard, gnu::always_inline]] inline std::expected<provided_buffer, error> take(
      std::int32_t res, cqe_flags flags) {
    // Per completion, so the success path is inline and allocation-free; every sentence is
    // built out of line, only when something is wrong.
    if (res < 0 || !any(flags, cqe_flags::buffer)) [[unlikely]]
      return take_without_buffer(res);
    const auto id = static_cast<std::uint16_t>(bits(flags) >> cqe_buffer_shift);
    const auto n = static_cast<std::uint32_t>(res);
    if (id > mask_ || n > buffer_size_ - (incremental_ ? states_[id].offset : 0)) [[unlikely]]
      return std::unexpected(misdelivery(id, n));
    state& s = states_[id];
    const std::uint32_t start = incremental_ ? s.offset : 0;
    // With incremental consumption the kernel keeps the buffer while it flags F_BUF_MORE; without
    // it (or once that flag is absent) the buffer has left the ring for good.
    const bool kernel_continues = incremental_ && any(flags, cqe_flags::buf_more);
    if (incremental_) s.offset = start + n;
    if (!kernel_continues) {
      s.kernel_done = true;
      --available_;
    }
    ++s.leases;
    return provided_buffer(this, {storage_ + std::size_t{id} * buffer_size_ + start, n}, id,
                           kernel_continues);
  }

  // ---- holding completions -------------------------------------------------------------------

  /// Keep a completion that carries one of this ring's buffers (F_BUFFER) at the back of `queue`,
  /// chained through that buffer's own state: on a ring without incremental consumption each
  /// such completion holds a buffer id no other completion can carry until the buffer is given
  /// back, so a queue of them costs nothing beyond the ring. False when the completion cannot be
  /// held that way: it carries no buffer (or one not of this ring), or the ring is incremental
  /// (one buffer may then be in many completions). The buffer stays out of the kernel's hands
  /// until the completion is unheld and its buffer taken (take()) or given back.
  [[nodiscard]] inline bool hold(held_completions& queue, std::int32_t res,
                                 cqe_flags flags) noexcept {
    const auto id = static_cast<std::uint16_t>(bits(flags) >> cqe_buffer_shift);
    if (incremental_ || !any(flags, cqe_flags::buffer) || id > mask_) [[unlikely]]
      return false;
    state& s = states_[id];
    s.held_res = res;
    s.held_flags = static_cast<std::uint16_t>(bits(flags));  // the id is the index itself
    if (queue.count++ == 0)
      queue.head = id;
    else
      states_[queue.tail].held_next = id;
    queue.tail = id;
    return true;
  }
  /// The oldest completion held in `queue` (which must not be empty), out of it.
  [[nodiscard]] inline held_completion unhold(held_completions& queue) noexcept {
    const std::uint16_t id = queue.head;
    const state& s = states_[id];
    queue.head = s.held_next;
    --queue.count;
    return {s.held_res,
            cqe_flags((std::uint32_t{id} << cqe_buffer_shift) | std::uint32_t{s.held_flags})};
  }

  // ---- the raw interface -----------------------------------------------------------------------

  /// Stage `memory` as buffer `id` at the tail; the kernel sees it after commit().
  inline void add(std::span<std::byte> memory, std::uint16_t id) noexcept {
    abi::buf& slot = ring_[(tail_ + staged_) & mask_];
    // Field by field: the ring's tail index overlays slot 0's reserved field.
    slot.addr = reinterpret_cast<std::uintptr_t>(memory.data());
    slot.len = static_cast<std::uint32_t>(memory.size());
    slot.bid = id;
    ++staged_;
  }
  /// Publish everything staged by add().
  inline void commit() noexcept { advance(std::exchange(staged_, 0u)); }
  /// Publish `n` slots written directly at the tail (slot(0) ... slot(n - 1)).
  inline void advance(unsigned n) noexcept {
    tail_ += n;
    available_ += n;
    std::atomic_ref(ring_tail())
        .store(static_cast<std::uint16_t>(tail_), std::memory_order_release);
  }
  /// The slot `offset` places past the published tail, for advance().
  [[nodiscard]] inline abi::buf& slot(unsigned offset) noexcept {
    return ring_[(tail_ + offset) & mask_];
  }
  /// Give buffer `id` back whole, at once.
  inline void recycle(std::uint16_t id) noexcept {
    add(buffer(id), id);
    commit();
  }

  /// The kernel's head of this ring: how many buffers it has consumed
  /// (IORING_REGISTER_PBUF_STATUS).
  [[nodiscard]] result<std::uint32_t> kernel_head() const;

 private:
  friend registration;
  friend result<buffer_ring> register_buffer_ring(ring_ref, const buffer_ring_options&);
  friend class provided_buffer;
  static constexpr register_opcode unregister_opcode = register_opcode::unregister_pbuf_ring;
  static result<void> unregister_from(ring_ref ring, std::uint16_t group);
  buffer_ring(ring_ref ring, std::uint16_t group) noexcept
      : registration(detail::handle_key{}, ring, group) {}

  inline std::uint16_t& ring_tail() noexcept {
    return reinterpret_cast<abi::buf_ring*>(ring_)->tail;
  }
  inline void lease_released(std::uint16_t id) noexcept;
  /// A failed request, or a completion without a buffer: the error (ENOBUFS said plainly), or
  /// an empty lease for an end of stream.
  std::expected<provided_buffer, error> take_without_buffer(std::int32_t res) const;
  /// A buffer id or length that does not fit this ring.
  error misdelivery(std::uint16_t id, std::uint32_t n) const;
  void unmap() noexcept;

  // Per buffer: where the next delivery starts (incremental), leases out, whether the kernel
  // has finished with it (so it may go back once the leases are gone), and the completion that
  // delivered it while a held_completions queue holds it (its result, its flags' low half — the
  // high half is the id — and the next buffer in that queue).
  struct state {
    std::uint32_t offset = 0;
    std::int32_t held_res = 0;
    std::uint16_t held_flags = 0;
    std::uint16_t held_next = 0;
    bool kernel_done = false;
    // Live leases on the buffer. An incremental buffer can carry one per byte delivered and
    // more (empty deliveries), far beyond 16 bits; a narrower count would wrap and hand the
    // buffer back under live leases. Every lease counted is a distinct live provided_buffer
    // object, and the address space cannot hold SIZE_MAX of them, so a size_t never wraps and
    // take() needs no limit check.
    std::size_t leases = 0;
  };

  abi::buf* ring_ = nullptr;
  std::size_t ring_mapped_ = 0;
  std::byte* storage_ = nullptr;
  std::size_t storage_mapped_ = 0;  ///< 0 when the storage is the caller's
  std::uint32_t mask_ = 0;
  std::uint32_t buffer_size_ = 0;
  std::uint32_t tail_ = 0;
  std::uint32_t staged_ = 0;
  std::uint32_t available_ = 0;
  bool incremental_ = false;
  std::vector<state> states_;
};

/// Register a buffer ring with `options.entries` buffers of `options.buffer_size` bytes, all
/// given to the kernel at once (IORING_REGISTER_PBUF_RING).
[[nodiscard]] result<buffer_ring> register_buffer_ring(ring_ref ring,
                                                       const buffer_ring_options& options);

inline void provided_buffer::release() noexcept {
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->lease_released(id_);
}

inline void buffer_ring::lease_released(std::uint16_t id) noexcept {
  state& s = states_[id];
  if (--s.leases == 0 && s.kernel_done) {
    s = state{};
    recycle(id);
  }
}

}  // namespace urine
