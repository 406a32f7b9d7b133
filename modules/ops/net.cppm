// Sockets: SOCKET, BIND, LISTEN, ACCEPT, CONNECT, SHUTDOWN, SEND, RECV, SENDMSG, RECVMSG, SEND_ZC,
// SENDMSG_ZC, RECV_ZC. The send/receive family shares one preparation (detail::prep_msg): the
// socket, the memory or msghdr, MSG_* flags in msg_flags and io_uring's own flags in ioprio.
module;
#include <sys/socket.h>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
export module urine.ops:net;
import urine.abi;
import :buffers;
import :prep;

export namespace urine {

/// send(2)/recv(2) MSG_* flags, sqe->msg_flags (any other value: static_cast).
enum class msg_flags : std::uint32_t {
  none = 0,
  oob = 0x1,
  peek = 0x2,
  dontroute = 0x4,
  trunc = 0x20,
  dontwait = 0x40,
  eor = 0x80,
  waitall = 0x100,
  errqueue = 0x2000,
  nosignal = 0x4000,
  more = 0x8000,
  zerocopy = 0x4000000,
};
template <>
inline constexpr bool is_bitmask<msg_flags> = true;

/// SOCK_NONBLOCK / SOCK_CLOEXEC for socket and accept (cloexec cannot go with a direct target).
enum class sock_flags : std::uint32_t { none = 0, nonblock = 04000, cloexec = 02000000 };
template <>
inline constexpr bool is_bitmask<sock_flags> = true;

/// shutdown(2) `how`.
enum class shutdown_how : std::uint32_t { read = 0, write = 1, both = 2 };

/// A socket address the operation reads (bind, connect, sendto).
struct socket_address {
  const ::sockaddr* addr = nullptr;
  ::socklen_t len = 0;
  template <class SockAddr>
  socket_address(const SockAddr* a) noexcept
      : addr(reinterpret_cast<const ::sockaddr*>(a)), len(sizeof(SockAddr)) {}
  socket_address() noexcept = default;
};

}  // namespace urine

export namespace urine::detail {

inline void prep_msg(abi::sqe& s, opcode op, file_target file, std::uint64_t addr,
                     std::uint32_t len, msg_flags flags, recvsend_flags io_flags) noexcept {
  prep_rw(s, op, file, addr, len, 0);
  s.msg_flags = bits(flags);
  s.ioprio = bits(io_flags);
}

/// SEND and SEND_ZC carry an optional destination (sendto) in addr2 / addr_len.
inline void set_destination(abi::sqe& s, socket_address to) noexcept {
  s.addr2 = address_of(to.addr);
  s.addr_len = static_cast<std::uint16_t>(to.len);
}

}  // namespace urine::detail

export namespace urine::ops {

/// SOCKET: socket(2). Result: the descriptor, or with a direct `install` target the slot.
struct socket {
  static constexpr opcode code = opcode::socket;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int domain;
  int type;
  int protocol = 0;
  sock_flags flags = sock_flags::none;
  descriptor_target install = {};

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, domain, 0, static_cast<std::uint32_t>(protocol),
                    static_cast<std::uint32_t>(type) | bits(flags));
    s.file_index = install.file_index();
  }
};

/// BIND (6.11): bind(2) to `address`.
struct bind {
  static constexpr opcode code = opcode::bind;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  socket_address address;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, detail::address_of(address.addr), 0, address.len);
  }
};

/// LISTEN (6.11): listen(2).
struct listen {
  static constexpr opcode code = opcode::listen;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::uint32_t backlog = 128;

  inline void prepare(abi::sqe& s) const noexcept { detail::prep_rw(s, code, file, 0, backlog, 0); }
};

/// CONNECT: connect(2) to `address`.
struct connect {
  static constexpr opcode code = opcode::connect;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  socket_address address;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, detail::address_of(address.addr), 0, address.len);
  }
};

/// ACCEPT: accept4(2); the peer's address into `peer` / `*peer_len` when given. With
/// accept_flags::multishot, one completion per connection (F_MORE while it stays armed); a
/// multishot accept can only install into direct_alloc slots. Result: the descriptor, or slot.
struct accept {
  static constexpr opcode code = opcode::accept;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  ::sockaddr* peer = nullptr;
  ::socklen_t* peer_len = nullptr;
  sock_flags flags = sock_flags::none;
  accept_flags mode = accept_flags::none;
  descriptor_target install = {};

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, detail::address_of(peer), 0, detail::address_of(peer_len));
    s.accept_flags = bits(flags);
    s.ioprio = bits(mode);
    s.file_index = install.file_index();
  }
};

/// SHUTDOWN: shutdown(2).
struct shutdown {
  static constexpr opcode code = opcode::shutdown;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  shutdown_how how = shutdown_how::both;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, 0, static_cast<std::uint32_t>(how), 0);
  }
};

