// Between rings (msg_ring), processes and futexes, cancellation in every matching mode, linked
// chains, and the 6.19 opcodes that a 6.18 kernel must refuse.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <string>
import urine;
import urine.test_support;
import urine.ops_test_harness;

using namespace urine;
using namespace urine::test;
using namespace std::chrono_literals;

// ---- msg_ring ----------------------------------------------------------------------------------

TEST(msg_ring, passes_data_to_another_ring) {
  if (const auto why = lacks(opcode::msg_ring); !why.empty()) GTEST_SKIP() << why;
  auto a = open_ring();
  auto b = open_ring();
  auto sent = perform(a, ops::msg_ring{b.fd(), 99, 1234});
  ASSERT_EQ(sent.res, 0) << sent.error().message();
  auto got = reap(b);
  EXPECT_EQ(got.user_data, 1234u);
  EXPECT_EQ(got.res, 99);
  // With flags passed through, the target's completion carries them (here: a buffer id of 7).
  const std::uint32_t flags = bits(cqe_flags::buffer) | (7u << cqe_buffer_shift);
  const auto passed =
      perform(a, ops::msg_ring{.target = b.fd(), .value = 5, .data = 1235, .cqe_flags = flags});
  if (passed.error() == std::errc::invalid_argument)
    GTEST_SKIP() << "kernel lacks IORING_MSG_RING_FLAGS_PASS (since 6.3): "
                 << passed.error().message();
  ASSERT_EQ(passed.res, 0) << passed.error().message();
  got = reap(b);
  EXPECT_EQ(got.user_data, 1235u);
  EXPECT_TRUE(got.has_buffer());
  EXPECT_EQ(got.buffer_id(), 7);
  auto [r, w] = make_pipe();
  EXPECT_EQ(perform(a, ops::msg_ring{r.get(), 1, 1}).error(), errno_code(EBADFD));  // not a ring
}

TEST(msg_ring, passes_a_registered_file_to_another_ring) {
  if (const auto why = lacks(opcode::msg_ring); !why.empty()) GTEST_SKIP() << why;
  auto a = open_ring();
  auto b = open_ring();
  auto [r, w] = make_pipe();
  const int fds[] = {w.get()};
  ASSERT_EQ(install_files(a, fds), 0);
  ASSERT_EQ(install_sparse_files(b, 4), 0);
  auto sent = perform(
      a, ops::msg_ring_fd{
             .target = b.fd(), .source = fixed_file{0}, .slot = direct_slot{2}, .data = 77});
  ASSERT_EQ(sent.res, 0) << sent.error().message();
  auto got = reap(b);
  EXPECT_EQ(got.user_data, 77u);
  EXPECT_EQ(got.res, 0);
  // Ring b now owns the pipe's write end in slot 2: write through it, read it here.
  const std::string msg = "from ring b";
  ASSERT_EQ(perform(b, ops::write{fixed_file{2}, msg, current_position}).res, 11);
  char back[11];
  ASSERT_EQ(::read(r.get(), back, 11), 11);
  EXPECT_EQ(std::string(back, 11), msg);
  EXPECT_EQ(
      perform(a, ops::msg_ring_fd{.target = b.fd(), .source = fixed_file{3}, .slot = direct_alloc})
          .error(),
      std::errc::bad_file_descriptor);
}

// ---- processes and futexes ---------------------------------------------------------------------

TEST(process, waitid_reports_the_childs_exit_status) {
  if (auto why = lacks(opcode::waitid); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  const ::pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(42);
  ::siginfo_t info{};
  auto c = perform(
      ring,
      ops::waitid{.idtype = wait_idtype::pid, .id = static_cast<::id_t>(child), .info = &info});
  ASSERT_EQ(c.res, 0) << c.error().message();
  EXPECT_EQ(info.si_pid, child);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 42);
  EXPECT_EQ(perform(ring, ops::waitid{.idtype = wait_idtype::pid,
                                      .id = static_cast<::id_t>(child),
                                      .info = &info})
                .error(),
            std::errc::no_child_process);
}

