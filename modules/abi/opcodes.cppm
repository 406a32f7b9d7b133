// Request opcodes (enum io_uring_op) with what is known of each: its kernel name, the first
// kernel that has it and whether IOPOLL rings accept it. One table below holds these facts; the
// enum, the name table and the operations' iopoll_capable all come from it.
module;
#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
export module urine.abi:opcodes;

// Every opcode in value order (the enum numbers them by their place here), as
// X(enumerator, kernel name without IORING_OP_, first kernel major, minor, iopoll column);
// the iopoll column says whether the kernel accepts the opcode on IOPOLL rings.
// clang-format off
#define URINE_OPCODES(X) \
  X(nop, NOP, 5, 1, iopoll) \
  X(readv, READV, 5, 1, iopoll) \
  X(writev, WRITEV, 5, 1, iopoll) \
  X(fsync, FSYNC, 5, 1, no_iopoll) \
  X(read_fixed, READ_FIXED, 5, 1, iopoll) \
  X(write_fixed, WRITE_FIXED, 5, 1, iopoll) \
  X(poll_add, POLL_ADD, 5, 1, no_iopoll) \
  X(poll_remove, POLL_REMOVE, 5, 1, no_iopoll) \
  X(sync_file_range, SYNC_FILE_RANGE, 5, 2, no_iopoll) \
  X(sendmsg, SENDMSG, 5, 3, no_iopoll) \
  X(recvmsg, RECVMSG, 5, 3, no_iopoll) \
  X(timeout, TIMEOUT, 5, 4, no_iopoll) \
  X(timeout_remove, TIMEOUT_REMOVE, 5, 5, no_iopoll) \
  X(accept, ACCEPT, 5, 5, no_iopoll) \
  X(async_cancel, ASYNC_CANCEL, 5, 5, no_iopoll) \
  X(link_timeout, LINK_TIMEOUT, 5, 5, no_iopoll) \
  X(connect, CONNECT, 5, 5, no_iopoll) \
  X(fallocate, FALLOCATE, 5, 6, no_iopoll) \
  X(openat, OPENAT, 5, 6, no_iopoll) \
  X(close, CLOSE, 5, 6, no_iopoll) \
  X(files_update, FILES_UPDATE, 5, 6, no_iopoll) \
  X(statx, STATX, 5, 6, no_iopoll) \
  X(read, READ, 5, 6, iopoll) \
  X(write, WRITE, 5, 6, iopoll) \
  X(fadvise, FADVISE, 5, 6, no_iopoll) \
  X(madvise, MADVISE, 5, 6, no_iopoll) \
  X(send, SEND, 5, 6, no_iopoll) \
  X(recv, RECV, 5, 6, no_iopoll) \
  X(openat2, OPENAT2, 5, 6, no_iopoll) \
  X(epoll_ctl, EPOLL_CTL, 5, 6, no_iopoll) \
  X(splice, SPLICE, 5, 7, no_iopoll) \
  X(provide_buffers, PROVIDE_BUFFERS, 5, 7, no_iopoll) \
  X(remove_buffers, REMOVE_BUFFERS, 5, 7, no_iopoll) \
  X(tee, TEE, 5, 8, no_iopoll) \
  X(shutdown, SHUTDOWN, 5, 11, no_iopoll) \
  X(renameat, RENAMEAT, 5, 11, no_iopoll) \
  X(unlinkat, UNLINKAT, 5, 11, no_iopoll) \
  X(mkdirat, MKDIRAT, 5, 15, no_iopoll) \
  X(symlinkat, SYMLINKAT, 5, 15, no_iopoll) \
  X(linkat, LINKAT, 5, 15, no_iopoll) \
  X(msg_ring, MSG_RING, 5, 18, no_iopoll) \
  X(fsetxattr, FSETXATTR, 5, 19, no_iopoll) \
  X(setxattr, SETXATTR, 5, 19, no_iopoll) \
  X(fgetxattr, FGETXATTR, 5, 19, no_iopoll) \
  X(getxattr, GETXATTR, 5, 19, no_iopoll) \
  X(socket, SOCKET, 5, 19, no_iopoll) \
  X(uring_cmd, URING_CMD, 5, 19, iopoll) \
  X(send_zc, SEND_ZC, 6, 0, no_iopoll) \
  X(sendmsg_zc, SENDMSG_ZC, 6, 1, no_iopoll) \
  X(read_multishot, READ_MULTISHOT, 6, 7, no_iopoll) \
  X(waitid, WAITID, 6, 7, no_iopoll) \
  X(futex_wait, FUTEX_WAIT, 6, 7, no_iopoll) \
  X(futex_wake, FUTEX_WAKE, 6, 7, no_iopoll) \
  X(futex_waitv, FUTEX_WAITV, 6, 7, no_iopoll) \
  X(fixed_fd_install, FIXED_FD_INSTALL, 6, 8, no_iopoll) \
  X(ftruncate, FTRUNCATE, 6, 9, no_iopoll) \
  X(bind, BIND, 6, 11, no_iopoll) \
  X(listen, LISTEN, 6, 11, no_iopoll) \
  X(recv_zc, RECV_ZC, 6, 15, no_iopoll) \
  X(epoll_wait, EPOLL_WAIT, 6, 15, no_iopoll) \
  X(readv_fixed, READV_FIXED, 6, 15, iopoll) \
  X(writev_fixed, WRITEV_FIXED, 6, 15, iopoll) \
  X(pipe, PIPE, 6, 16, no_iopoll) \
  X(nop128, NOP128, 6, 19, iopoll) \
  X(uring_cmd128, URING_CMD128, 6, 19, iopoll)
