// Constants of io_uring_register(2): its opcodes (one list for the enum and its name/first-kernel
// table), restriction kinds, resource, buffer-ring, region, query, zero-copy receive and
// BPF-filter values.
module;
#include <array>
#include <cstdint>
#include <string_view>
export module urine.abi:register_constants;
import :bitmask;
import :opcodes;
import :constants;

// Every register opcode in value order (the enum numbers them by their place here), as
// X(enumerator, kernel name without IORING_, first kernel major, minor).
// clang-format off
#define URINE_REGISTER_OPCODES(X) \
  X(register_buffers, REGISTER_BUFFERS, 5, 1) \
  X(unregister_buffers, UNREGISTER_BUFFERS, 5, 1) \
  X(register_files, REGISTER_FILES, 5, 1) \
  X(unregister_files, UNREGISTER_FILES, 5, 1) \
  X(register_eventfd, REGISTER_EVENTFD, 5, 2) \
  X(unregister_eventfd, UNREGISTER_EVENTFD, 5, 2) \
  X(register_files_update, REGISTER_FILES_UPDATE, 5, 5) \
  X(register_eventfd_async, REGISTER_EVENTFD_ASYNC, 5, 6) \
  X(register_probe, REGISTER_PROBE, 5, 6) \
  X(register_personality, REGISTER_PERSONALITY, 5, 6) \
  X(unregister_personality, UNREGISTER_PERSONALITY, 5, 6) \
  X(register_restrictions, REGISTER_RESTRICTIONS, 5, 10) \
  X(register_enable_rings, REGISTER_ENABLE_RINGS, 5, 10) \
  X(register_files2, REGISTER_FILES2, 5, 13) \
  X(register_files_update2, REGISTER_FILES_UPDATE2, 5, 13) \
  X(register_buffers2, REGISTER_BUFFERS2, 5, 13) \
  X(register_buffers_update, REGISTER_BUFFERS_UPDATE, 5, 13) \
  X(register_iowq_aff, REGISTER_IOWQ_AFF, 5, 14) \
  X(unregister_iowq_aff, UNREGISTER_IOWQ_AFF, 5, 14) \
  X(register_iowq_max_workers, REGISTER_IOWQ_MAX_WORKERS, 5, 15) \
  X(register_ring_fds, REGISTER_RING_FDS, 5, 18) \
  X(unregister_ring_fds, UNREGISTER_RING_FDS, 5, 18) \
  X(register_pbuf_ring, REGISTER_PBUF_RING, 5, 19) \
  X(unregister_pbuf_ring, UNREGISTER_PBUF_RING, 5, 19) \
  X(register_sync_cancel, REGISTER_SYNC_CANCEL, 6, 0) \
  X(register_file_alloc_range, REGISTER_FILE_ALLOC_RANGE, 6, 0) \
  X(register_pbuf_status, REGISTER_PBUF_STATUS, 6, 8) \
  X(register_napi, REGISTER_NAPI, 6, 9) \
  X(unregister_napi, UNREGISTER_NAPI, 6, 9) \
  X(register_clock, REGISTER_CLOCK, 6, 12) \
  X(register_clone_buffers, REGISTER_CLONE_BUFFERS, 6, 12) \
  X(register_send_msg_ring, REGISTER_SEND_MSG_RING, 6, 13) \
  X(register_zcrx_ifq, REGISTER_ZCRX_IFQ, 6, 15) \
  X(register_resize_rings, REGISTER_RESIZE_RINGS, 6, 13) \
  X(register_mem_region, REGISTER_MEM_REGION, 6, 13) \
  X(register_query, REGISTER_QUERY, 6, 18) \
  X(register_zcrx_ctrl, REGISTER_ZCRX_CTRL, 6, 19) \
  X(register_bpf_filter, REGISTER_BPF_FILTER, 6, 19)
// clang-format on

