// Zero-copy sends awaited with a zc_tracker: the sender resumes on the send's first completion,
// with the bytes sent, while its buffer stays counted as the kernel's until the notification;
// drained() waits for the notifications; the CQ budget counts them (a small CQ never overflows),
// a stop request still cancels, and a runtime destroyed with a notification to come collects it.
// Real TCP connections over loopback; the bytes the peer receives are checked.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdlib>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using namespace urine;
using namespace std::chrono_literals;
using async::task;
using rt_type = async::runtime<>;

/// The default runtime, and SEND_ZC (6.0).
class async_zero_copy : public test::default_runtime_test {
 protected:
  void SetUp() override {
    test::default_runtime_test::SetUp();
    if (IsSkipped()) return;
    if (const std::string why = test::lacks(opcode::send_zc); !why.empty()) GTEST_SKIP() << why;
  }
};
using async_zero_copy_death = async_zero_copy;

/// `n` bytes from `fd`, waiting at most 5 s (an empty string when they do not come).
std::string receive(int fd, std::size_t n) {
  const ::timeval bound{.tv_sec = 5, .tv_usec = 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound) != 0) return {};
  std::string got(n, '\0');
  std::size_t have = 0;
  while (have < n) {
    const ::ssize_t r = ::recv(fd, got.data() + have, n - have, 0);
    if (r <= 0) return {};
    have += static_cast<std::size_t>(r);
  }
  return got;
}