/// SEND: send(2), or sendto(2) with a destination `to`. Result: bytes sent.
struct send {
  static constexpr opcode code = opcode::send;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  const_buffer from;
  msg_flags flags = msg_flags::none;
  recvsend_flags io_flags = recvsend_flags::none;
  socket_address to = {};

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_msg(s, code, file, from.address(), detail::clamp_len(from.size()), flags,
                     io_flags);
    detail::set_destination(s, to);
  }
};

/// RECV: recv(2) into `into` — a buffer, or a buffer_group (required with
/// recvsend_flags::recv_multishot, which posts one completion per arrival while F_MORE is set).
struct recv {
  static constexpr opcode code = opcode::recv;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  read_buffer into;
  msg_flags flags = msg_flags::none;
  recvsend_flags io_flags = recvsend_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_msg(s, code, file, 0, 0, flags, io_flags);
    const bool multishot = (io_flags & recvsend_flags::recv_multishot) != recvsend_flags::none;
    detail::set_read_buffer(
        s, into, multishot ? detail::selection_shots::multi : detail::selection_shots::single);
  }
};

/// SENDMSG: sendmsg(2) with `*msg` (it must stay valid until the completion).
struct sendmsg {
  static constexpr opcode code = opcode::sendmsg;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  const ::msghdr* msg;
  msg_flags flags = msg_flags::none;
  recvsend_flags io_flags = recvsend_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_msg(s, code, file, detail::address_of(msg), 1, flags, io_flags);
  }
};

/// RECVMSG: recvmsg(2) into `*msg`. With a buffer `group` the kernel picks the data buffer; with
/// recvsend_flags::recv_multishot too, each buffer starts with an io_uring_recvmsg_out header
/// (read it with recvmsg_out_view), sized by msg->msg_namelen and msg->msg_controllen.
struct recvmsg {
  static constexpr opcode code = opcode::recvmsg;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  ::msghdr* msg;
  msg_flags flags = msg_flags::none;
  recvsend_flags io_flags = recvsend_flags::none;
  std::optional<buffer_group> group = {};

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_msg(s, code, file, detail::address_of(msg), 1, flags, io_flags);
    // With buffer selection the kernel takes the length from the msghdr's single iovec.
    if (group) detail::set_read_buffer(s, *group);
  }
};

/// SEND_ZC (6.0): zero-copy send. Two completions: the result (F_MORE set), then a notification
/// (notification(), F_NOTIF) when the kernel no longer needs `from`.
struct send_zc {
  static constexpr opcode code = opcode::send_zc;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  const_buffer from;
  msg_flags flags = msg_flags::none;
  recvsend_flags io_flags = recvsend_flags::none;
  socket_address to = {};
  fixed_buffer buf_index{0};  ///< with recvsend_flags::fixed_buf: the registered buffer

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_msg(s, code, file, from.address(), detail::clamp_len(from.size()), flags,
                     io_flags);
    detail::set_destination(s, to);
    s.buf_index = buf_index.index;
  }
};

/// SENDMSG_ZC (6.1): zero-copy sendmsg; completions as for send_zc.
struct sendmsg_zc {
  static constexpr opcode code = opcode::sendmsg_zc;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  const ::msghdr* msg;
  msg_flags flags = msg_flags::none;
  recvsend_flags io_flags = recvsend_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_msg(s, code, file, detail::address_of(msg), 1, flags, io_flags);
  }
};

/// RECV_ZC (6.15): zero-copy receive into the area of zero-copy interface queue `ifq_index`
/// (registered with IORING_REGISTER_ZCRX_IFQ on a NIC with header split). Always multishot; its
/// completions are 32 bytes (a cqe32 or cqe_mixed ring).
struct recv_zc {
  static constexpr opcode code = opcode::recv_zc;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  static constexpr bool needs_big_cqe = true;
  file_target file;
  std::uint32_t ifq_index = 0;
  std::uint32_t length = 0;  ///< 0: until the socket closes

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_msg(s, code, file, 0, length, msg_flags::none, recvsend_flags::recv_multishot);
    s.zcrx_ifq_idx = ifq_index;
  }

  /// What a RECV_ZC failure means, in words: the kernel answers a missing interface queue with a
  /// bare EINVAL.
  [[nodiscard]] static inline std::string explain(std::error_code e) {
    if (e == std::errc::invalid_argument)
      return "RECV_ZC refused (EINVAL): no zero-copy receive interface queue is registered at this "
             "index; register one with IORING_REGISTER_ZCRX_IFQ on a NIC queue with header split";
    if (e == std::errc::operation_not_supported)
      return "RECV_ZC refused (EOPNOTSUPP): the socket or its device cannot receive zero-copy";
    return "RECV_ZC failed: " + e.message();
  }
};

}  // namespace urine::ops
