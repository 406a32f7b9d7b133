// urine.abi's constants against the system header, for every constant that header defines; the
// newer ones (absent there) against the values the running kernel reports about itself.
#include <cstdint>
#include <gtest/gtest.h>
#include <linux/io_uring.h>
import urine.abi;
import urine.ring;

namespace {

using namespace urine;

template <class E>
constexpr auto v(E e) {
  return static_cast<std::uint64_t>(std::to_underlying(e));
}

TEST(abi_constants, opcodes_match_system_header) {
  EXPECT_EQ(v(opcode::nop), IORING_OP_NOP);
  EXPECT_EQ(v(opcode::readv), IORING_OP_READV);
  EXPECT_EQ(v(opcode::read_fixed), IORING_OP_READ_FIXED);
  EXPECT_EQ(v(opcode::poll_add), IORING_OP_POLL_ADD);
  EXPECT_EQ(v(opcode::sync_file_range), IORING_OP_SYNC_FILE_RANGE);
  EXPECT_EQ(v(opcode::timeout), IORING_OP_TIMEOUT);
  EXPECT_EQ(v(opcode::accept), IORING_OP_ACCEPT);
  EXPECT_EQ(v(opcode::link_timeout), IORING_OP_LINK_TIMEOUT);
  EXPECT_EQ(v(opcode::openat), IORING_OP_OPENAT);
  EXPECT_EQ(v(opcode::statx), IORING_OP_STATX);
  EXPECT_EQ(v(opcode::read), IORING_OP_READ);
  EXPECT_EQ(v(opcode::openat2), IORING_OP_OPENAT2);
  EXPECT_EQ(v(opcode::splice), IORING_OP_SPLICE);
  EXPECT_EQ(v(opcode::tee), IORING_OP_TEE);
  EXPECT_EQ(v(opcode::renameat), IORING_OP_RENAMEAT);
  EXPECT_EQ(v(opcode::linkat), IORING_OP_LINKAT);
  EXPECT_EQ(v(opcode::msg_ring), IORING_OP_MSG_RING);
  EXPECT_EQ(v(opcode::getxattr), IORING_OP_GETXATTR);
  EXPECT_EQ(v(opcode::uring_cmd), IORING_OP_URING_CMD);
  EXPECT_EQ(v(opcode::sendmsg_zc), IORING_OP_SENDMSG_ZC);
  // The system header stops at 6.1 (LAST = 49); the rest is checked against the live kernel below.
  EXPECT_EQ(IORING_OP_LAST, v(opcode::sendmsg_zc) + 1);
}

TEST(abi_constants, flags_match_system_header) {
  EXPECT_EQ(v(setup_flags::iopoll), IORING_SETUP_IOPOLL);
  EXPECT_EQ(v(setup_flags::sqpoll), IORING_SETUP_SQPOLL);
  EXPECT_EQ(v(setup_flags::sq_aff), IORING_SETUP_SQ_AFF);
  EXPECT_EQ(v(setup_flags::cqsize), IORING_SETUP_CQSIZE);
  EXPECT_EQ(v(setup_flags::clamp), IORING_SETUP_CLAMP);
  EXPECT_EQ(v(setup_flags::attach_wq), IORING_SETUP_ATTACH_WQ);
  EXPECT_EQ(v(setup_flags::r_disabled), IORING_SETUP_R_DISABLED);
  EXPECT_EQ(v(setup_flags::submit_all), IORING_SETUP_SUBMIT_ALL);
  EXPECT_EQ(v(setup_flags::coop_taskrun), IORING_SETUP_COOP_TASKRUN);
  EXPECT_EQ(v(setup_flags::taskrun_flag), IORING_SETUP_TASKRUN_FLAG);
  EXPECT_EQ(v(setup_flags::sqe128), IORING_SETUP_SQE128);
  EXPECT_EQ(v(setup_flags::cqe32), IORING_SETUP_CQE32);
  EXPECT_EQ(v(setup_flags::single_issuer), IORING_SETUP_SINGLE_ISSUER);
  EXPECT_EQ(v(setup_flags::defer_taskrun), IORING_SETUP_DEFER_TASKRUN);

  EXPECT_EQ(v(enter_flags::getevents), IORING_ENTER_GETEVENTS);
  EXPECT_EQ(v(enter_flags::sq_wakeup), IORING_ENTER_SQ_WAKEUP);
  EXPECT_EQ(v(enter_flags::sq_wait), IORING_ENTER_SQ_WAIT);
  EXPECT_EQ(v(enter_flags::ext_arg), IORING_ENTER_EXT_ARG);
  EXPECT_EQ(v(enter_flags::registered_ring), IORING_ENTER_REGISTERED_RING);

  EXPECT_EQ(v(feature_flags::single_mmap), IORING_FEAT_SINGLE_MMAP);
  EXPECT_EQ(v(feature_flags::nodrop), IORING_FEAT_NODROP);
  EXPECT_EQ(v(feature_flags::ext_arg), IORING_FEAT_EXT_ARG);
  EXPECT_EQ(v(feature_flags::rsrc_tags), IORING_FEAT_RSRC_TAGS);
  EXPECT_EQ(v(feature_flags::linked_file), IORING_FEAT_LINKED_FILE);

  EXPECT_EQ(v(sqe_flags::fixed_file), IOSQE_FIXED_FILE);
  EXPECT_EQ(v(sqe_flags::io_drain), IOSQE_IO_DRAIN);
  EXPECT_EQ(v(sqe_flags::io_link), IOSQE_IO_LINK);
  EXPECT_EQ(v(sqe_flags::io_hardlink), IOSQE_IO_HARDLINK);
  EXPECT_EQ(v(sqe_flags::async), IOSQE_ASYNC);
  EXPECT_EQ(v(sqe_flags::buffer_select), IOSQE_BUFFER_SELECT);
  EXPECT_EQ(v(sqe_flags::cqe_skip_success), IOSQE_CQE_SKIP_SUCCESS);

  EXPECT_EQ(v(cqe_flags::buffer), IORING_CQE_F_BUFFER);
  EXPECT_EQ(v(cqe_flags::more), IORING_CQE_F_MORE);
  EXPECT_EQ(v(cqe_flags::sock_nonempty), IORING_CQE_F_SOCK_NONEMPTY);
  EXPECT_EQ(v(cqe_flags::notif), IORING_CQE_F_NOTIF);
  EXPECT_EQ(cqe_buffer_shift, IORING_CQE_BUFFER_SHIFT);

  EXPECT_EQ(v(sq_ring_flags::need_wakeup), IORING_SQ_NEED_WAKEUP);
  EXPECT_EQ(v(sq_ring_flags::cq_overflow), IORING_SQ_CQ_OVERFLOW);
  EXPECT_EQ(v(sq_ring_flags::taskrun), IORING_SQ_TASKRUN);
  EXPECT_EQ(v(cq_ring_flags::eventfd_disabled), IORING_CQ_EVENTFD_DISABLED);

  EXPECT_EQ(urine::abi::off_sq_ring, IORING_OFF_SQ_RING);
  EXPECT_EQ(urine::abi::off_cq_ring, IORING_OFF_CQ_RING);
  EXPECT_EQ(urine::abi::off_sqes, IORING_OFF_SQES);

  EXPECT_EQ(v(timeout_flags::abs), IORING_TIMEOUT_ABS);
  EXPECT_EQ(v(timeout_flags::update), IORING_TIMEOUT_UPDATE);
  EXPECT_EQ(v(timeout_flags::boottime), IORING_TIMEOUT_BOOTTIME);
  EXPECT_EQ(v(timeout_flags::realtime), IORING_TIMEOUT_REALTIME);
  EXPECT_EQ(v(timeout_flags::link_timeout_update), IORING_LINK_TIMEOUT_UPDATE);
  EXPECT_EQ(v(timeout_flags::etime_success), IORING_TIMEOUT_ETIME_SUCCESS);
  EXPECT_EQ(v(timeout_flags::clock_mask), IORING_TIMEOUT_CLOCK_MASK);
  EXPECT_EQ(v(timeout_flags::update_mask), IORING_TIMEOUT_UPDATE_MASK);
  EXPECT_EQ(v(splice_flags::fd_in_fixed), SPLICE_F_FD_IN_FIXED);
  EXPECT_EQ(v(poll_flags::add_multi), IORING_POLL_ADD_MULTI);
  EXPECT_EQ(v(poll_flags::update_events), IORING_POLL_UPDATE_EVENTS);
  EXPECT_EQ(v(poll_flags::update_user_data), IORING_POLL_UPDATE_USER_DATA);
  EXPECT_EQ(v(poll_flags::add_level), IORING_POLL_ADD_LEVEL);
  EXPECT_EQ(v(cancel_flags::all), IORING_ASYNC_CANCEL_ALL);
  EXPECT_EQ(v(cancel_flags::fd), IORING_ASYNC_CANCEL_FD);
  EXPECT_EQ(v(cancel_flags::any), IORING_ASYNC_CANCEL_ANY);
  EXPECT_EQ(v(cancel_flags::fd_fixed), IORING_ASYNC_CANCEL_FD_FIXED);
  EXPECT_EQ(v(recvsend_flags::poll_first), IORING_RECVSEND_POLL_FIRST);
  EXPECT_EQ(v(recvsend_flags::recv_multishot), IORING_RECV_MULTISHOT);
  EXPECT_EQ(v(recvsend_flags::fixed_buf), IORING_RECVSEND_FIXED_BUF);
  EXPECT_EQ(v(recvsend_flags::send_zc_report_usage), IORING_SEND_ZC_REPORT_USAGE);
  EXPECT_EQ(notif_usage_zc_copied, IORING_NOTIF_USAGE_ZC_COPIED);
  EXPECT_EQ(v(accept_flags::multishot), IORING_ACCEPT_MULTISHOT);
  EXPECT_EQ(v(msg_ring_command::data), IORING_MSG_DATA);
  EXPECT_EQ(v(msg_ring_command::send_fd), IORING_MSG_SEND_FD);
  EXPECT_EQ(v(msg_ring_flags::cqe_skip), IORING_MSG_RING_CQE_SKIP);
  EXPECT_EQ(v(uring_cmd_flags::fixed), IORING_URING_CMD_FIXED);
  EXPECT_EQ(v(fsync_flags::datasync), IORING_FSYNC_DATASYNC);
  EXPECT_EQ(file_index_alloc, IORING_FILE_INDEX_ALLOC);
  EXPECT_EQ(v(rsrc_register_flags::sparse), IORING_RSRC_REGISTER_SPARSE);
  EXPECT_EQ(register_files_skip, IORING_REGISTER_FILES_SKIP);
  EXPECT_EQ(op_supported, IO_URING_OP_SUPPORTED);
  EXPECT_EQ(v(restriction_kind::register_op), IORING_RESTRICTION_REGISTER_OP);
  EXPECT_EQ(v(restriction_kind::sqe_op), IORING_RESTRICTION_SQE_OP);
  EXPECT_EQ(v(restriction_kind::sqe_flags_allowed), IORING_RESTRICTION_SQE_FLAGS_ALLOWED);
  EXPECT_EQ(v(restriction_kind::sqe_flags_required), IORING_RESTRICTION_SQE_FLAGS_REQUIRED);
}

TEST(abi_constants, register_opcodes_match_system_header) {
  EXPECT_EQ(v(register_opcode::register_buffers), IORING_REGISTER_BUFFERS);
  EXPECT_EQ(v(register_opcode::register_eventfd_async), IORING_REGISTER_EVENTFD_ASYNC);
  EXPECT_EQ(v(register_opcode::register_restrictions), IORING_REGISTER_RESTRICTIONS);
  EXPECT_EQ(v(register_opcode::register_files2), IORING_REGISTER_FILES2);
  EXPECT_EQ(v(register_opcode::register_iowq_max_workers), IORING_REGISTER_IOWQ_MAX_WORKERS);
  EXPECT_EQ(v(register_opcode::register_ring_fds), IORING_REGISTER_RING_FDS);
  EXPECT_EQ(v(register_opcode::register_pbuf_ring), IORING_REGISTER_PBUF_RING);
  EXPECT_EQ(v(register_opcode::register_sync_cancel), IORING_REGISTER_SYNC_CANCEL);
  EXPECT_EQ(v(register_opcode::register_file_alloc_range), IORING_REGISTER_FILE_ALLOC_RANGE);
  EXPECT_EQ(IORING_REGISTER_LAST, v(register_opcode::register_file_alloc_range) + 1);
}

// The running kernel describes itself through IORING_REGISTER_QUERY (6.18): its opcode and
// register-opcode counts and flag masks must be exactly what urine.abi says 6.18 has.
TEST(abi_constants, match_what_the_running_kernel_reports) {
  const kernel_support k = query_kernel_support();
  if (!k.known) GTEST_SKIP() << "kernel has no IORING_REGISTER_QUERY (needs 6.18)";
  EXPECT_GE(k.request_opcodes, opcode_count_6_18);
  EXPECT_GE(k.register_opcodes, register_opcode_count_6_18);
  setup_flags known_6_18{};
  for (const auto& f : setup_flag_table)
    if (f.since <= kernel_version{6, 18}) known_6_18 |= f.value;
  EXPECT_EQ(k.setup & known_6_18, known_6_18) << describe(known_6_18 & ~k.setup);
  feature_flags features{};
  for (const auto& f : feature_table) features |= f.value;
  EXPECT_EQ(k.features & features, features);
  enter_flags enter{};
  for (const auto& f : enter_flag_table) enter |= f.value;
  EXPECT_EQ(k.enter & enter, enter);
  sqe_flags sqe{};
  for (const auto& f : sqe_flag_table) sqe |= f.value;
  EXPECT_EQ(k.sqe, sqe);
}

TEST(abi_constants, tables_name_every_value_once) {
  EXPECT_EQ(name(opcode::pipe), "PIPE");
  EXPECT_EQ(name(opcode::uring_cmd128), "URING_CMD128");
  EXPECT_EQ(name(static_cast<opcode>(200)), "UNKNOWN");
  EXPECT_EQ(describe(setup_flags::sqpoll | setup_flags::sq_aff), "SQPOLL|SQ_AFF");
  EXPECT_EQ(describe(setup_flags(1u << 30)), "0x40000000");
}

}  // namespace
