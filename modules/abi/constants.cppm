// Ring-level constants: setup, enter, feature, SQE and CQE flags, ring-state flags and mmap
// offsets, each a distinct bitmask type, with name/first-kernel tables for reports and probing.
module;
#include <array>
#include <cstdint>
#include <string_view>
export module urine.abi:constants;
import :bitmask;
import :opcodes;

export namespace urine {

/// A named flag with the kernel that introduced it.
template <class E>
struct flag_info {
  E value;
  std::string_view name;  ///< kernel name without its prefix
  kernel_version since;
};

/// io_uring_params::flags (IORING_SETUP_*).
enum class setup_flags : std::uint32_t {
  none = 0,
  iopoll = 1u << 0,
  sqpoll = 1u << 1,
  sq_aff = 1u << 2,
  cqsize = 1u << 3,
  clamp = 1u << 4,
  attach_wq = 1u << 5,
  r_disabled = 1u << 6,
  submit_all = 1u << 7,
  coop_taskrun = 1u << 8,
  taskrun_flag = 1u << 9,
  sqe128 = 1u << 10,
  cqe32 = 1u << 11,
  single_issuer = 1u << 12,
  defer_taskrun = 1u << 13,
  no_mmap = 1u << 14,
  registered_fd_only = 1u << 15,
  no_sqarray = 1u << 16,
  hybrid_iopoll = 1u << 17,
  cqe_mixed = 1u << 18,
  sqe_mixed = 1u << 19,  // 6.19
  sq_rewind = 1u << 20,  // 7.0
};
template <>
inline constexpr bool is_bitmask<setup_flags> = true;

inline constexpr std::array<flag_info<setup_flags>, 21> setup_flag_table{{
    {setup_flags::iopoll, "IOPOLL", {5, 1}},
    {setup_flags::sqpoll, "SQPOLL", {5, 1}},
    {setup_flags::sq_aff, "SQ_AFF", {5, 1}},
    {setup_flags::cqsize, "CQSIZE", {5, 5}},
    {setup_flags::clamp, "CLAMP", {5, 6}},
    {setup_flags::attach_wq, "ATTACH_WQ", {5, 6}},
    {setup_flags::r_disabled, "R_DISABLED", {5, 10}},
    {setup_flags::submit_all, "SUBMIT_ALL", {5, 18}},
    {setup_flags::coop_taskrun, "COOP_TASKRUN", {5, 19}},
    {setup_flags::taskrun_flag, "TASKRUN_FLAG", {5, 19}},
    {setup_flags::sqe128, "SQE128", {5, 19}},
    {setup_flags::cqe32, "CQE32", {5, 19}},
    {setup_flags::single_issuer, "SINGLE_ISSUER", {6, 0}},
    {setup_flags::defer_taskrun, "DEFER_TASKRUN", {6, 1}},
    {setup_flags::no_mmap, "NO_MMAP", {6, 5}},
    {setup_flags::registered_fd_only, "REGISTERED_FD_ONLY", {6, 5}},
    {setup_flags::no_sqarray, "NO_SQARRAY", {6, 6}},
    {setup_flags::hybrid_iopoll, "HYBRID_IOPOLL", {6, 13}},
    {setup_flags::cqe_mixed, "CQE_MIXED", {6, 18}},
    {setup_flags::sqe_mixed, "SQE_MIXED", {6, 19}},
    {setup_flags::sq_rewind, "SQ_REWIND", {7, 0}},
}};

/// io_uring_enter(2) flags (IORING_ENTER_*).
enum class enter_flags : std::uint32_t {
  none = 0,
  getevents = 1u << 0,
  sq_wakeup = 1u << 1,
  sq_wait = 1u << 2,
  ext_arg = 1u << 3,
  registered_ring = 1u << 4,
  abs_timer = 1u << 5,
  ext_arg_reg = 1u << 6,
  no_iowait = 1u << 7,
};
template <>
inline constexpr bool is_bitmask<enter_flags> = true;

inline constexpr std::array<flag_info<enter_flags>, 8> enter_flag_table{{
    {enter_flags::getevents, "GETEVENTS", {5, 1}},
    {enter_flags::sq_wakeup, "SQ_WAKEUP", {5, 1}},
    {enter_flags::sq_wait, "SQ_WAIT", {5, 10}},
    {enter_flags::ext_arg, "EXT_ARG", {5, 11}},
    {enter_flags::registered_ring, "REGISTERED_RING", {5, 18}},
    {enter_flags::abs_timer, "ABS_TIMER", {6, 12}},
    {enter_flags::ext_arg_reg, "EXT_ARG_REG", {6, 13}},
    {enter_flags::no_iowait, "NO_IOWAIT", {6, 15}},
}};

/// io_uring_params::features, reported by the kernel (IORING_FEAT_*).
enum class feature_flags : std::uint32_t {
  none = 0,
  single_mmap = 1u << 0,
  nodrop = 1u << 1,
  submit_stable = 1u << 2,
  rw_cur_pos = 1u << 3,
  cur_personality = 1u << 4,
  fast_poll = 1u << 5,
  poll_32bits = 1u << 6,
  sqpoll_nonfixed = 1u << 7,
  ext_arg = 1u << 8,
  native_workers = 1u << 9,
  rsrc_tags = 1u << 10,
  cqe_skip = 1u << 11,
  linked_file = 1u << 12,
  reg_reg_ring = 1u << 13,
  recvsend_bundle = 1u << 14,
  min_timeout = 1u << 15,
  rw_attr = 1u << 16,
  no_iowait = 1u << 17,
};
template <>
inline constexpr bool is_bitmask<feature_flags> = true;

inline constexpr std::array<flag_info<feature_flags>, 18> feature_table{{
    {feature_flags::single_mmap, "SINGLE_MMAP", {5, 4}},
    {feature_flags::nodrop, "NODROP", {5, 5}},
    {feature_flags::submit_stable, "SUBMIT_STABLE", {5, 5}},
    {feature_flags::rw_cur_pos, "RW_CUR_POS", {5, 6}},
    {feature_flags::cur_personality, "CUR_PERSONALITY", {5, 6}},
    {feature_flags::fast_poll, "FAST_POLL", {5, 7}},
    {feature_flags::poll_32bits, "POLL_32BITS", {5, 9}},
    {feature_flags::sqpoll_nonfixed, "SQPOLL_NONFIXED", {5, 11}},
    {feature_flags::ext_arg, "EXT_ARG", {5, 11}},
    {feature_flags::native_workers, "NATIVE_WORKERS", {5, 12}},
    {feature_flags::rsrc_tags, "RSRC_TAGS", {5, 13}},
    {feature_flags::cqe_skip, "CQE_SKIP", {5, 17}},
    {feature_flags::linked_file, "LINKED_FILE", {5, 17}},
    {feature_flags::reg_reg_ring, "REG_REG_RING", {6, 3}},
    {feature_flags::recvsend_bundle, "RECVSEND_BUNDLE", {6, 10}},
    {feature_flags::min_timeout, "MIN_TIMEOUT", {6, 12}},
    {feature_flags::rw_attr, "RW_ATTR", {6, 14}},
    {feature_flags::no_iowait, "NO_IOWAIT", {6, 15}},
}};

/// io_uring_sqe::flags (IOSQE_*).
enum class sqe_flags : std::uint8_t {
  none = 0,
  fixed_file = 1u << 0,
  io_drain = 1u << 1,
  io_link = 1u << 2,
  io_hardlink = 1u << 3,
  async = 1u << 4,
  buffer_select = 1u << 5,
  cqe_skip_success = 1u << 6,
};
template <>
inline constexpr bool is_bitmask<sqe_flags> = true;

inline constexpr std::array<flag_info<sqe_flags>, 7> sqe_flag_table{{
    {sqe_flags::fixed_file, "FIXED_FILE", {5, 1}},
    {sqe_flags::io_drain, "IO_DRAIN", {5, 2}},
    {sqe_flags::io_link, "IO_LINK", {5, 3}},
    {sqe_flags::io_hardlink, "IO_HARDLINK", {5, 5}},
    {sqe_flags::async, "ASYNC", {5, 6}},
    {sqe_flags::buffer_select, "BUFFER_SELECT", {5, 7}},
    {sqe_flags::cqe_skip_success, "CQE_SKIP_SUCCESS", {5, 17}},
}};

/// io_uring_cqe::flags (IORING_CQE_F_*). The upper 16 bits carry a buffer id when `buffer` is set.
enum class cqe_flags : std::uint32_t {
  none = 0,
  buffer = 1u << 0,
  more = 1u << 1,
  sock_nonempty = 1u << 2,
  notif = 1u << 3,
  buf_more = 1u << 4,
  skip = 1u << 5,       // 6.18, padding entry of a CQE_MIXED ring
  big = 1u << 15,       // 6.18, IORING_CQE_F_32: a 32-byte entry of a CQE_MIXED ring
  tstamp_hw = 1u << 16, // with SOCKET_URING_OP_TX_TIMESTAMP
};
template <>
inline constexpr bool is_bitmask<cqe_flags> = true;
inline constexpr unsigned cqe_buffer_shift = 16;

/// The SQ ring's flags word (IORING_SQ_*), written by the kernel.
enum class sq_ring_flags : std::uint32_t {
  none = 0,
  need_wakeup = 1u << 0,
  cq_overflow = 1u << 1,
  taskrun = 1u << 2,
};
template <>
inline constexpr bool is_bitmask<sq_ring_flags> = true;

/// The CQ ring's flags word (IORING_CQ_*), written by the application.
enum class cq_ring_flags : std::uint32_t {
  none = 0,
  eventfd_disabled = 1u << 0,
};
template <>
inline constexpr bool is_bitmask<cq_ring_flags> = true;

}  // namespace urine

export namespace urine::abi {

// mmap(2) offsets of the ring regions (IORING_OFF_*).
inline constexpr std::uint64_t off_sq_ring = 0;
inline constexpr std::uint64_t off_cq_ring = 0x8000000;
inline constexpr std::uint64_t off_sqes = 0x10000000;
inline constexpr std::uint64_t off_pbuf_ring = 0x80000000;
inline constexpr unsigned off_pbuf_shift = 16;
inline constexpr std::uint64_t off_mmap_mask = 0xf8000000;

}  // namespace urine::abi
