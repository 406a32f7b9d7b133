// urine.abi's structs against the system's <linux/io_uring.h> (an older kernel's copy): every
// struct and field that header has must sit at the same offset with the same size. The newer
// fields are pinned by static_assert in the module itself, from the kernel's own layout.
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <cstddef>
import urine.abi;

namespace {

namespace abi = urine::abi;

#define EXPECT_SAME_FIELD(ours, theirs, field)                           \
  do {                                                                   \
    EXPECT_EQ(offsetof(ours, field), offsetof(theirs, field)) << #field; \
    EXPECT_EQ(sizeof(ours::field), sizeof(theirs::field)) << #field;     \
  } while (0)

TEST(abi_layout, sqe_matches_system_header) {
  EXPECT_EQ(sizeof(abi::sqe), sizeof(io_uring_sqe));
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, opcode);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, ioprio);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, fd);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, off);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, addr2);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, cmd_op);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, addr);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, splice_off_in);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, len);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, rw_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, fsync_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, poll_events);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, poll32_events);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, sync_range_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, msg_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, timeout_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, accept_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, cancel_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, open_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, statx_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, fadvise_advice);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, splice_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, rename_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, unlink_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, hardlink_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, xattr_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, msg_ring_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, uring_cmd_flags);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, user_data);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, buf_index);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, buf_group);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, personality);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, splice_fd_in);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, file_index);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, addr_len);
  EXPECT_SAME_FIELD(abi::sqe, io_uring_sqe, addr3);
  EXPECT_EQ(offsetof(abi::sqe, cmd), offsetof(io_uring_sqe, cmd));
}

TEST(abi_layout, cqe_and_params_match_system_header) {
  EXPECT_EQ(sizeof(abi::cqe), sizeof(io_uring_cqe));
  EXPECT_SAME_FIELD(abi::cqe, io_uring_cqe, user_data);
  EXPECT_SAME_FIELD(abi::cqe, io_uring_cqe, res);
  EXPECT_SAME_FIELD(abi::cqe, io_uring_cqe, flags);
  EXPECT_EQ(offsetof(abi::cqe32, big_cqe), offsetof(io_uring_cqe, big_cqe));

  EXPECT_EQ(sizeof(abi::params), sizeof(io_uring_params));
  EXPECT_SAME_FIELD(abi::params, io_uring_params, sq_entries);
  EXPECT_SAME_FIELD(abi::params, io_uring_params, cq_entries);
  EXPECT_SAME_FIELD(abi::params, io_uring_params, flags);
  EXPECT_SAME_FIELD(abi::params, io_uring_params, sq_thread_cpu);
  EXPECT_SAME_FIELD(abi::params, io_uring_params, sq_thread_idle);
  EXPECT_SAME_FIELD(abi::params, io_uring_params, features);
  EXPECT_SAME_FIELD(abi::params, io_uring_params, wq_fd);
  EXPECT_SAME_FIELD(abi::params, io_uring_params, sq_off);
  EXPECT_SAME_FIELD(abi::params, io_uring_params, cq_off);

  EXPECT_EQ(sizeof(abi::sqring_offsets), sizeof(io_sqring_offsets));
  EXPECT_SAME_FIELD(abi::sqring_offsets, io_sqring_offsets, head);
  EXPECT_SAME_FIELD(abi::sqring_offsets, io_sqring_offsets, tail);
  EXPECT_SAME_FIELD(abi::sqring_offsets, io_sqring_offsets, ring_mask);
  EXPECT_SAME_FIELD(abi::sqring_offsets, io_sqring_offsets, ring_entries);
  EXPECT_SAME_FIELD(abi::sqring_offsets, io_sqring_offsets, flags);
  EXPECT_SAME_FIELD(abi::sqring_offsets, io_sqring_offsets, dropped);
  EXPECT_SAME_FIELD(abi::sqring_offsets, io_sqring_offsets, array);
  EXPECT_EQ(sizeof(abi::cqring_offsets), sizeof(io_cqring_offsets));
  EXPECT_SAME_FIELD(abi::cqring_offsets, io_cqring_offsets, head);
  EXPECT_SAME_FIELD(abi::cqring_offsets, io_cqring_offsets, tail);
  EXPECT_SAME_FIELD(abi::cqring_offsets, io_cqring_offsets, overflow);
  EXPECT_SAME_FIELD(abi::cqring_offsets, io_cqring_offsets, cqes);
  EXPECT_SAME_FIELD(abi::cqring_offsets, io_cqring_offsets, flags);
}