/// A connection whose receiver's window is full: the backlog sent on it waits in the sender's
/// write queue, so what is sent after it is acknowledged — and a zero-copy send's notification
/// posted — only once the receiver reads.
struct held_connection {
  test::unique_fd client;
  test::unique_fd server;
  std::string backlog;
};
held_connection with_full_window() {
  auto [listener, addr] = test::tcp_listener(1);
  const int small = 4096;  // inherited by the accepted socket: a small receive window
  EXPECT_EQ(::setsockopt(listener.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  held_connection c;
  c.client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int large = 256 * 1024;  // room for the backlog on the sender's side
  EXPECT_EQ(::setsockopt(c.client.get(), SOL_SOCKET, SO_SNDBUF, &large, sizeof large), 0);
  EXPECT_EQ(::connect(c.client.get(), reinterpret_cast<const ::sockaddr*>(&addr), sizeof addr), 0);
  c.server.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_TRUE(c.server);
  const std::string filler = test::pattern(64 * 1024, 9);
  const ::ssize_t sent = ::send(c.client.get(), filler.data(), filler.size(), MSG_DONTWAIT);
  c.backlog = filler.substr(0, sent > 0 ? static_cast<std::size_t>(sent) : 0);
  // What the window did not take waits with the sender: the window is shut.
  int unsent = 0;
  EXPECT_EQ(::ioctl(c.client.get(), SIOCOUTQNSD, &unsent), 0);
  EXPECT_GT(unsent, 0) << "the receiver's window took the whole backlog of " << sent << " bytes";
  return c;
}

TEST_F(async_zero_copy, a_send_resumes_with_its_bytes_before_its_notification) {
  auto [client, server] = test::tcp_pair();
  const std::string data = test::pattern(3000);
  async::zc_tracker tracker;
  rt_type rt;
  rt.run(
      [](rt_type& rt, int fd, const std::string& data, async::zc_tracker& tracker) -> task<void> {
        auto r = co_await rt.op(ops::send_zc{fd, data}, tracker);
        EXPECT_EQ(r.raw(), 3000) << r.error().message();
        EXPECT_TRUE(r.more()) << "the send's own completion: a notification follows";
        // The notification cannot have been taken before the send's waiter ran.
        EXPECT_EQ(tracker.pending(), 1u);
        EXPECT_EQ(tracker.notifications(), 0u);
        EXPECT_EQ(rt.in_flight(), 1u) << "the notification's CQ slot stays reserved";
        co_await tracker.drained();
        EXPECT_EQ(tracker.pending(), 0u);
        EXPECT_EQ(tracker.notifications(), 1u);
        EXPECT_EQ(rt.in_flight(), 0u);
      }(rt, client.get(), data, tracker));
  EXPECT_EQ(receive(server.get(), data.size()), data);
}

TEST_F(async_zero_copy, copied_counts_the_notifications_that_say_the_kernel_copied) {
  auto [client, server] = test::tcp_pair();
  const std::string data = test::pattern(1000);
  async::zc_tracker tracker;
  rt_type rt;
  int result = 0;
  rt.run([](rt_type& rt, int fd, const std::string& data, async::zc_tracker& tracker,
            int& result) -> task<void> {
    const ops::send_zc report{
        .file = fd, .from = data, .io_flags = recvsend_flags::send_zc_report_usage};
    result = (co_await rt.op(report, tracker)).raw();
    co_await tracker.drained();
  }(rt, client.get(), data, tracker, result));
  if (result == -EINVAL) GTEST_SKIP() << "kernel lacks IORING_SEND_ZC_REPORT_USAGE (since 6.2)";
  EXPECT_EQ(result, 1000);
  EXPECT_EQ(tracker.notifications(), 1u);
  EXPECT_EQ(tracker.copied(), 1u) << "over loopback the kernel copies for the receiver";
  EXPECT_EQ(receive(server.get(), data.size()), data);
}

TEST_F(async_zero_copy, a_failed_send_resumes_with_its_error_and_is_tracked_to_its_end) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const test::unique_fd in(p[0]), out(p[1]);
  const std::string data = test::pattern(100);
  async::zc_tracker tracker;
  rt_type rt;
  rt.run(
      [](rt_type& rt, int fd, const std::string& data, async::zc_tracker& tracker) -> task<void> {
        auto r = co_await rt.op(ops::send_zc{fd, data}, tracker);
        EXPECT_EQ(r.raw(), -ENOTSOCK);
        // A notification follows when the kernel had prepared one; pending() counts it either way.
        EXPECT_EQ(tracker.pending(), r.more() ? 1u : 0u);
        co_await tracker.drained();
        EXPECT_EQ(tracker.notifications(), r.more() ? 1u : 0u);
        EXPECT_EQ(rt.in_flight(), 0u);
      }(rt, out.get(), data, tracker));
}

TEST_F(async_zero_copy, without_a_tracker_a_send_resumes_on_its_notification_with_its_bytes) {
  held_connection c = with_full_window();
  const std::string data = test::pattern(3000);
  rt_type rt;
  bool resumed = false;
  rt.spawn([](rt_type& rt, int fd, const std::string& data, bool& resumed) -> task<void> {
    auto r = co_await rt.op(ops::send_zc{fd, data});
    resumed = true;
    EXPECT_EQ(r.raw(), 3000) << "the send's result, not the notification's";
    EXPECT_FALSE(r.more());
  }(rt, c.client.get(), data, resumed));
  rt.run([](rt_type& rt, held_connection& c, const std::string& data, bool& resumed) -> task<void> {
    (void)co_await async::sleep_for(rt, 20ms);
    EXPECT_FALSE(resumed) << "the kernel still holds the buffer: the receiver has not read";
    EXPECT_EQ(receive(c.server.get(), c.backlog.size() + data.size()), c.backlog + data);
    co_await rt.join();
    EXPECT_TRUE(resumed);
  }(rt, c, data, resumed));
}

TEST_F(async_zero_copy, the_sender_goes_on_while_the_kernel_holds_its_buffer) {
  held_connection c = with_full_window();
  const std::string first = test::pattern(3000, 1), second = test::pattern(2000, 2);
  async::zc_tracker tracker;
  rt_type rt;
  rt.run([](rt_type& rt, held_connection& c, const std::string& first, const std::string& second,
            async::zc_tracker& tracker) -> task<void> {
    auto r1 = co_await rt.op(ops::send_zc{c.client.get(), first}, tracker);
    EXPECT_EQ(r1.raw(), 3000) << r1.error().message();
    // The receiver has not read: its window is shut, the bytes are unacknowledged, and the
    // kernel still holds the buffer — which does not keep the sender waiting.
    (void)co_await async::sleep_for(rt, 20ms);
    EXPECT_EQ(tracker.pending(), 1u);
    auto r2 = co_await rt.op(ops::send_zc{c.client.get(), second}, tracker);
    EXPECT_EQ(r2.raw(), 2000) << r2.error().message();
    EXPECT_EQ(tracker.pending(), 2u);
    EXPECT_EQ(tracker.notifications(), 0u);
    // The receiver reads everything: the window opens, the bytes are acknowledged.
    EXPECT_EQ(receive(c.server.get(), c.backlog.size() + first.size() + second.size()),
              c.backlog + first + second);
    co_await tracker.drained();
    EXPECT_EQ(tracker.notifications(), 2u);
    EXPECT_EQ(rt.in_flight(), 0u);
  }(rt, c, first, second, tracker));
}

TEST_F(async_zero_copy, sendmsg_zc_sends_its_vector_and_is_tracked) {
  if (const std::string why = test::lacks(opcode::sendmsg_zc); !why.empty()) GTEST_SKIP() << why;
  auto [client, server] = test::tcp_pair();
  std::string head = "zero-copy ", tail = test::pattern(5000, 3);
  ::iovec iov[2] = {{head.data(), head.size()}, {tail.data(), tail.size()}};
  ::msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  async::zc_tracker tracker;
  rt_type rt;
  rt.run([](rt_type& rt, int fd, const ::msghdr& m, async::zc_tracker& tracker) -> task<void> {
    auto r = co_await rt.op(ops::sendmsg_zc{fd, &m}, tracker);
    EXPECT_EQ(r.raw(), 5010) << r.error().message();
    EXPECT_EQ(tracker.pending(), 1u);
    co_await tracker.drained();
    EXPECT_EQ(tracker.notifications(), 1u);
  }(rt, client.get(), m, tracker));
  EXPECT_EQ(receive(server.get(), head.size() + tail.size()), head + tail);
}

/// `count` sends of `size` bytes of `data`, one after the other, without waiting for
/// notifications: each message has its own part of `data`, which no one reuses.
task<void> stream(rt_type& rt, int fd, const std::string& data, std::size_t size,
                  async::zc_tracker& tracker, int& failures) {
  for (std::size_t at = 0; at < data.size(); at += size) {
    auto r = co_await rt.op(ops::send_zc{fd, std::span(data.data() + at, size)}, tracker);
    if (r.raw() != static_cast<int>(size)) ++failures;
  }
}

TEST_F(async_zero_copy, notifications_hold_cq_slots_so_a_small_cq_never_overflows) {
  constexpr std::size_t connections = 4, sends = 32, size = 512;
  std::vector<std::pair<test::unique_fd, test::unique_fd>> pairs;
  std::vector<std::string> data;
  for (std::size_t i = 0; i < connections; ++i) {
    pairs.push_back(test::tcp_pair());
    data.push_back(test::pattern(sends * size, static_cast<unsigned>(i + 10)));
  }
  async::zc_tracker tracker;  // shared: first completions of several sends in flight at once
  rt_type rt(setup{.entries = 4, .cq_entries = 8});
  int failures = 0;
  rt.run([](rt_type& rt, auto& pairs, const auto& data, async::zc_tracker& tracker,
            int& failures) -> task<void> {
    for (std::size_t i = 0; i < pairs.size(); ++i)
      rt.spawn(stream(rt, pairs[i].first.get(), data[i], size, tracker, failures));
    co_await rt.join();
    co_await tracker.drained();
  }(rt, pairs, data, tracker, failures));
  EXPECT_EQ(failures, 0);
  EXPECT_GT(rt.parked_total(), 0u) << "four sends of two slots each do not fit a budget of 7";
  EXPECT_EQ(tracker.notifications(), connections * sends);
  EXPECT_EQ(rt.overflow_events(), 0u);
  EXPECT_EQ(rt.in_flight(), 0u);
  for (std::size_t i = 0; i < connections; ++i)
    EXPECT_EQ(receive(pairs[i].second.get(), data[i].size()), data[i]) << "connection " << i;
}

/// A TCP socket that stays connecting: its listener's accept queue is full (a backlog of 0 and
/// one connection nobody accepts), so its SYNs are dropped, and a send on it waits in the kernel
/// for a connection that does not come. (A full send buffer does not keep every kernel's
/// zero-copy send waiting.)
struct connecting_socket {
  test::unique_fd listener, queued, socket;
};
connecting_socket still_connecting() {
  auto [listener, addr] = test::loopback_socket(SOCK_STREAM);
  connecting_socket c;
  c.listener = std::move(listener);
  EXPECT_EQ(::listen(c.listener.get(), 0), 0);
  const auto* to = reinterpret_cast<const ::sockaddr*>(&addr);
  c.queued.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(c.queued.get(), to, sizeof addr), 0);
  c.socket.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(c.socket.get(), to, sizeof addr), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  ::tcp_info info{};
  ::socklen_t size = sizeof info;
  EXPECT_EQ(::getsockopt(c.socket.get(), IPPROTO_TCP, TCP_INFO, &info, &size), 0);
  EXPECT_EQ(info.tcpi_state, TCP_SYN_SENT) << "the connection is still being made";
  return c;
}