TEST(process, futex_wait_is_woken_by_futex_wake) {
  if (auto why = lacks(opcode::futex_wait); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  alignas(4) std::uint32_t word = 0;
  push(ring, ops::futex_wait{&word, 0}, 1);
  ASSERT_TRUE(ring.submit());
  EXPECT_FALSE(ring.wait_for(1, 20ms).has_value() && ring.cq_ready() > 0);  // still asleep
  word = 1;
  push(ring, ops::futex_wake{&word, 1}, 2);
  ASSERT_TRUE(ring.submit());
  auto done = reap_n(ring, 2);
  EXPECT_EQ(done[2].res, 1);  // one waiter woken
  EXPECT_EQ(done[1].res, 0);
  EXPECT_EQ(perform(ring, ops::futex_wait{&word, 0}).error(),
            std::errc::resource_unavailable_try_again);
  EXPECT_EQ(perform(ring, ops::futex_wait{&word, 1, 0, futex2_flags(0x40)}).error(),
            std::errc::invalid_argument);
}

TEST(process, futex_waitv_reports_which_futex_woke) {
  if (auto why = lacks(opcode::futex_waitv); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  alignas(4) std::uint32_t w0 = 0, w1 = 0;
  const std::array<futex_waiter, 2> waiters{
      {{.value = 0, .address = reinterpret_cast<std::uintptr_t>(&w0)},
       {.value = 0, .address = reinterpret_cast<std::uintptr_t>(&w1)}}};
  auto done = arm_then(ring, ops::futex_waitv{waiters}, 3, ops::futex_wake{&w1, 1}, 4);
  EXPECT_EQ(done[4].res, 1);
  EXPECT_EQ(done[3].res, 1);  // the second futex
}

// ---- cancellation ------------------------------------------------------------------------------

// Kernels before 5.19 refuse every cancel flag, so the plain user-data match (the kernel's
// default) must reach them with none; other criteria keep theirs.
TEST(cancel, a_plain_user_data_match_sends_no_flags) {
  using ops::cancel_match;
  const auto prepared = [](const ops::async_cancel& op) {
    urine::abi::sqe s{};
    op.prepare(s);
    return s;
  };
  urine::abi::sqe s = prepared(ops::async_cancel{cancel_match::of(42)});
  EXPECT_EQ(s.cancel_flags, 0u);
  EXPECT_EQ(s.addr, 42u);
  s = prepared(ops::async_cancel{cancel_match::of(42), true});
  EXPECT_EQ(s.cancel_flags, bits(cancel_flags::all));
  s = prepared(
      ops::async_cancel{cancel_match::of(42) && cancel_match::of_opcode(opcode::poll_add)});
  EXPECT_EQ(s.cancel_flags, bits(cancel_flags::userdata | cancel_flags::op));
  s = prepared(ops::async_cancel{cancel_match::of_file(3)});
  EXPECT_EQ(s.cancel_flags, bits(cancel_flags::fd));
  EXPECT_EQ(s.fd, 3);
}

/// Empty when the kernel cancels by `match` with nothing in flight (ENOENT); otherwise why not:
/// a kernel without the criterion refuses its flag with EINVAL.
template <class Ring>
std::string lacks_cancel_by(Ring& ring, ops::cancel_match match, const char* criterion,
                            const char* since) {
  const auto answer = perform(ring, ops::async_cancel{match});
  if (answer.res == -EINVAL)
    return std::string("kernel lacks IORING_ASYNC_CANCEL_") + criterion + " (since " + since + ")";
  EXPECT_EQ(answer.error(), std::errc::no_such_file_or_directory)
      << "probing cancel by " << criterion;
  return {};
}

TEST(cancel, every_matching_mode) {
  auto ring = open_ring();
  auto [r, w] = make_pipe();
  const auto ten_s = to_timespec(10s);
  using ops::cancel_match;

  auto done =
      arm_then(ring, ops::poll_add{r.get()}, 1, ops::async_cancel{cancel_match::of(1)}, 100);
  EXPECT_EQ(done[100].res, 0);
  EXPECT_EQ(done[1].error(), std::errc::operation_canceled);
  EXPECT_EQ(perform(ring, ops::async_cancel{cancel_match::of(12345)}).error(),
            std::errc::no_such_file_or_directory);

  if (const auto why = lacks_cancel_by(ring, cancel_match::of_file(r.get()), "FD", "5.19");
      !why.empty())
    GTEST_SKIP() << why;
  // Kernels before 6.6 ignore the OP flag instead of refusing it, so no try tells.
  if (const auto why = predates({6, 6}, "cancelling by opcode (IORING_ASYNC_CANCEL_OP)");
      !why.empty())
    GTEST_SKIP() << why;

  push(ring, ops::poll_add{r.get()}, 2);
  push(ring, ops::poll_add{r.get()}, 3);
  ASSERT_TRUE(ring.submit());
  push(ring, ops::async_cancel{cancel_match::of_file(r.get()), true}, 101);
  ASSERT_TRUE(ring.submit());
  done = reap_n(ring, 3);
  EXPECT_EQ(done[101].res, 2);  // both polls on that descriptor
  EXPECT_EQ(done[2].error(), std::errc::operation_canceled);
  EXPECT_EQ(done[3].error(), std::errc::operation_canceled);

  const int fds[] = {r.get()};
  ASSERT_EQ(install_files(ring, fds), 0);
  done = arm_then(ring, ops::poll_add{fixed_file{0}}, 4,
                  ops::async_cancel{cancel_match::of_file(fixed_file{0})}, 102);
  EXPECT_EQ(done[102].res, 0);
  EXPECT_EQ(done[4].error(), std::errc::operation_canceled);

  push(ring, ops::timeout{&ten_s}, 5);
  push(ring, ops::timeout{&ten_s}, 6);
  push(ring, ops::poll_add{r.get()}, 7);
  ASSERT_TRUE(ring.submit());
  push(ring, ops::async_cancel{cancel_match::of_opcode(opcode::timeout), true}, 103);
  ASSERT_TRUE(ring.submit());
  done = reap_n(ring, 3);
  EXPECT_EQ(done[103].res, 2);  // the timeouts, not the poll
  EXPECT_EQ(done[5].error(), std::errc::operation_canceled);
  EXPECT_EQ(done[6].error(), std::errc::operation_canceled);
  EXPECT_EQ(done.count(7), 0u);

  // A timeout with the same user data as the poll: only the poll matches user data and opcode.
  done = arm_then(
      ring, ops::timeout{&ten_s}, 7,
      ops::async_cancel{cancel_match::of(7) && cancel_match::of_opcode(opcode::poll_add)}, 104);
  EXPECT_EQ(done[104].res, 0);
  EXPECT_EQ(done[7].error(), std::errc::operation_canceled);

  push(ring, ops::async_cancel{cancel_match::any(), true}, 105);  // the timeout 7 is left
  ASSERT_TRUE(ring.submit());
  done = reap_n(ring, 2);
  EXPECT_EQ(done[105].res, 1);
  EXPECT_EQ(done[7].error(), std::errc::operation_canceled);

  EXPECT_EQ(perform(ring, ops::async_cancel{cancel_match::any() && cancel_match::of_file(r.get())})
                .error(),
            std::errc::invalid_argument);
}

// ---- chains ------------------------------------------------------------------------------------

TEST(chain, linked_ops_run_in_order) {
  auto ring = open_ring();
  temp_dir dir;
  auto file = open_file(dir / "chain");
  const std::string data = "linked write";
  std::string back(data.size(), '\0');
  auto s =
      submit_chain(ring, linked{ops::write{file.get(), data, 0}, 1},
                   linked{ops::fsync{file.get()}, 2}, linked{ops::read{file.get(), back, 0}, 3});
  ASSERT_TRUE(s) << s.error().message();
  auto done = reap_n(ring, 3);
  EXPECT_EQ(done[1].res, 12);
  EXPECT_EQ(done[2].res, 0);
  EXPECT_EQ(done[3].res, 12);
  EXPECT_EQ(back, data);
}

template <class R>
using chains = on_rings<R>;
TYPED_TEST_SUITE(chains, ring_configs);

TYPED_TEST(chains, failure_cancels_the_rest) {
  auto ring = open_ring<TypeParam>();
  std::array<char, 4> buf{};
  ASSERT_TRUE(submit_chain(ring, linked{ops::read{9999, buf}, 1}, linked{ops::nop{}, 2},
                           linked{ops::nop{}, 3}));
  auto done = reap_n(ring, 3);
  EXPECT_EQ(done[1].error(), std::errc::bad_file_descriptor);
  EXPECT_EQ(done[2].error(), std::errc::operation_canceled);
  EXPECT_EQ(done[3].error(), std::errc::operation_canceled);
}

TEST(chain, trailing_link_timeout_bounds_the_chain) {
  auto ring = open_ring();
  auto [r, w] = make_pipe();
  std::array<char, 4> buf{};
  const auto ts = to_timespec(10ms);
  ASSERT_TRUE(
      submit_chain(ring, linked{ops::read{r.get(), buf}, 1}, linked{ops::link_timeout{&ts}, 2}));
  auto done = reap_n(ring, 2);
  EXPECT_EQ(done[1].error(), std::errc::operation_canceled);
  EXPECT_EQ(done[2].error(), std::errc::stream_timeout);
}

TEST(chain, refused_whole_when_the_sq_lacks_room) {
  auto ring = open_ring(4);
  ASSERT_TRUE(ring.push(ops::nop{}));
  EXPECT_FALSE(push_chain(ring, linked{ops::nop{}}, linked{ops::nop{}}, linked{ops::nop{}},
                          linked{ops::nop{}}));
  EXPECT_EQ(ring.sq_ready(), 1u);  // nothing of the chain was pushed
  auto s = submit_chain(ring, linked{ops::nop{}}, linked{ops::nop{}}, linked{ops::nop{}},
                        linked{ops::nop{}});
  EXPECT_EQ(s.error(), std::errc::device_or_resource_busy);
  EXPECT_TRUE(
      push_chain(ring, linked{ops::nop{}, 1}, linked{ops::nop{}, 2}, linked{ops::nop{}, 3}));
  ASSERT_TRUE(ring.submit());
  auto done = reap_n(ring, 4);
  EXPECT_EQ(done[3].res, 0);
}

// ---- 6.19 opcodes and 128-byte commands --------------------------------------------------------

TEST(big_sqe, nop128_and_uring_cmd128_are_refused_by_6_18) {
  if (const auto why = lacks(setup_flags::sqe128); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring<urine::ring<sqe128>>();
  auto [client, server] = tcp_pair();
  auto n = perform(ring, ops::nop128{});
  auto c = perform(
      ring, ops::uring_cmd128{server.get(), static_cast<std::uint32_t>(socket_cmd::siocinq)});
  if (kernel_has(opcode::nop128)) {
    EXPECT_EQ(n.res, 0);
  } else {
    std::cout << "kernel lacks IORING_OP_NOP128: " << n.error().message() << '\n';
    EXPECT_EQ(n.error(), std::errc::invalid_argument);
  }
  if (!kernel_has(opcode::uring_cmd128)) EXPECT_EQ(c.error(), std::errc::invalid_argument);
  // The 80-byte URING_CMD form is the 6.18 way to carry a big payload; sockets ignore it.
  ASSERT_EQ(::send(client.get(), "abc", 3, 0), 3);
  const auto inq80 = perform(
      ring, ops::uring_cmd80{server.get(), static_cast<std::uint32_t>(socket_cmd::siocinq)});
  if (inq80.error() == std::errc::operation_not_supported)
    GTEST_SKIP() << "kernel lacks URING_CMD on sockets (since 6.7): " << inq80.error().message();
  EXPECT_EQ(inq80.res, 3);
  EXPECT_EQ(
      perform(ring, ops::uring_cmd{server.get(), static_cast<std::uint32_t>(socket_cmd::siocinq)})
          .res,
      3);
}
