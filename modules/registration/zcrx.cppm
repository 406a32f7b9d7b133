// Zero-copy receive interface queues (REGISTER_ZCRX_IFQ, 6.15): a NIC receive queue whose
// payloads land in application memory, handed out through a refill ring. It needs a NIC with
// header/data split and queue management (not the loopback device), CAP_NET_ADMIN, and a ring
// with DEFER_TASKRUN and 32-byte CQEs. Where any of this is missing the kernel refuses, and the
// refusal comes back as an error saying what was asked.
module;
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
export module urine.registration:zcrx;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

struct zcrx_request {
  std::uint32_t interface_index = 0;  ///< if_nametoindex() of the NIC
  std::uint32_t rx_queue = 0;         ///< its hardware receive queue
  std::uint32_t refill_entries = 4096;
  /// Page-aligned memory the payloads are received into (it must outlive the ring).
  std::span<std::byte> area;
};

/// A registered zero-copy receive queue. The kernel keeps it until the ring closes; the handle
/// owns the mapping of the refill ring.
class zcrx_ifq {
 public:
  zcrx_ifq(zcrx_ifq&& o) noexcept
      : id_(o.id_),
        refill_(std::exchange(o.refill_, nullptr)),
        refill_size_(std::exchange(o.refill_size_, 0)),
        offsets_(o.offsets_),
        area_token_(o.area_token_) {}
  zcrx_ifq& operator=(zcrx_ifq&&) = delete;
  zcrx_ifq(const zcrx_ifq&) = delete;
  ~zcrx_ifq();

  /// The id RECV_ZC takes (sqe->zcrx_ifq_idx).
  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
  [[nodiscard]] std::byte* refill_ring() const noexcept { return refill_; }
  [[nodiscard]] const abi::zcrx_offsets& offsets() const noexcept { return offsets_; }
  [[nodiscard]] std::uint64_t area_token() const noexcept { return area_token_; }

 private:
  friend result<zcrx_ifq> register_zcrx_ifq(ring_ref, const zcrx_request&);
  zcrx_ifq() = default;
  std::uint32_t id_ = 0;
  std::byte* refill_ = nullptr;
  std::size_t refill_size_ = 0;
  abi::zcrx_offsets offsets_{};
  std::uint64_t area_token_ = 0;
};

[[nodiscard]] result<zcrx_ifq> register_zcrx_ifq(ring_ref ring, const zcrx_request& request);

}  // namespace urine