TEST_F(async_zero_copy, a_stopped_send_resumes_cancelled_and_its_notification_is_tracked) {
  connecting_socket c = still_connecting();
  const std::string data = test::pattern(4096);
  async::zc_tracker tracker;
  std::stop_source stop;
  rt_type rt;
  rt.run([](rt_type& rt, int fd, const std::string& data, async::zc_tracker& tracker,
            std::stop_source& stop) -> task<void> {
    rt.spawn([](rt_type& rt, std::stop_source& stop) -> task<void> {
      (void)co_await rt.op(ops::nop{});
      (void)co_await rt.op(ops::nop{});
      stop.request_stop();
    }(rt, stop));
    // Not connected: the send waits in the kernel until the stop cancels it.
    auto r = co_await rt.op(ops::send_zc{fd, data}, tracker, stop.get_token());
    EXPECT_EQ(r.error(), std::errc::operation_canceled);
    EXPECT_EQ(tracker.pending(), r.more() ? 1u : 0u);
    co_await tracker.drained();
    EXPECT_EQ(tracker.notifications(), r.more() ? 1u : 0u);
    co_await rt.join();
    EXPECT_EQ(rt.in_flight(), 0u);
  }(rt, c.socket.get(), data, tracker, stop));
}

TEST_F(async_zero_copy, a_send_stopped_before_submission_never_reaches_the_kernel) {
  auto [client, server] = test::tcp_pair();
  const std::string data = test::pattern(100);
  async::zc_tracker tracker;
  std::stop_source stop;
  stop.request_stop();
  rt_type rt;
  rt.run([](rt_type& rt, int fd, const std::string& data, async::zc_tracker& tracker,
            std::stop_token token) -> task<void> {
    auto r = co_await rt.op(ops::send_zc{fd, data}, tracker, token);
    EXPECT_EQ(r.error(), std::errc::operation_canceled);
    EXPECT_FALSE(r.more());
    EXPECT_EQ(tracker.pending(), 0u);
    EXPECT_EQ(rt.in_flight(), 0u);
  }(rt, client.get(), data, tracker, stop.get_token()));
  char byte;
  EXPECT_EQ(::recv(server.get(), &byte, 1, MSG_DONTWAIT), -1) << "nothing was sent";
}

