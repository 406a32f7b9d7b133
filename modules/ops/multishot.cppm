// Reading what multishot receives deliver. A multishot RECVMSG writes, at the start of each
// provided buffer, an io_uring_recvmsg_out header, then the source address (msg_namelen bytes
// reserved), then the control data (msg_controllen bytes reserved), then the payload.
module;
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <sys/socket.h>
export module urine.ops:multishot;
import urine.abi;

export namespace urine {

class recvmsg_out_view {
 public:
  /// `bytes`: the provided buffer as far as the completion's result says; `msg`: the msghdr the
  /// multishot recvmsg was submitted with (its name and control sizes fix the layout).
  recvmsg_out_view(std::span<const std::byte> bytes, const ::msghdr& msg) noexcept
      : bytes_(bytes), namelen_(msg.msg_namelen), controllen_(msg.msg_controllen) {
    if (bytes.size() >= sizeof hdr_) std::memcpy(&hdr_, bytes.data(), sizeof hdr_);
  }

  /// Whether the buffer holds at least the header and both reserved areas.
  [[nodiscard]] bool valid() const noexcept { return bytes_.size() >= payload_offset(); }
  [[nodiscard]] const abi::recvmsg_out& header() const noexcept { return hdr_; }
  /// The source address (shorter than the real one when name_truncated()).
  [[nodiscard]] std::span<const std::byte> name() const noexcept {
    return bytes_.subspan(sizeof hdr_, std::min<std::size_t>(hdr_.namelen, namelen_));
  }
  [[nodiscard]] std::span<const std::byte> control() const noexcept {
    return bytes_.subspan(sizeof hdr_ + namelen_, std::min<std::size_t>(hdr_.controllen, controllen_));
  }
  /// The payload bytes that fit in the buffer (payload_truncated(): the datagram was longer).
  [[nodiscard]] std::span<const std::byte> payload() const noexcept {
    const std::size_t room = bytes_.size() - payload_offset();
    return bytes_.subspan(payload_offset(), std::min<std::size_t>(hdr_.payloadlen, room));
  }
  [[nodiscard]] bool name_truncated() const noexcept { return hdr_.namelen > namelen_; }
  [[nodiscard]] bool payload_truncated() const noexcept { return (hdr_.flags & MSG_TRUNC) != 0; }

 private:
  [[nodiscard]] std::size_t payload_offset() const noexcept { return sizeof hdr_ + namelen_ + controllen_; }

  std::span<const std::byte> bytes_;
  std::size_t namelen_;
  std::size_t controllen_;
  abi::recvmsg_out hdr_{};
};

}  // namespace urine
