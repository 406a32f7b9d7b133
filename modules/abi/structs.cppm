// Every io_uring uapi struct, laid out exactly as the kernel's (x86-64 and every LP64 target);
// sizes and offsets are pinned by static_assert against the kernel's layout. Field names are
// the kernel's, so the uapi documentation reads straight onto these types. Reserved fields that
// the kernel spells `__resv` are `resv_` here (names with `__` are reserved in C++).
module;
#include <cstddef>
#include <cstdint>
export module urine.abi:structs;

// The SQE overlays several fields in anonymous structs inside anonymous unions, exactly like the
// kernel header; C++ calls that a GNU extension. Keeping the kernel's shape is worth it here:
// `sqe.cmd_op`, `sqe.level` and `sqe.attr_ptr` read as the uapi documentation says.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-anonymous-struct"
#pragma clang diagnostic ignored "-Wnested-anon-types"

export namespace urine::abi {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using s32 = std::int32_t;

/// struct io_uring_sqe: one submission queue entry (64 bytes).
struct sqe {
  u8 opcode;
  u8 flags;
  u16 ioprio;
  s32 fd;
  union {
    u64 off;
    u64 addr2;
    struct {
      u32 cmd_op;
      u32 pad1;
    };
  };
  union {
    u64 addr;
    u64 splice_off_in;
    struct {
      u32 level;
      u32 optname;
    };
  };
  u32 len;
  union {
    u32 rw_flags;
    u32 fsync_flags;
    u16 poll_events;
    u32 poll32_events;
    u32 sync_range_flags;
    u32 msg_flags;
    u32 timeout_flags;
    u32 accept_flags;
    u32 cancel_flags;
    u32 open_flags;
    u32 statx_flags;
    u32 fadvise_advice;
    u32 splice_flags;
    u32 rename_flags;
    u32 unlink_flags;
    u32 hardlink_flags;
    u32 xattr_flags;
    u32 msg_ring_flags;
    u32 uring_cmd_flags;
    u32 waitid_flags;
    u32 futex_flags;
    u32 install_fd_flags;
    u32 nop_flags;
    u32 pipe_flags;
  };
  u64 user_data;
  union {
    u16 buf_index;
    u16 buf_group;
  };
  u16 personality;
  union {
    s32 splice_fd_in;
    u32 file_index;
    u32 zcrx_ifq_idx;
    u32 optlen;
    struct {
      u16 addr_len;
      u16 pad3[1];
    };
  };
  union {
    struct {
      u64 addr3;
      u64 pad2[1];
    };
    struct {
      u64 attr_ptr;
      u64 attr_type_mask;
    };
    u64 optval;
    u8 cmd[16];  ///< the first 16 bytes of a URING_CMD payload
  };
};

/// A 128-byte SQE (IORING_SETUP_SQE128): a plain SQE followed by 64 more command bytes, so that a
/// URING_CMD payload spans 80 contiguous bytes from `cmd`.
struct sqe128 {
  sqe base;
  u8 cmd_tail[64];
};

/// struct io_uring_cqe: one completion queue entry (16 bytes).
struct cqe {
  u64 user_data;
  s32 res;
  u32 flags;
};

/// A 32-byte CQE (IORING_SETUP_CQE32, or an F_32 entry of a CQE_MIXED ring).
struct cqe32 {
  u64 user_data;
  s32 res;
  u32 flags;
  u64 big_cqe[2];
};

struct sqring_offsets {
  u32 head;
  u32 tail;
  u32 ring_mask;
  u32 ring_entries;
  u32 flags;
  u32 dropped;
  u32 array;
  u32 resv1;
  u64 user_addr;
};

struct cqring_offsets {
  u32 head;
  u32 tail;
  u32 ring_mask;
  u32 ring_entries;
  u32 overflow;
  u32 cqes;
  u32 flags;
  u32 resv1;
  u64 user_addr;
};

/// struct io_uring_params: io_uring_setup(2)'s in/out argument.
struct params {
  u32 sq_entries;
  u32 cq_entries;
  u32 flags;
  u32 sq_thread_cpu;
  u32 sq_thread_idle;
  u32 features;
  u32 wq_fd;
  u32 resv[3];
  sqring_offsets sq_off;
  cqring_offsets cq_off;
};

struct files_update {
  u32 offset;
  u32 resv;
  alignas(8) u64 fds;
};

struct region_desc {
  u64 user_addr;
  u64 size;
  u32 flags;
  u32 id;
  u64 mmap_offset;
  u64 resv_[4];
};

struct mem_region_reg {
  u64 region_uptr;
  u64 flags;
  u64 resv_[2];
};

struct rsrc_register {
  u32 nr;
  u32 flags;
  u64 resv2;
  alignas(8) u64 data;
  alignas(8) u64 tags;
};

struct rsrc_update {
  u32 offset;
  u32 resv;
  alignas(8) u64 data;
};

struct rsrc_update2 {
  u32 offset;
  u32 resv;
  alignas(8) u64 data;
  alignas(8) u64 tags;
  u32 nr;
  u32 resv2;
};

struct probe_op {
  u8 op;
  u8 resv;
  u16 flags;
  u32 resv2;
};

/// struct io_uring_probe: header; `ops_len` probe_op entries follow it in memory.
struct probe {
  u8 last_op;
  u8 ops_len;
  u16 resv;
  u32 resv2[3];
};

struct restriction {
  u16 opcode;
  union {
    u8 register_op;
    u8 sqe_op;
    u8 sqe_flags;
  };
  u8 resv;
  u32 resv2[3];
};

/// struct io_uring_task_restriction (> 6.18): header; `nr_res` restrictions follow it.
struct task_restriction {
  u16 flags;
  u16 nr_res;
  u32 resv[3];
};

struct clock_register {
  u32 clockid;
  u32 resv_[3];
};

struct clone_buffers {
  u32 src_fd;
  u32 flags;
  u32 src_off;
  u32 dst_off;
  u32 nr;
  u32 pad[3];
};

/// struct io_uring_buf: one entry of a provided-buffer ring.
struct buf {
  u64 addr;
  u32 len;
  u16 bid;
  u16 resv;
};

/// struct io_uring_buf_ring: the ring's header overlays the first entry's reserved tail, so the
/// tail index lives in bufs[0].resv.
struct buf_ring {
  u64 resv1;
  u32 resv2;
  u16 resv3;
  u16 tail;
};

struct buf_reg {
  u64 ring_addr;
  u32 ring_entries;
  u16 bgid;
  u16 flags;
  u32 min_left;
  u32 resv[5];
};

struct buf_status {
  u32 buf_group;
  u32 head;
  u32 resv[8];
};

struct napi {
  u32 busy_poll_to;
  u8 prefer_busy_poll;
  u8 pad[3];
  u64 resv;
};

/// struct __kernel_timespec.
struct kernel_timespec {
  std::int64_t tv_sec;
  long long tv_nsec;
};

struct reg_wait {
  kernel_timespec ts;
  u32 min_wait_usec;
  u32 flags;
  u64 sigmask;
  u32 sigmask_sz;
  u32 pad[3];
  u64 pad2[2];
};

struct getevents_arg {
  u64 sigmask;
  u32 sigmask_sz;
  u32 min_wait_usec;
  u64 ts;
};

struct sync_cancel_reg {
  u64 addr;
  s32 fd;
  u32 flags;
  kernel_timespec timeout;
  u8 opcode;
  u8 pad[7];
  u64 pad2[3];
};

struct file_index_range {
  u32 off;
  u32 len;
  u64 resv;
};

struct recvmsg_out {
  u32 namelen;
  u32 controllen;
  u32 payloadlen;
  u32 flags;
};

struct attr_pi {
  u16 flags;
  u16 app_tag;
  u32 len;
  u64 addr;
  u64 seed;
  u64 rsvd;
};

struct io_timespec {
  u64 tv_sec;
  u64 tv_nsec;
};

struct query_hdr {
  u64 next_entry;
  u64 query_data;
  u32 query_op;
  u32 size;
  s32 result;
  u32 resv_[3];
};

struct query_opcode {
  u32 nr_request_opcodes;
  u32 nr_register_opcodes;
  u64 feature_flags;
  u64 ring_setup_flags;
  u64 enter_flags;
  u64 sqe_flags;
  u32 nr_query_opcodes;
  u32 pad_;
};

struct query_zcrx {
  u64 register_flags;
  u64 area_flags;
  u32 nr_ctrl_opcodes;
  u32 features;
  u32 rq_hdr_size;
  u32 rq_hdr_alignment;
  u64 resv2_;
};

struct query_scq {
  u64 hdr_size;
  u64 hdr_alignment;
};

struct zcrx_rqe {
  u64 off;
  u32 len;
  u32 pad_;
};

struct zcrx_cqe {
  u64 off;
  u64 pad_;
};

struct zcrx_offsets {
  u32 head;
  u32 tail;
  u32 rqes;
  u32 resv2_;
  u64 resv_[2];
};

struct zcrx_area_reg {
  u64 addr;
  u64 len;
  u64 rq_area_token;
  u32 flags;
  u32 dmabuf_fd;
  u64 resv2_[2];
};

struct zcrx_ifq_reg {
  u32 if_idx;
  u32 if_rxq;
  u32 rq_entries;
  u32 flags;
  u64 area_ptr;
  u64 region_ptr;
  zcrx_offsets offsets;
  u32 zcrx_id;
  u32 rx_buf_len;
  u64 resv_[3];
};

struct zcrx_ctrl_flush_rq {
  u64 resv_[6];
};

struct zcrx_ctrl_export {
  u32 zcrx_fd;
  u32 resv1_[11];
};

struct zcrx_ctrl {
  u32 zcrx_id;
  u32 op;
  u64 resv_[2];
  union {
    zcrx_ctrl_export zc_export;
    zcrx_ctrl_flush_rq zc_flush;
  };
};

/// BPF filter structs (> 6.18).
struct bpf_ctx {
  u64 user_data;
  u8 opcode;
  u8 sqe_flags;
  u8 pdu_size;
  u8 pad[5];
  union {
    struct {
      u32 family;
      u32 type;
      u32 protocol;
    } socket;
    u64 pdu_[3];  ///< per-opcode data; the header is 40 bytes in all
  };
};

struct bpf_filter {
  u32 opcode;
  u32 flags;
  u32 filter_len;
  u32 resv;
  u64 filter_ptr;
  u64 resv2[5];
};

struct bpf {
  u16 cmd_type;
  u16 cmd_flags;
  u32 resv;
  union {
    bpf_filter filter;
  };
};

}  // namespace urine::abi