// clang-format on

namespace urine::detail {
// The iopoll column's two values, named so that the table reads as a table.
inline constexpr bool iopoll = true;
inline constexpr bool no_iopoll = false;
}  // namespace urine::detail

export namespace urine {

/// A kernel release, for "available since" facts.
struct kernel_version {
  std::uint8_t major = 0;
  std::uint8_t minor = 0;
  friend constexpr auto operator<=>(kernel_version, kernel_version) = default;
};

/// The running kernel's release as major.minor, read from uname(2) ({0, 0} when unreadable).
/// Cold code: defined in kernel_version.cpp.
[[nodiscard]] kernel_version running_kernel() noexcept;
/// "6.13": a kernel version as messages print it.
[[nodiscard]] std::string to_string(kernel_version v);

enum class opcode : std::uint8_t {
#define URINE_ENUMERATOR(op, NAME, since_major, since_minor, iopoll_column) op,
  URINE_OPCODES(URINE_ENUMERATOR)
#undef URINE_ENUMERATOR
};

struct opcode_info {
  opcode op;
  std::string_view name;  ///< kernel name without the IORING_OP_ prefix
  kernel_version since;
  bool iopoll;  ///< accepted on IOPOLL rings
};

/// Every opcode known to this ABI, indexed by its value.
inline constexpr std::array opcodes{
#define URINE_INFO(op, NAME, since_major, since_minor, iopoll_column) \
  opcode_info{opcode::op, #NAME, {since_major, since_minor}, detail::iopoll_column},
    URINE_OPCODES(URINE_INFO)
#undef URINE_INFO
};

/// Number of opcodes known to this ABI (IORING_OP_LAST).
inline constexpr unsigned opcode_count = opcodes.size();
/// Number of opcodes kernel 6.18 implements (0 ... 62).
inline constexpr unsigned opcode_count_6_18 = [] {
  unsigned n = 0;
  for (const opcode_info& o : opcodes) n += o.since <= kernel_version{6, 18} ? 1 : 0;
  return n;
}();

[[nodiscard]] constexpr const opcode_info& info(opcode op) noexcept {
  return opcodes[static_cast<std::uint8_t>(op)];
}

[[nodiscard]] constexpr std::string_view name(opcode op) noexcept {
  return static_cast<unsigned>(op) < opcode_count ? info(op).name : std::string_view{"UNKNOWN"};
}

/// Whether IOPOLL rings accept `op`: what every operation's `iopoll_capable` is made of.
[[nodiscard]] constexpr bool accepts_iopoll(opcode op) noexcept {
  return static_cast<unsigned>(op) < opcode_count && info(op).iopoll;
}

}  // namespace urine

static_assert(urine::opcode_count_6_18 == static_cast<unsigned>(urine::opcode::pipe) + 1,
              "6.18's opcodes are 0 ... PIPE");