TEST_F(async_zero_copy, a_runtime_destroyed_with_a_notification_to_come_collects_it) {
  held_connection c = with_full_window();
  const std::string data = test::pattern(3000);
  async::zc_tracker tracker;  // outlives the runtime: the runtime collects its notification
  const std::size_t fds = test::fd_count(), maps = test::mapping_count();
  std::string received;
  std::jthread reader;
  const auto start = std::chrono::steady_clock::now();
  {
    rt_type rt;
    rt.run(
        [](rt_type& rt, int fd, const std::string& data, async::zc_tracker& tracker) -> task<void> {
          auto r = co_await rt.op(ops::send_zc{fd, data}, tracker);
          EXPECT_EQ(r.raw(), 3000) << r.error().message();
        }(rt, c.client.get(), data, tracker));
    EXPECT_EQ(tracker.pending(), 1u) << "the receiver has not read: the kernel holds the buffer";
    EXPECT_EQ(rt.in_flight(), 1u);
    // The receiver reads a while after the runtime's destructor has begun waiting.
    reader = std::jthread([&] {
      std::this_thread::sleep_for(100ms);
      received = receive(c.server.get(), c.backlog.size() + data.size());
    });
  }
  EXPECT_EQ(tracker.pending(), 0u) << "the destructor waited for the notification";
  EXPECT_EQ(tracker.notifications(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  reader.join();
  EXPECT_EQ(received, c.backlog + data);
  EXPECT_EQ(test::fd_count(), fds) << "the ring's descriptor closed";
  EXPECT_EQ(test::mapping_count(), maps) << "the ring's mappings released";
}

TEST_F(async_zero_copy_death, a_tracker_destroyed_with_a_notification_to_come_aborts) {
#ifdef NDEBUG
  GTEST_SKIP() << "the check is compiled into debug builds only";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        held_connection c = with_full_window();
        const std::string data = test::pattern(3000);
        rt_type rt;
        {
          async::zc_tracker tracker;
          rt.run([](rt_type& rt, int fd, const std::string& data,
                    async::zc_tracker& tracker) -> task<void> {
            (void)co_await rt.op(ops::send_zc{fd, data}, tracker);
          }(rt, c.client.get(), data, tracker));
          if (tracker.pending() != 1) std::_Exit(0);  // nothing held: no death, the test fails
        }
      },
      "zc_tracker was destroyed while the kernel still holds the buffer");
#endif
}

}  // namespace