#pragma clang diagnostic pop

// ---- layout pins: sizes and offsets from the kernel's own layout (pahole, x86-64) ----
namespace urine::abi {
#define URINE_PIN(type, field, offset) \
  static_assert(offsetof(type, field) == (offset), #type "::" #field)
static_assert(sizeof(sqe) == 64);
URINE_PIN(sqe, opcode, 0);
URINE_PIN(sqe, flags, 1);
URINE_PIN(sqe, ioprio, 2);
URINE_PIN(sqe, fd, 4);
URINE_PIN(sqe, off, 8);
URINE_PIN(sqe, addr2, 8);
URINE_PIN(sqe, cmd_op, 8);
URINE_PIN(sqe, pad1, 12);
URINE_PIN(sqe, addr, 16);
URINE_PIN(sqe, splice_off_in, 16);
URINE_PIN(sqe, level, 16);
URINE_PIN(sqe, optname, 20);
URINE_PIN(sqe, len, 24);
URINE_PIN(sqe, rw_flags, 28);
URINE_PIN(sqe, poll_events, 28);
URINE_PIN(sqe, pipe_flags, 28);
URINE_PIN(sqe, user_data, 32);
URINE_PIN(sqe, buf_index, 40);
URINE_PIN(sqe, buf_group, 40);
URINE_PIN(sqe, personality, 42);
URINE_PIN(sqe, splice_fd_in, 44);
URINE_PIN(sqe, file_index, 44);
URINE_PIN(sqe, zcrx_ifq_idx, 44);
URINE_PIN(sqe, optlen, 44);
URINE_PIN(sqe, addr_len, 44);
URINE_PIN(sqe, addr3, 48);
URINE_PIN(sqe, attr_ptr, 48);
URINE_PIN(sqe, attr_type_mask, 56);
URINE_PIN(sqe, optval, 48);
URINE_PIN(sqe, cmd, 48);
static_assert(sizeof(sqe128) == 128);
static_assert(sizeof(cqe) == 16);
URINE_PIN(cqe, res, 8);
URINE_PIN(cqe, flags, 12);
static_assert(sizeof(cqe32) == 32);
URINE_PIN(cqe32, big_cqe, 16);
static_assert(sizeof(sqring_offsets) == 40);
URINE_PIN(sqring_offsets, array, 24);
URINE_PIN(sqring_offsets, user_addr, 32);
static_assert(sizeof(cqring_offsets) == 40);
URINE_PIN(cqring_offsets, cqes, 20);
URINE_PIN(cqring_offsets, flags, 24);
URINE_PIN(cqring_offsets, user_addr, 32);
static_assert(sizeof(params) == 120);
URINE_PIN(params, wq_fd, 24);
URINE_PIN(params, sq_off, 40);
URINE_PIN(params, cq_off, 80);
static_assert(sizeof(files_update) == 16);
URINE_PIN(files_update, fds, 8);
static_assert(sizeof(region_desc) == 64);
URINE_PIN(region_desc, mmap_offset, 24);
static_assert(sizeof(mem_region_reg) == 32);
static_assert(sizeof(rsrc_register) == 32);
URINE_PIN(rsrc_register, data, 16);
URINE_PIN(rsrc_register, tags, 24);
static_assert(sizeof(rsrc_update) == 16);
static_assert(sizeof(rsrc_update2) == 32);
URINE_PIN(rsrc_update2, tags, 16);
URINE_PIN(rsrc_update2, nr, 24);
static_assert(sizeof(probe_op) == 8);
static_assert(sizeof(probe) == 16);
static_assert(sizeof(restriction) == 16);
URINE_PIN(restriction, sqe_flags, 2);
URINE_PIN(restriction, resv2, 4);
static_assert(sizeof(task_restriction) == 16);
static_assert(sizeof(clock_register) == 16);
static_assert(sizeof(clone_buffers) == 32);
URINE_PIN(clone_buffers, nr, 16);
static_assert(sizeof(buf) == 16);
URINE_PIN(buf, bid, 12);
static_assert(sizeof(buf_ring) == 16);
URINE_PIN(buf_ring, tail, 14);
static_assert(sizeof(buf_reg) == 40);
URINE_PIN(buf_reg, bgid, 12);
URINE_PIN(buf_reg, min_left, 16);
static_assert(sizeof(buf_status) == 40);
static_assert(sizeof(napi) == 16);
URINE_PIN(napi, prefer_busy_poll, 4);
static_assert(sizeof(kernel_timespec) == 16);
static_assert(sizeof(reg_wait) == 64);
URINE_PIN(reg_wait, min_wait_usec, 16);
URINE_PIN(reg_wait, sigmask, 24);
URINE_PIN(reg_wait, sigmask_sz, 32);
URINE_PIN(reg_wait, pad2, 48);
static_assert(sizeof(getevents_arg) == 24);
URINE_PIN(getevents_arg, min_wait_usec, 12);
URINE_PIN(getevents_arg, ts, 16);
static_assert(sizeof(sync_cancel_reg) == 64);
URINE_PIN(sync_cancel_reg, timeout, 16);
URINE_PIN(sync_cancel_reg, opcode, 32);
URINE_PIN(sync_cancel_reg, pad2, 40);
static_assert(sizeof(file_index_range) == 16);
static_assert(sizeof(recvmsg_out) == 16);
static_assert(sizeof(attr_pi) == 32);
URINE_PIN(attr_pi, seed, 16);
static_assert(sizeof(io_timespec) == 16);
static_assert(sizeof(query_hdr) == 40);
URINE_PIN(query_hdr, result, 24);
static_assert(sizeof(query_opcode) == 48);
URINE_PIN(query_opcode, sqe_flags, 32);
URINE_PIN(query_opcode, nr_query_opcodes, 40);
static_assert(sizeof(query_zcrx) == 40);
static_assert(sizeof(query_scq) == 16);
static_assert(sizeof(zcrx_rqe) == 16);
static_assert(sizeof(zcrx_cqe) == 16);
static_assert(sizeof(zcrx_offsets) == 32);
static_assert(sizeof(zcrx_area_reg) == 48);
URINE_PIN(zcrx_area_reg, dmabuf_fd, 28);
static_assert(sizeof(zcrx_ifq_reg) == 96);
URINE_PIN(zcrx_ifq_reg, offsets, 32);
URINE_PIN(zcrx_ifq_reg, zcrx_id, 64);
URINE_PIN(zcrx_ifq_reg, rx_buf_len, 68);
static_assert(sizeof(zcrx_ctrl_flush_rq) == 48);
static_assert(sizeof(zcrx_ctrl_export) == 48);
static_assert(sizeof(zcrx_ctrl) == 72);
URINE_PIN(zcrx_ctrl, zc_export, 24);
static_assert(sizeof(bpf_ctx) == 40);
static_assert(sizeof(bpf_filter) == 64);
static_assert(sizeof(bpf) == 72);
URINE_PIN(bpf, filter, 8);
#undef URINE_PIN
}  // namespace urine::abi
