// urine.abi's constants against the installed system header, whichever release it is, for every
// constant that header defines; the newer ones (absent there) against the values the running
// kernel reports about itself.
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <cstdint>
import urine.abi;
import urine.ring;

namespace {

using namespace urine;

template <class E>
constexpr auto v(E e) {
  return static_cast<std::uint64_t>(std::to_underlying(e));
}

// The installed <linux/io_uring.h> may come from any release (Debian 12 ships 6.1, its backports
// 6.12). Each opcode below is compared where that header declares it; counting the comparisons
// against the header's own IORING_OP_LAST / IORING_REGISTER_LAST proves none of its opcodes
// went unchecked, whichever release it is.
// clang-format off
#define URINE_REQUEST_OPCODES(X) \
  X(nop, NOP) \
  X(readv, READV) \
  X(writev, WRITEV) \
  X(fsync, FSYNC) \
  X(read_fixed, READ_FIXED) \
  X(write_fixed, WRITE_FIXED) \
  X(poll_add, POLL_ADD) \
  X(poll_remove, POLL_REMOVE) \
  X(sync_file_range, SYNC_FILE_RANGE) \
  X(sendmsg, SENDMSG) \
  X(recvmsg, RECVMSG) \
  X(timeout, TIMEOUT) \
  X(timeout_remove, TIMEOUT_REMOVE) \
  X(accept, ACCEPT) \
  X(async_cancel, ASYNC_CANCEL) \
  X(link_timeout, LINK_TIMEOUT) \
  X(connect, CONNECT) \
  X(fallocate, FALLOCATE) \
  X(openat, OPENAT) \
  X(close, CLOSE) \
  X(files_update, FILES_UPDATE) \
  X(statx, STATX) \
  X(read, READ) \
  X(write, WRITE) \
  X(fadvise, FADVISE) \
  X(madvise, MADVISE) \
  X(send, SEND) \
  X(recv, RECV) \
  X(openat2, OPENAT2) \
  X(epoll_ctl, EPOLL_CTL) \
  X(splice, SPLICE) \
  X(provide_buffers, PROVIDE_BUFFERS) \
  X(remove_buffers, REMOVE_BUFFERS) \
  X(tee, TEE) \
  X(shutdown, SHUTDOWN) \
  X(renameat, RENAMEAT) \
  X(unlinkat, UNLINKAT) \
  X(mkdirat, MKDIRAT) \
  X(symlinkat, SYMLINKAT) \
  X(linkat, LINKAT) \
  X(msg_ring, MSG_RING) \
  X(fsetxattr, FSETXATTR) \
  X(setxattr, SETXATTR) \
  X(fgetxattr, FGETXATTR) \
  X(getxattr, GETXATTR) \
  X(socket, SOCKET) \
  X(uring_cmd, URING_CMD) \
  X(send_zc, SEND_ZC) \
  X(sendmsg_zc, SENDMSG_ZC) \
  X(read_multishot, READ_MULTISHOT) \
  X(waitid, WAITID) \
  X(futex_wait, FUTEX_WAIT) \
  X(futex_wake, FUTEX_WAKE) \
  X(futex_waitv, FUTEX_WAITV) \
  X(fixed_fd_install, FIXED_FD_INSTALL) \
  X(ftruncate, FTRUNCATE) \
  X(bind, BIND) \
  X(listen, LISTEN) \
  X(recv_zc, RECV_ZC) \
  X(epoll_wait, EPOLL_WAIT) \
  X(readv_fixed, READV_FIXED) \
  X(writev_fixed, WRITEV_FIXED) \
  X(pipe, PIPE) \
  X(nop128, NOP128) \
  X(uring_cmd128, URING_CMD128)
#define URINE_REGISTER_OPCODES(X) \
  X(register_buffers, REGISTER_BUFFERS) \
  X(unregister_buffers, UNREGISTER_BUFFERS) \
  X(register_files, REGISTER_FILES) \
  X(unregister_files, UNREGISTER_FILES) \
  X(register_eventfd, REGISTER_EVENTFD) \
  X(unregister_eventfd, UNREGISTER_EVENTFD) \
  X(register_files_update, REGISTER_FILES_UPDATE) \
  X(register_eventfd_async, REGISTER_EVENTFD_ASYNC) \
  X(register_probe, REGISTER_PROBE) \
  X(register_personality, REGISTER_PERSONALITY) \
  X(unregister_personality, UNREGISTER_PERSONALITY) \
  X(register_restrictions, REGISTER_RESTRICTIONS) \
  X(register_enable_rings, REGISTER_ENABLE_RINGS) \
  X(register_files2, REGISTER_FILES2) \
  X(register_files_update2, REGISTER_FILES_UPDATE2) \
  X(register_buffers2, REGISTER_BUFFERS2) \
  X(register_buffers_update, REGISTER_BUFFERS_UPDATE) \
  X(register_iowq_aff, REGISTER_IOWQ_AFF) \
  X(unregister_iowq_aff, UNREGISTER_IOWQ_AFF) \
  X(register_iowq_max_workers, REGISTER_IOWQ_MAX_WORKERS) \
  X(register_ring_fds, REGISTER_RING_FDS) \
  X(unregister_ring_fds, UNREGISTER_RING_FDS) \
  X(register_pbuf_ring, REGISTER_PBUF_RING) \
  X(unregister_pbuf_ring, UNREGISTER_PBUF_RING) \
  X(register_sync_cancel, REGISTER_SYNC_CANCEL) \
  X(register_file_alloc_range, REGISTER_FILE_ALLOC_RANGE) \
  X(register_pbuf_status, REGISTER_PBUF_STATUS) \
  X(register_napi, REGISTER_NAPI) \
  X(unregister_napi, UNREGISTER_NAPI) \
  X(register_clock, REGISTER_CLOCK) \
  X(register_clone_buffers, REGISTER_CLONE_BUFFERS) \
  X(register_send_msg_ring, REGISTER_SEND_MSG_RING) \
  X(register_zcrx_ifq, REGISTER_ZCRX_IFQ) \
  X(register_resize_rings, REGISTER_RESIZE_RINGS) \
  X(register_mem_region, REGISTER_MEM_REGION) \
  X(register_query, REGISTER_QUERY) \
  X(register_zcrx_ctrl, REGISTER_ZCRX_CTRL) \
  X(register_bpf_filter, REGISTER_BPF_FILTER)
// clang-format on

// The header's enums, named through one of their first enumerators (6.1's register enum has no
// name of its own).
using header_opcode = decltype(IORING_OP_NOP);
using header_register_opcode = decltype(IORING_REGISTER_BUFFERS);

// 1 when the header's enum `Header` declares `theirs` (then `ours` must have its value and
// `table[ours].name` its spelling without the IORING_ prefixes), otherwise 0.
#define URINE_COMPARE_IF_DECLARED(Header, ours, theirs, table, spelling)       \
  []<class E = Header>() -> unsigned {                                         \
    if constexpr (requires { E::theirs; }) {                                   \
      EXPECT_EQ(v(ours), static_cast<std::uint64_t>(E::theirs)) << #theirs;    \
      if (v(ours) < table.size())                                              \
        EXPECT_EQ(table[v(ours)].name, std::string_view{spelling}) << #theirs; \
      return 1;                                                                \
    } else {                                                                   \
      return 0;                                                                \
    }                                                                          \
  }()

#define URINE_PLUS_ONE(ours, NAME) +1

TEST(abi_constants, opcodes_match_system_header) {
  unsigned compared = 0;
#define URINE_COMPARE_OPCODE(ours, NAME) \
  compared +=                            \
      URINE_COMPARE_IF_DECLARED(header_opcode, opcode::ours, IORING_OP_##NAME, opcodes, #NAME);
  URINE_REQUEST_OPCODES(URINE_COMPARE_OPCODE)
#undef URINE_COMPARE_OPCODE
  EXPECT_EQ(compared, IORING_OP_LAST) << "the installed header has request opcodes urine lacks";
  EXPECT_EQ(0 URINE_REQUEST_OPCODES(URINE_PLUS_ONE), opcode_count) << "an opcode is missing above";
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

  // Newer than 6.1: compared where the installed header defines them.
#ifdef IORING_SETUP_NO_MMAP
  EXPECT_EQ(v(setup_flags::no_mmap), IORING_SETUP_NO_MMAP);
#endif
#ifdef IORING_SETUP_REGISTERED_FD_ONLY
  EXPECT_EQ(v(setup_flags::registered_fd_only), IORING_SETUP_REGISTERED_FD_ONLY);
#endif
#ifdef IORING_SETUP_NO_SQARRAY
  EXPECT_EQ(v(setup_flags::no_sqarray), IORING_SETUP_NO_SQARRAY);
#endif
#ifdef IORING_SETUP_HYBRID_IOPOLL
  EXPECT_EQ(v(setup_flags::hybrid_iopoll), IORING_SETUP_HYBRID_IOPOLL);
#endif
#ifdef IORING_SETUP_CQE_MIXED
  EXPECT_EQ(v(setup_flags::cqe_mixed), IORING_SETUP_CQE_MIXED);
#endif
#ifdef IORING_ENTER_ABS_TIMER
  EXPECT_EQ(v(enter_flags::abs_timer), IORING_ENTER_ABS_TIMER);
#endif
#ifdef IORING_ENTER_EXT_ARG_REG
  EXPECT_EQ(v(enter_flags::ext_arg_reg), IORING_ENTER_EXT_ARG_REG);
#endif
#ifdef IORING_ENTER_NO_IOWAIT
  EXPECT_EQ(v(enter_flags::no_iowait), IORING_ENTER_NO_IOWAIT);
#endif
#ifdef IORING_FEAT_REG_REG_RING
  EXPECT_EQ(v(feature_flags::reg_reg_ring), IORING_FEAT_REG_REG_RING);
#endif
#ifdef IORING_FEAT_RECVSEND_BUNDLE
  EXPECT_EQ(v(feature_flags::recvsend_bundle), IORING_FEAT_RECVSEND_BUNDLE);
#endif
#ifdef IORING_FEAT_MIN_TIMEOUT
  EXPECT_EQ(v(feature_flags::min_timeout), IORING_FEAT_MIN_TIMEOUT);
#endif
#ifdef IORING_FEAT_RW_ATTR
  EXPECT_EQ(v(feature_flags::rw_attr), IORING_FEAT_RW_ATTR);
#endif
#ifdef IORING_FEAT_NO_IOWAIT
  EXPECT_EQ(v(feature_flags::no_iowait), IORING_FEAT_NO_IOWAIT);
#endif
#ifdef IORING_CQE_F_BUF_MORE
  EXPECT_EQ(v(cqe_flags::buf_more), IORING_CQE_F_BUF_MORE);
#endif
#ifdef IORING_TIMEOUT_MULTISHOT
  EXPECT_EQ(v(timeout_flags::multishot), IORING_TIMEOUT_MULTISHOT);
#endif
#ifdef IORING_RECVSEND_BUNDLE
  EXPECT_EQ(v(recvsend_flags::bundle), IORING_RECVSEND_BUNDLE);
#endif
#ifdef IORING_ACCEPT_DONTWAIT
  EXPECT_EQ(v(accept_flags::dontwait), IORING_ACCEPT_DONTWAIT);
#endif
#ifdef IORING_ACCEPT_POLL_FIRST
  EXPECT_EQ(v(accept_flags::poll_first), IORING_ACCEPT_POLL_FIRST);
#endif
#ifdef IORING_MSG_RING_FLAGS_PASS
  EXPECT_EQ(v(msg_ring_flags::flags_pass), IORING_MSG_RING_FLAGS_PASS);
#endif
#ifdef IORING_FIXED_FD_NO_CLOEXEC
  EXPECT_EQ(v(install_fd_flags::no_cloexec), IORING_FIXED_FD_NO_CLOEXEC);
#endif
#ifdef IORING_NOP_INJECT_RESULT
  EXPECT_EQ(v(nop_flags::inject_result), IORING_NOP_INJECT_RESULT);
#endif
#ifdef IORING_URING_CMD_MASK
  EXPECT_EQ(v(uring_cmd_flags::mask), IORING_URING_CMD_MASK);
#endif
#ifdef IORING_OFF_PBUF_RING
  EXPECT_EQ(urine::abi::off_pbuf_ring, IORING_OFF_PBUF_RING);
  EXPECT_EQ(urine::abi::off_pbuf_shift, IORING_OFF_PBUF_SHIFT);
#endif
}

TEST(abi_constants, register_opcodes_match_system_header) {
  unsigned compared = 0;
#define URINE_COMPARE_REGISTER_OPCODE(ours, NAME)                                      \
  compared += URINE_COMPARE_IF_DECLARED(header_register_opcode, register_opcode::ours, \
                                        IORING_##NAME, register_opcode_table, #NAME);
  URINE_REGISTER_OPCODES(URINE_COMPARE_REGISTER_OPCODE)
#undef URINE_COMPARE_REGISTER_OPCODE
  EXPECT_EQ(compared, IORING_REGISTER_LAST)
      << "the installed header has register opcodes urine lacks";
  EXPECT_EQ(0 URINE_REGISTER_OPCODES(URINE_PLUS_ONE), register_opcode_count)
      << "a register opcode is missing above";
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
  EXPECT_TRUE(accepts_iopoll(opcode::read_fixed));
  EXPECT_TRUE(accepts_iopoll(opcode::uring_cmd128));
  EXPECT_FALSE(accepts_iopoll(opcode::fsync));
  EXPECT_FALSE(accepts_iopoll(static_cast<opcode>(200)));
  EXPECT_EQ(info(opcode::pipe).since, (kernel_version{6, 16}));
  EXPECT_EQ(register_opcode_table[v(register_opcode::register_query)].name, "REGISTER_QUERY");
  EXPECT_EQ(describe(setup_flags::sqpoll | setup_flags::sq_aff), "SQPOLL|SQ_AFF");
  EXPECT_EQ(describe(setup_flags(1u << 30)), "0x40000000");
}

}  // namespace
