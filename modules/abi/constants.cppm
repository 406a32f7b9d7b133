// Ring-level constants: setup, enter, feature, SQE and CQE flags, ring-state flags and mmap
// offsets, each a distinct bitmask type, with name/first-kernel tables for reports and probing.
module;
#include <array>
#include <cstdint>
#include <string_view>
export module urine.abi:constants;
import :bitmask;
import :opcodes;

// Every flag of a family in bit order, as X(enumerator, kernel name without its prefix, bit,
// first kernel major, minor): the one list its enum and its name/first-kernel table come from.
// clang-format off
#define URINE_SETUP_FLAGS(X) \
  X(iopoll, IOPOLL, 0, 5, 1) \
  X(sqpoll, SQPOLL, 1, 5, 1) \
  X(sq_aff, SQ_AFF, 2, 5, 1) \
  X(cqsize, CQSIZE, 3, 5, 5) \
  X(clamp, CLAMP, 4, 5, 6) \
  X(attach_wq, ATTACH_WQ, 5, 5, 6) \
  X(r_disabled, R_DISABLED, 6, 5, 10) \
  X(submit_all, SUBMIT_ALL, 7, 5, 18) \
  X(coop_taskrun, COOP_TASKRUN, 8, 5, 19) \
  X(taskrun_flag, TASKRUN_FLAG, 9, 5, 19) \
  X(sqe128, SQE128, 10, 5, 19) \
  X(cqe32, CQE32, 11, 5, 19) \
  X(single_issuer, SINGLE_ISSUER, 12, 6, 0) \
  X(defer_taskrun, DEFER_TASKRUN, 13, 6, 1) \
  X(no_mmap, NO_MMAP, 14, 6, 5) \
  X(registered_fd_only, REGISTERED_FD_ONLY, 15, 6, 5) \
  X(no_sqarray, NO_SQARRAY, 16, 6, 6) \
  X(hybrid_iopoll, HYBRID_IOPOLL, 17, 6, 13) \
  X(cqe_mixed, CQE_MIXED, 18, 6, 18) \
  X(sqe_mixed, SQE_MIXED, 19, 6, 19) \
  X(sq_rewind, SQ_REWIND, 20, 7, 0)
#define URINE_ENTER_FLAGS(X) \
  X(getevents, GETEVENTS, 0, 5, 1) \
  X(sq_wakeup, SQ_WAKEUP, 1, 5, 1) \
  X(sq_wait, SQ_WAIT, 2, 5, 10) \
  X(ext_arg, EXT_ARG, 3, 5, 11) \
  X(registered_ring, REGISTERED_RING, 4, 5, 18) \
  X(abs_timer, ABS_TIMER, 5, 6, 12) \
  X(ext_arg_reg, EXT_ARG_REG, 6, 6, 13) \
  X(no_iowait, NO_IOWAIT, 7, 6, 15)
#define URINE_FEATURE_FLAGS(X) \
  X(single_mmap, SINGLE_MMAP, 0, 5, 4) \
  X(nodrop, NODROP, 1, 5, 5) \
  X(submit_stable, SUBMIT_STABLE, 2, 5, 5) \
  X(rw_cur_pos, RW_CUR_POS, 3, 5, 6) \
  X(cur_personality, CUR_PERSONALITY, 4, 5, 6) \
  X(fast_poll, FAST_POLL, 5, 5, 7) \
  X(poll_32bits, POLL_32BITS, 6, 5, 9) \
  X(sqpoll_nonfixed, SQPOLL_NONFIXED, 7, 5, 11) \
  X(ext_arg, EXT_ARG, 8, 5, 11) \
  X(native_workers, NATIVE_WORKERS, 9, 5, 12) \
  X(rsrc_tags, RSRC_TAGS, 10, 5, 13) \
  X(cqe_skip, CQE_SKIP, 11, 5, 17) \
  X(linked_file, LINKED_FILE, 12, 5, 17) \
  X(reg_reg_ring, REG_REG_RING, 13, 6, 3) \
  X(recvsend_bundle, RECVSEND_BUNDLE, 14, 6, 10) \
  X(min_timeout, MIN_TIMEOUT, 15, 6, 12) \
  X(rw_attr, RW_ATTR, 16, 6, 14) \
  X(no_iowait, NO_IOWAIT, 17, 6, 15)