TEST(abi_layout, registration_structs_match_system_header) {
  EXPECT_EQ(sizeof(abi::files_update), sizeof(io_uring_files_update));
  EXPECT_SAME_FIELD(abi::files_update, io_uring_files_update, fds);
  EXPECT_EQ(sizeof(abi::rsrc_register), sizeof(io_uring_rsrc_register));
  EXPECT_SAME_FIELD(abi::rsrc_register, io_uring_rsrc_register, nr);
  EXPECT_SAME_FIELD(abi::rsrc_register, io_uring_rsrc_register, flags);
  EXPECT_SAME_FIELD(abi::rsrc_register, io_uring_rsrc_register, data);
  EXPECT_SAME_FIELD(abi::rsrc_register, io_uring_rsrc_register, tags);
  EXPECT_EQ(sizeof(abi::rsrc_update), sizeof(io_uring_rsrc_update));
  EXPECT_SAME_FIELD(abi::rsrc_update, io_uring_rsrc_update, offset);
  EXPECT_SAME_FIELD(abi::rsrc_update, io_uring_rsrc_update, data);
  EXPECT_EQ(sizeof(abi::rsrc_update2), sizeof(io_uring_rsrc_update2));
  EXPECT_SAME_FIELD(abi::rsrc_update2, io_uring_rsrc_update2, data);
  EXPECT_SAME_FIELD(abi::rsrc_update2, io_uring_rsrc_update2, tags);
  EXPECT_SAME_FIELD(abi::rsrc_update2, io_uring_rsrc_update2, nr);
  EXPECT_EQ(sizeof(abi::probe_op), sizeof(io_uring_probe_op));
  EXPECT_SAME_FIELD(abi::probe_op, io_uring_probe_op, op);
  EXPECT_SAME_FIELD(abi::probe_op, io_uring_probe_op, flags);
  EXPECT_EQ(sizeof(abi::probe), sizeof(io_uring_probe));
  EXPECT_SAME_FIELD(abi::probe, io_uring_probe, last_op);
  EXPECT_SAME_FIELD(abi::probe, io_uring_probe, ops_len);
  EXPECT_EQ(sizeof(abi::restriction), sizeof(io_uring_restriction));
  EXPECT_SAME_FIELD(abi::restriction, io_uring_restriction, opcode);
  EXPECT_SAME_FIELD(abi::restriction, io_uring_restriction, register_op);
  EXPECT_SAME_FIELD(abi::restriction, io_uring_restriction, sqe_op);
  EXPECT_SAME_FIELD(abi::restriction, io_uring_restriction, sqe_flags);
  EXPECT_EQ(sizeof(abi::buf), sizeof(io_uring_buf));
  EXPECT_SAME_FIELD(abi::buf, io_uring_buf, addr);
  EXPECT_SAME_FIELD(abi::buf, io_uring_buf, len);
  EXPECT_SAME_FIELD(abi::buf, io_uring_buf, bid);
  EXPECT_EQ(sizeof(abi::buf_ring), sizeof(io_uring_buf_ring));
  EXPECT_EQ(offsetof(abi::buf_ring, tail), offsetof(io_uring_buf_ring, tail));
  EXPECT_EQ(sizeof(abi::buf_reg), sizeof(io_uring_buf_reg));
  EXPECT_SAME_FIELD(abi::buf_reg, io_uring_buf_reg, ring_addr);
  EXPECT_SAME_FIELD(abi::buf_reg, io_uring_buf_reg, ring_entries);
  EXPECT_SAME_FIELD(abi::buf_reg, io_uring_buf_reg, bgid);
  EXPECT_EQ(sizeof(abi::getevents_arg), sizeof(io_uring_getevents_arg));
  EXPECT_SAME_FIELD(abi::getevents_arg, io_uring_getevents_arg, sigmask);
  EXPECT_SAME_FIELD(abi::getevents_arg, io_uring_getevents_arg, sigmask_sz);
  EXPECT_SAME_FIELD(abi::getevents_arg, io_uring_getevents_arg, ts);
  EXPECT_EQ(sizeof(abi::sync_cancel_reg), sizeof(io_uring_sync_cancel_reg));
  EXPECT_SAME_FIELD(abi::sync_cancel_reg, io_uring_sync_cancel_reg, addr);
  EXPECT_SAME_FIELD(abi::sync_cancel_reg, io_uring_sync_cancel_reg, fd);
  EXPECT_SAME_FIELD(abi::sync_cancel_reg, io_uring_sync_cancel_reg, flags);
  EXPECT_SAME_FIELD(abi::sync_cancel_reg, io_uring_sync_cancel_reg, timeout);
  EXPECT_EQ(sizeof(abi::file_index_range), sizeof(io_uring_file_index_range));
  EXPECT_SAME_FIELD(abi::file_index_range, io_uring_file_index_range, off);
  EXPECT_SAME_FIELD(abi::file_index_range, io_uring_file_index_range, len);
  EXPECT_EQ(sizeof(abi::recvmsg_out), sizeof(io_uring_recvmsg_out));
  EXPECT_SAME_FIELD(abi::recvmsg_out, io_uring_recvmsg_out, namelen);
  EXPECT_SAME_FIELD(abi::recvmsg_out, io_uring_recvmsg_out, controllen);
  EXPECT_SAME_FIELD(abi::recvmsg_out, io_uring_recvmsg_out, payloadlen);
  EXPECT_SAME_FIELD(abi::recvmsg_out, io_uring_recvmsg_out, flags);
}

}  // namespace
