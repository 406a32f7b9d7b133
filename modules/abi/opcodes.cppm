// Request opcodes (enum io_uring_op) with a table of their kernel names and first kernels, so
// probing code and documentation speak the kernel's language without a second list to keep.
module;
#include <array>
#include <compare>
#include <cstdint>
#include <string_view>
export module urine.abi:opcodes;

export namespace urine {

/// A kernel release, for "available since" facts.
struct kernel_version {
  std::uint8_t major = 0;
  std::uint8_t minor = 0;
  friend constexpr auto operator<=>(kernel_version, kernel_version) = default;
};

enum class opcode : std::uint8_t {
  nop = 0,
  readv = 1,
  writev = 2,
  fsync = 3,
  read_fixed = 4,
  write_fixed = 5,
  poll_add = 6,
  poll_remove = 7,
  sync_file_range = 8,
  sendmsg = 9,
  recvmsg = 10,
  timeout = 11,
  timeout_remove = 12,
  accept = 13,
  async_cancel = 14,
  link_timeout = 15,
  connect = 16,
  fallocate = 17,
  openat = 18,
  close = 19,
  files_update = 20,
  statx = 21,
  read = 22,
  write = 23,
  fadvise = 24,
  madvise = 25,
  send = 26,
  recv = 27,
  openat2 = 28,
  epoll_ctl = 29,
  splice = 30,
  provide_buffers = 31,
  remove_buffers = 32,
  tee = 33,
  shutdown = 34,
  renameat = 35,
  unlinkat = 36,
  mkdirat = 37,
  symlinkat = 38,
  linkat = 39,
  msg_ring = 40,
  fsetxattr = 41,
  setxattr = 42,
  fgetxattr = 43,
  getxattr = 44,
  socket = 45,
  uring_cmd = 46,
  send_zc = 47,
  sendmsg_zc = 48,
  read_multishot = 49,
  waitid = 50,
  futex_wait = 51,
  futex_wake = 52,
  futex_waitv = 53,
  fixed_fd_install = 54,
  ftruncate = 55,
  bind = 56,
  listen = 57,
  recv_zc = 58,
  epoll_wait = 59,
  readv_fixed = 60,
  writev_fixed = 61,
  pipe = 62,
  nop128 = 63,        // 6.19
  uring_cmd128 = 64,  // 6.19
};

/// Number of opcodes known to this ABI (IORING_OP_LAST).
inline constexpr unsigned opcode_count = 65;
/// Number of opcodes kernel 6.18 implements (0 ... 62).
inline constexpr unsigned opcode_count_6_18 = 63;

struct opcode_info {
  opcode op;
  std::string_view name;  ///< kernel name without the IORING_OP_ prefix
  kernel_version since;
};

inline constexpr std::array<opcode_info, opcode_count> opcodes{{
    {opcode::nop, "NOP", {5, 1}},
    {opcode::readv, "READV", {5, 1}},
    {opcode::writev, "WRITEV", {5, 1}},
    {opcode::fsync, "FSYNC", {5, 1}},
    {opcode::read_fixed, "READ_FIXED", {5, 1}},
    {opcode::write_fixed, "WRITE_FIXED", {5, 1}},
    {opcode::poll_add, "POLL_ADD", {5, 1}},
    {opcode::poll_remove, "POLL_REMOVE", {5, 1}},
    {opcode::sync_file_range, "SYNC_FILE_RANGE", {5, 2}},
    {opcode::sendmsg, "SENDMSG", {5, 3}},
    {opcode::recvmsg, "RECVMSG", {5, 3}},
    {opcode::timeout, "TIMEOUT", {5, 4}},
    {opcode::timeout_remove, "TIMEOUT_REMOVE", {5, 5}},
    {opcode::accept, "ACCEPT", {5, 5}},
    {opcode::async_cancel, "ASYNC_CANCEL", {5, 5}},
    {opcode::link_timeout, "LINK_TIMEOUT", {5, 5}},
    {opcode::connect, "CONNECT", {5, 5}},
    {opcode::fallocate, "FALLOCATE", {5, 6}},
    {opcode::openat, "OPENAT", {5, 6}},
    {opcode::close, "CLOSE", {5, 6}},
    {opcode::files_update, "FILES_UPDATE", {5, 6}},
    {opcode::statx, "STATX", {5, 6}},
    {opcode::read, "READ", {5, 6}},
    {opcode::write, "WRITE", {5, 6}},
    {opcode::fadvise, "FADVISE", {5, 6}},
    {opcode::madvise, "MADVISE", {5, 6}},
    {opcode::send, "SEND", {5, 6}},
    {opcode::recv, "RECV", {5, 6}},
    {opcode::openat2, "OPENAT2", {5, 6}},
    {opcode::epoll_ctl, "EPOLL_CTL", {5, 6}},
    {opcode::splice, "SPLICE", {5, 7}},
    {opcode::provide_buffers, "PROVIDE_BUFFERS", {5, 7}},
    {opcode::remove_buffers, "REMOVE_BUFFERS", {5, 7}},
    {opcode::tee, "TEE", {5, 8}},
    {opcode::shutdown, "SHUTDOWN", {5, 11}},
    {opcode::renameat, "RENAMEAT", {5, 11}},
    {opcode::unlinkat, "UNLINKAT", {5, 11}},
    {opcode::mkdirat, "MKDIRAT", {5, 15}},
    {opcode::symlinkat, "SYMLINKAT", {5, 15}},
    {opcode::linkat, "LINKAT", {5, 15}},
    {opcode::msg_ring, "MSG_RING", {5, 18}},
    {opcode::fsetxattr, "FSETXATTR", {5, 19}},
    {opcode::setxattr, "SETXATTR", {5, 19}},
    {opcode::fgetxattr, "FGETXATTR", {5, 19}},
    {opcode::getxattr, "GETXATTR", {5, 19}},
    {opcode::socket, "SOCKET", {5, 19}},
    {opcode::uring_cmd, "URING_CMD", {5, 19}},
    {opcode::send_zc, "SEND_ZC", {6, 0}},
    {opcode::sendmsg_zc, "SENDMSG_ZC", {6, 1}},
    {opcode::read_multishot, "READ_MULTISHOT", {6, 7}},
    {opcode::waitid, "WAITID", {6, 7}},
    {opcode::futex_wait, "FUTEX_WAIT", {6, 7}},
    {opcode::futex_wake, "FUTEX_WAKE", {6, 7}},
    {opcode::futex_waitv, "FUTEX_WAITV", {6, 7}},
    {opcode::fixed_fd_install, "FIXED_FD_INSTALL", {6, 8}},
    {opcode::ftruncate, "FTRUNCATE", {6, 9}},
    {opcode::bind, "BIND", {6, 11}},
    {opcode::listen, "LISTEN", {6, 11}},
    {opcode::recv_zc, "RECV_ZC", {6, 15}},
    {opcode::epoll_wait, "EPOLL_WAIT", {6, 15}},
    {opcode::readv_fixed, "READV_FIXED", {6, 15}},
    {opcode::writev_fixed, "WRITEV_FIXED", {6, 15}},
    {opcode::pipe, "PIPE", {6, 16}},
    {opcode::nop128, "NOP128", {6, 19}},
    {opcode::uring_cmd128, "URING_CMD128", {6, 19}},
}};

[[nodiscard]] constexpr const opcode_info& info(opcode op) noexcept {
  return opcodes[static_cast<std::uint8_t>(op)];
}

[[nodiscard]] constexpr std::string_view name(opcode op) noexcept {
  return static_cast<unsigned>(op) < opcode_count ? info(op).name : std::string_view{"UNKNOWN"};
}

}  // namespace urine

// The table is indexed by opcode value: prove that at compile time.
consteval bool opcode_table_is_indexed() {
  for (unsigned i = 0; i < urine::opcode_count; ++i)
    if (static_cast<unsigned>(urine::opcodes[i].op) != i) return false;
  return true;
}
static_assert(opcode_table_is_indexed());
