// Reading what multishot requests deliver: one request's completions as a stream that ends with
// the first completion lacking F_MORE; and the layout a multishot RECVMSG writes into each
// provided buffer (an io_uring_recvmsg_out header, then the source address in msg_namelen
// reserved bytes, the control data in msg_controllen reserved bytes, then the payload).
module;
#include <sys/socket.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <system_error>
export module urine.ops:multishot;
import urine.abi;

export namespace urine {

/// One multishot request's completions (recv, recvmsg, accept, poll, read_multishot, timeout, or
/// a zero-copy send and its notification) as a stream: feed it every completion you reap; it
/// keeps those of its request, counts them, and ends with the first that has no F_MORE — then
/// `end()` is that completion's error (empty: a clean end such as end of file) and the request
/// must be re-armed to go on.
class multishot_stream {
 public:
  explicit inline multishot_stream(user_data id) noexcept : id_(id) {}

  /// Record `c` if it belongs to this stream; false (and nothing recorded) otherwise.
  template <class Completion>
  bool take(const Completion& c) noexcept {
    if (c.user_data() != id_ || !active_) return false;
    ++shots_;
    if (!c.more()) {
      active_ = false;
      end_ = c.error();
    }
    return true;
  }

  [[nodiscard]] inline user_data id() const noexcept { return id_; }
  /// Whether more completions will come.
  [[nodiscard]] inline bool active() const noexcept { return active_; }
  /// Completions taken so far, the last one included.
  [[nodiscard]] inline unsigned shots() const noexcept { return shots_; }
  /// Why the stream ended (meaningful once !active()).
  [[nodiscard]] inline std::error_code end() const noexcept { return end_; }

 private:
  user_data id_;
  bool active_ = true;
  unsigned shots_ = 0;
  std::error_code end_{};
};

class recvmsg_out_view {
 public:
  /// `bytes`: the provided buffer as far as the completion's result says; `msg`: the msghdr the
  /// multishot recvmsg was submitted with (its name and control sizes fix the layout).
  inline recvmsg_out_view(std::span<const std::byte> bytes, const ::msghdr& msg) noexcept
      : bytes_(bytes), namelen_(msg.msg_namelen), controllen_(msg.msg_controllen) {
    if (bytes.size() >= sizeof hdr_) std::memcpy(&hdr_, bytes.data(), sizeof hdr_);
  }

  /// Whether the buffer holds at least the header and both reserved areas.
  [[nodiscard]] inline bool valid() const noexcept { return bytes_.size() >= payload_offset(); }
  [[nodiscard]] inline const abi::recvmsg_out& header() const noexcept { return hdr_; }
  /// The source address (shorter than the real one when name_truncated()).
  [[nodiscard]] inline std::span<const std::byte> name() const noexcept {
    return bytes_.subspan(sizeof hdr_, std::min<std::size_t>(hdr_.namelen, namelen_));
  }
  [[nodiscard]] inline std::span<const std::byte> control() const noexcept {
    return bytes_.subspan(sizeof hdr_ + namelen_,
                          std::min<std::size_t>(hdr_.controllen, controllen_));
  }
  /// The payload bytes that fit in the buffer (payload_truncated(): the datagram was longer).
  [[nodiscard]] inline std::span<const std::byte> payload() const noexcept {
    const std::size_t room = bytes_.size() - payload_offset();
    return bytes_.subspan(payload_offset(), std::min<std::size_t>(hdr_.payloadlen, room));
  }
  [[nodiscard]] inline bool name_truncated() const noexcept { return hdr_.namelen > namelen_; }
  [[nodiscard]] inline bool payload_truncated() const noexcept {
    return (hdr_.flags & MSG_TRUNC) != 0;
  }

 private:
  [[nodiscard]] inline std::size_t payload_offset() const noexcept {
    return sizeof hdr_ + namelen_ + controllen_;
  }

  std::span<const std::byte> bytes_;
  std::size_t namelen_;
  std::size_t controllen_;
  abi::recvmsg_out hdr_{};
};

}  // namespace urine