#define URINE_SQE_FLAGS(X) \
  X(fixed_file, FIXED_FILE, 0, 5, 1) \
  X(io_drain, IO_DRAIN, 1, 5, 2) \
  X(io_link, IO_LINK, 2, 5, 3) \
  X(io_hardlink, IO_HARDLINK, 3, 5, 5) \
  X(async, ASYNC, 4, 5, 6) \
  X(buffer_select, BUFFER_SELECT, 5, 5, 7) \
  X(cqe_skip_success, CQE_SKIP_SUCCESS, 6, 5, 17)
// clang-format on

// A family's enumerators, and its table rows (URINE_FLAG_ENUM names the family's enum).
#define URINE_FLAG_ENUMERATOR(flag, NAME, bit, since_major, since_minor) flag = 1u << (bit),
#define URINE_FLAG_ROW(flag, NAME, bit, since_major, since_minor) \
  flag_info<URINE_FLAG_ENUM>{URINE_FLAG_ENUM::flag, #NAME, {since_major, since_minor}},

export namespace urine {

/// A named flag with the kernel that introduced it.
template <class E>
struct flag_info {
  E value;
  std::string_view name;  ///< kernel name without its prefix
  kernel_version since;
};

/// io_uring_params::flags (IORING_SETUP_*).
enum class setup_flags : std::uint32_t { none = 0, URINE_SETUP_FLAGS(URINE_FLAG_ENUMERATOR) };
template <>
inline constexpr bool is_bitmask<setup_flags> = true;

#define URINE_FLAG_ENUM setup_flags
inline constexpr std::array setup_flag_table{URINE_SETUP_FLAGS(URINE_FLAG_ROW)};
#undef URINE_FLAG_ENUM

/// io_uring_enter(2) flags (IORING_ENTER_*).
enum class enter_flags : std::uint32_t { none = 0, URINE_ENTER_FLAGS(URINE_FLAG_ENUMERATOR) };
template <>
inline constexpr bool is_bitmask<enter_flags> = true;

#define URINE_FLAG_ENUM enter_flags
inline constexpr std::array enter_flag_table{URINE_ENTER_FLAGS(URINE_FLAG_ROW)};
#undef URINE_FLAG_ENUM

/// io_uring_params::features, reported by the kernel (IORING_FEAT_*).
enum class feature_flags : std::uint32_t { none = 0, URINE_FEATURE_FLAGS(URINE_FLAG_ENUMERATOR) };
template <>
inline constexpr bool is_bitmask<feature_flags> = true;

#define URINE_FLAG_ENUM feature_flags
inline constexpr std::array feature_table{URINE_FEATURE_FLAGS(URINE_FLAG_ROW)};
#undef URINE_FLAG_ENUM

/// io_uring_sqe::flags (IOSQE_*).
enum class sqe_flags : std::uint8_t { none = 0, URINE_SQE_FLAGS(URINE_FLAG_ENUMERATOR) };
template <>
inline constexpr bool is_bitmask<sqe_flags> = true;

#define URINE_FLAG_ENUM sqe_flags
inline constexpr std::array sqe_flag_table{URINE_SQE_FLAGS(URINE_FLAG_ROW)};
#undef URINE_FLAG_ENUM

/// io_uring_cqe::flags (IORING_CQE_F_*). The upper 16 bits carry a buffer id when `buffer` is set.
enum class cqe_flags : std::uint32_t {
  none = 0,
  buffer = 1u << 0,
  more = 1u << 1,
  sock_nonempty = 1u << 2,
  notif = 1u << 3,
  buf_more = 1u << 4,
  skip = 1u << 5,        // 6.18, padding entry of a CQE_MIXED ring
  big = 1u << 15,        // 6.18, IORING_CQE_F_32: a 32-byte entry of a CQE_MIXED ring
  tstamp_hw = 1u << 16,  // with SOCKET_URING_OP_TX_TIMESTAMP
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
