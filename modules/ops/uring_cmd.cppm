// URING_CMD: a command for the file's own driver (NVMe passthrough, ublk, sockets ...): a 32-bit
// command number and a payload of 16 bytes, or 80 bytes on a 128-byte-SQE ring. Also
// URING_CMD128 (6.19) and the socket commands (SIOCINQ, SIOCOUTQ, getsockopt, setsockopt).
module;
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
export module urine.ops:uring_cmd;
import urine.abi;
import :buffers;
import :prep;

export namespace urine::detail {

inline void prep_cmd(abi::sqe& s, opcode op, file_target file, std::uint32_t cmd_op,
                     uring_cmd_flags flags, std::uint16_t buf_index) noexcept {
  prep_rw(s, op, file, 0, 0, 0);
  s.cmd_op = cmd_op;
  s.uring_cmd_flags = bits(flags);
  s.buf_index = buf_index;
}

inline void prep_sockopt(abi::sqe& s, file_target file, socket_cmd cmd, int level, int optname,
                         std::uint64_t value, std::size_t size) noexcept {
  prep_cmd(s, opcode::uring_cmd, file, static_cast<std::uint32_t>(cmd), uring_cmd_flags::none, 0);
  s.level = static_cast<std::uint32_t>(level);
  s.optname = static_cast<std::uint32_t>(optname);
  s.optval = value;
  s.optlen = clamp_len(size);
}

/// The 80-byte payload of a 128-byte SQE starts at `cmd` and runs on into the second half.
template <std::size_t N>
inline void copy_payload(abi::sqe128& s, const std::array<std::byte, N>& payload) noexcept {
  static_assert(N == 80);
  std::memcpy(s.base.cmd, payload.data(), sizeof s.base.cmd);
  std::memcpy(s.cmd_tail, payload.data() + sizeof s.base.cmd, sizeof s.cmd_tail);
}

}  // namespace urine::detail

export namespace urine::ops {

/// URING_CMD with a 16-byte payload (fits a 64-byte SQE). With uring_cmd_flags::fixed the
/// command's data lies in registered buffer `buf_index`.
struct uring_cmd {
  static constexpr opcode code = opcode::uring_cmd;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::uint32_t cmd_op;
  std::array<std::byte, 16> payload = {};
  uring_cmd_flags flags = uring_cmd_flags::none;
  fixed_buffer buf_index{0};

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_cmd(s, code, file, cmd_op, flags, buf_index.index);
    std::ranges::copy(payload, reinterpret_cast<std::byte*>(s.cmd));
  }
};

/// URING_CMD with an 80-byte payload: only on a ring<sqe128>. Used by its two names below, each a
/// plain aggregate (not deduced), so a misspelt field is named by the compiler.
template <opcode Code>
struct basic_uring_cmd80 {
  static constexpr opcode code = Code;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  static constexpr bool needs_sqe128 = true;
  file_target file;
  std::uint32_t cmd_op;
  std::array<std::byte, 80> payload = {};
  uring_cmd_flags flags = uring_cmd_flags::none;
  fixed_buffer buf_index{0};

  inline void prepare(abi::sqe128& s) const noexcept {
    detail::prep_cmd(s.base, code, file, cmd_op, flags, buf_index.index);
    detail::copy_payload(s, payload);
  }
};

/// URING_CMD with an 80-byte payload in a 128-byte SQE.
using uring_cmd80 = basic_uring_cmd80<opcode::uring_cmd>;

/// URING_CMD128 (6.19): the opcode that marks a 128-byte command; a 6.18 kernel refuses it
/// (-EINVAL, unknown opcode).
using uring_cmd128 = basic_uring_cmd80<opcode::uring_cmd128>;

/// URING_CMD on a socket: SIOCINQ (bytes waiting to be read) or SIOCOUTQ (bytes not yet sent).
/// Result: that count.
struct socket_queue {
  static constexpr opcode code = opcode::uring_cmd;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  socket_cmd which = socket_cmd::siocinq;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_cmd(s, code, file, static_cast<std::uint32_t>(which), uring_cmd_flags::none, 0);
  }
};

/// URING_CMD getsockopt(2) into `value`. Result: the option's length.
struct getsockopt {
  static constexpr opcode code = opcode::uring_cmd;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  int level;
  int optname;
  buffer value;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_sockopt(s, file, socket_cmd::getsockopt, level, optname, value.address(),
                         value.size());
  }
};

/// URING_CMD setsockopt(2) from `value`. Result: 0.
struct setsockopt {
  static constexpr opcode code = opcode::uring_cmd;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  int level;
  int optname;
  const_buffer value;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_sockopt(s, file, socket_cmd::setsockopt, level, optname, value.address(),
                         value.size());
  }
};

}  // namespace urine::ops