export namespace urine {

enum class register_opcode : std::uint32_t {
#define URINE_ENUMERATOR(op, NAME, since_major, since_minor) op,
  URINE_REGISTER_OPCODES(URINE_ENUMERATOR)
#undef URINE_ENUMERATOR
};

/// OR-ed into the opcode: the fd argument is an index into the registered ring fds.
inline constexpr std::uint32_t register_use_registered_ring = 1u << 31;

inline constexpr std::array register_opcode_table{
#define URINE_ROW(op, NAME, since_major, since_minor) \
  flag_info<register_opcode>{register_opcode::op, #NAME, {since_major, since_minor}},
    URINE_REGISTER_OPCODES(URINE_ROW)
#undef URINE_ROW
};

/// Number of register opcodes known to this ABI (IORING_REGISTER_LAST).
inline constexpr unsigned register_opcode_count = register_opcode_table.size();
/// Number of register opcodes kernel 6.18 implements (0 ... 35).
inline constexpr unsigned register_opcode_count_6_18 =
    static_cast<unsigned>(register_opcode::register_query) + 1;

/// io_uring_restriction::opcode (IORING_RESTRICTION_*).
enum class restriction_kind : std::uint16_t {
  register_op = 0,
  sqe_op = 1,
  sqe_flags_allowed = 2,
  sqe_flags_required = 3,
};

/// io_uring_rsrc_register::flags.
enum class rsrc_register_flags : std::uint32_t { none = 0, sparse = 1u << 0 };
template <>
inline constexpr bool is_bitmask<rsrc_register_flags> = true;

/// An fd value in a files update that leaves the slot as it is.
inline constexpr std::int32_t register_files_skip = -2;

/// io_uring_probe_op::flags.
inline constexpr std::uint16_t op_supported = 1u << 0;

/// Index into the io-wq max-workers pair.
inline constexpr unsigned io_wq_bound = 0;
inline constexpr unsigned io_wq_unbound = 1;

/// io_uring_buf_reg::flags (IOU_PBUF_RING_*).
enum class pbuf_ring_flags : std::uint16_t {
  none = 0,
  mmap = 1u << 0,
  incremental = 1u << 1,
};
template <>
inline constexpr bool is_bitmask<pbuf_ring_flags> = true;

/// io_uring_clone_buffers::flags.
enum class clone_buffers_flags : std::uint32_t {
  none = 0,
  src_registered = 1u << 0,
  dst_replace = 1u << 1,
};
template <>
inline constexpr bool is_bitmask<clone_buffers_flags> = true;

/// io_uring_region_desc::flags.
enum class region_flags : std::uint32_t { none = 0, type_user = 1u << 0 };
template <>
inline constexpr bool is_bitmask<region_flags> = true;

/// io_uring_mem_region_reg::flags.
enum class mem_region_reg_flags : std::uint64_t { none = 0, reg_wait_arg = 1u << 0 };
template <>
inline constexpr bool is_bitmask<mem_region_reg_flags> = true;

/// io_uring_reg_wait::flags.
enum class reg_wait_flags : std::uint32_t { none = 0, ts = 1u << 0 };
template <>
inline constexpr bool is_bitmask<reg_wait_flags> = true;

/// io_uring_query_hdr::query_op (IO_URING_QUERY_*). 6.18 implements `opcodes` only.
enum class query_op : std::uint32_t { opcodes = 0, zcrx = 1, scq = 2 };

/// Zero-copy receive.
inline constexpr unsigned zcrx_area_shift = 48;
inline constexpr std::uint64_t zcrx_area_mask = 0xffff000000000000ull;
enum class zcrx_area_flags : std::uint32_t { none = 0, dmabuf = 1u << 0 };
template <>
inline constexpr bool is_bitmask<zcrx_area_flags> = true;
enum class zcrx_reg_flags : std::uint32_t { none = 0, import_ = 1u << 0, nodev = 1u << 1 };
template <>
inline constexpr bool is_bitmask<zcrx_reg_flags> = true;
inline constexpr std::uint32_t zcrx_feature_rx_page_size = 1u << 0;
enum class zcrx_ctrl_op : std::uint32_t { flush_rq = 0, export_ = 1 };

/// BPF filters (> 6.18).
inline constexpr std::uint32_t bpf_filter_deny_rest = 1u << 0;
inline constexpr std::uint32_t bpf_filter_sz_strict = 1u << 1;
inline constexpr std::uint16_t bpf_cmd_filter = 1;

}  // namespace urine
