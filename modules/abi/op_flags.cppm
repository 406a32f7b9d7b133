// Per-operation flag families of the SQE: each lives in its own field (or borrows ioprio or len),
// so each is its own type and cannot be stored in another operation's field by mistake.
module;
#include <cstdint>
export module urine.abi:op_flags;
import :bitmask;

export namespace urine {

/// sqe->fsync_flags.
enum class fsync_flags : std::uint32_t { none = 0, datasync = 1u << 0 };
template <>
inline constexpr bool is_bitmask<fsync_flags> = true;

/// sqe->timeout_flags (TIMEOUT, TIMEOUT_REMOVE, LINK_TIMEOUT).
enum class timeout_flags : std::uint32_t {
  none = 0,
  abs = 1u << 0,
  update = 1u << 1,
  boottime = 1u << 2,
  realtime = 1u << 3,
  link_timeout_update = 1u << 4,
  etime_success = 1u << 5,
  multishot = 1u << 6,
  immediate_arg = 1u << 7,  // 6.19
  clock_mask = boottime | realtime,
  update_mask = update | link_timeout_update,
};
template <>
inline constexpr bool is_bitmask<timeout_flags> = true;

/// sqe->splice_flags: splice(2)'s SPLICE_F_* plus io_uring's fixed-input bit.
enum class splice_flags : std::uint32_t {
  none = 0,
  move = 1u << 0,
  nonblock = 1u << 1,
  more = 1u << 2,
  gift = 1u << 3,
  fd_in_fixed = 1u << 31,
};
template <>
inline constexpr bool is_bitmask<splice_flags> = true;

/// POLL_ADD / POLL_REMOVE command flags, carried in sqe->len.
enum class poll_flags : std::uint32_t {
  none = 0,
  add_multi = 1u << 0,
  update_events = 1u << 1,
  update_user_data = 1u << 2,
  add_level = 1u << 3,
};
template <>
inline constexpr bool is_bitmask<poll_flags> = true;

/// sqe->cancel_flags and io_uring_sync_cancel_reg::flags.
enum class cancel_flags : std::uint32_t {
  none = 0,
  all = 1u << 0,
  fd = 1u << 1,
  any = 1u << 2,
  fd_fixed = 1u << 3,
  userdata = 1u << 4,
  op = 1u << 5,
};
template <>
inline constexpr bool is_bitmask<cancel_flags> = true;

/// Send/receive flags, carried in sqe->ioprio for SEND, RECV, SENDMSG, RECVMSG and the _ZC forms.
enum class recvsend_flags : std::uint16_t {
  none = 0,
  poll_first = 1u << 0,
  recv_multishot = 1u << 1,
  fixed_buf = 1u << 2,
  send_zc_report_usage = 1u << 3,
  bundle = 1u << 4,
  send_vectorized = 1u << 5,
};
template <>
inline constexpr bool is_bitmask<recvsend_flags> = true;
/// Set in a zero-copy notification's result when the kernel had to copy the data.
inline constexpr std::uint32_t notif_usage_zc_copied = 1u << 31;

/// Accept flags, carried in sqe->ioprio for ACCEPT.
enum class accept_flags : std::uint16_t {
  none = 0,
  multishot = 1u << 0,
  dontwait = 1u << 1,
  poll_first = 1u << 2,
};
template <>
inline constexpr bool is_bitmask<accept_flags> = true;

/// MSG_RING command, carried in sqe->addr.
enum class msg_ring_command : std::uint64_t { data = 0, send_fd = 1 };

/// sqe->msg_ring_flags.
enum class msg_ring_flags : std::uint32_t {
  none = 0,
  cqe_skip = 1u << 0,
  flags_pass = 1u << 1,
};
template <>
inline constexpr bool is_bitmask<msg_ring_flags> = true;

/// sqe->install_fd_flags (FIXED_FD_INSTALL).
enum class install_fd_flags : std::uint32_t { none = 0, no_cloexec = 1u << 0 };
template <>
inline constexpr bool is_bitmask<install_fd_flags> = true;

/// sqe->nop_flags. INJECT_RESULT and CQE32 are in liburing's header; the others are the kernel's
/// test hooks (6.12+), which let a NOP exercise file, fixed-file, fixed-buffer and task-work paths.
enum class nop_flags : std::uint32_t {
  none = 0,
  inject_result = 1u << 0,
  file = 1u << 1,
  fixed_file = 1u << 2,
  fixed_buffer = 1u << 3,
  task_work = 1u << 4,
  cqe32 = 1u << 5,
};
template <>
inline constexpr bool is_bitmask<nop_flags> = true;

/// sqe->uring_cmd_flags.
enum class uring_cmd_flags : std::uint32_t { none = 0, fixed = 1u << 0, mask = fixed };
template <>
inline constexpr bool is_bitmask<uring_cmd_flags> = true;

/// sqe->cmd_op of URING_CMD on a socket (SOCKET_URING_OP_*).
enum class socket_cmd : std::uint32_t {
  siocinq = 0,
  siocoutq = 1,
  getsockopt = 2,
  setsockopt = 3,
  tx_timestamp = 4,
  getsockname = 5,
};

/// sqe->attr_type_mask (IORING_RW_ATTR_FLAG_*).
enum class rw_attr_flags : std::uint64_t { none = 0, pi = 1u << 0 };
template <>
inline constexpr bool is_bitmask<rw_attr_flags> = true;

/// sqe->file_index value asking the kernel to pick a free direct-descriptor slot.
inline constexpr std::uint32_t file_index_alloc = 0xffffffffu;

/// Timestamp CQE fields (SOCKET_URING_OP_TX_TIMESTAMP).
inline constexpr unsigned timestamp_hw_shift = 16;
inline constexpr unsigned timestamp_type_shift = 17;

}  // namespace urine
