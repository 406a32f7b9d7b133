// Multishot sequences: accept yielding every connection, recv on a provided-buffer ring across
// ENOBUFS with re-arming, multishot timeouts and polls, completions buffered while nobody awaits,
// storage overruns, receives that outgrow the storage losing nothing, and close() draining with
// everything produced released.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstring>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>
#include "pipe.hpp"
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_sequence = urine::test::default_runtime_test;

using namespace urine;
using namespace std::chrono_literals;
using async::task;
using rt_type = async::runtime<>;

test::unique_fd connect_to(const ::sockaddr_in& addr) {
  test::unique_fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(c.get(), reinterpret_cast<const ::sockaddr*>(&addr), sizeof addr) != 0) return {};
  return c;
}

TEST_F(async_sequence, multishot_accept_yields_every_connection) {
  auto [listener, addr] = test::tcp_listener(64);
  rt_type rt;
  const std::size_t fds = test::fd_count();
  constexpr int clients = 20;
  std::vector<test::unique_fd> cs;
  for (int i = 0; i < clients; ++i) cs.push_back(connect_to(addr));
  rt.run([](rt_type& rt, int listener, std::vector<test::unique_fd>& cs) -> task<void> {
    auto accepts = async::multishot(
        rt, ops::accept{
                .file = listener, .flags = sock_flags::cloexec, .mode = accept_flags::multishot});
    for (int i = 0; i < clients; ++i) {
      auto conn = co_await accepts.next();
      EXPECT_TRUE(conn.has_value());
      if (!conn || !*conn) continue;
      test::unique_fd server_side(**conn);
      // The descriptor is a live connection to one of the clients: a byte crosses it.
      EXPECT_EQ(::send(server_side.get(), "!", 1, 0), 1);
    }
    EXPECT_TRUE(accepts.armed());
    co_await accepts.close();
    EXPECT_FALSE(accepts.armed());
    EXPECT_FALSE(co_await accepts.next()) << "a closed sequence yields nothing more";
    for (auto& c : cs) {
      char b = 0;
      EXPECT_EQ(::recv(c.get(), &b, 1, 0), 1);
      EXPECT_EQ(b, '!');
    }
  }(rt, listener.get(), cs));
  cs.clear();
  EXPECT_EQ(rt.in_flight(), 0u);
  EXPECT_EQ(test::fd_count(), fds);
}

TEST_F(async_sequence, completions_nobody_awaits_are_buffered_and_an_overrun_is_released) {
  auto [listener, addr] = test::tcp_listener(64);
  rt_type rt;
  const std::size_t fds = test::fd_count();
  constexpr int clients = 10;
  constexpr int capacity = 4;
  // Every connection waits in the backlog before the request is armed, so the kernel posts all
  // ten accepts at once, when it is submitted.
  std::vector<test::unique_fd> cs;
  for (int i = 0; i < clients; ++i) cs.push_back(connect_to(addr));
  int yielded = 0;
  std::size_t overruns = 0;
  rt.run([](rt_type& rt, int listener, int& yielded, std::size_t& overruns) -> task<void> {
    async::sequence<rt_type, ops::accept, capacity> accepts(
        rt, ops::accept{
                .file = listener, .flags = sock_flags::cloexec, .mode = accept_flags::multishot});
    auto take = [&yielded](const auto& conn) {
      EXPECT_TRUE(*conn) << conn->error().message();
      if (*conn) ::close(**conn);
      ++yielded;
    };
    auto first = co_await accepts.next();
    EXPECT_TRUE(first.has_value());
    if (!first) co_return;
    take(first);
    // Busy elsewhere while the other nine are dispatched: four fit, five are released.
    (void)co_await rt.op(ops::nop{});
    while (auto conn = co_await accepts.next()) take(conn);
    overruns = accepts.overruns();
    EXPECT_FALSE(accepts.armed()) << "an overrun cancels the request";
  }(rt, listener.get(), yielded, overruns));
  EXPECT_EQ(yielded, 1 + capacity);
  EXPECT_EQ(static_cast<int>(overruns), clients - 1 - capacity);
  cs.clear();
  EXPECT_EQ(test::fd_count(), fds) << "overrun descriptors are closed, not leaked";
}

// 200 bytes on a ring of 4 buffers of 16 bytes, the task keeping every lease until ENOBUFS:
// whatever the storage, every byte comes in order and the sequence re-arms across ENOBUFS.
template <std::size_t Capacity>
void recv_across_enobufs() {
  rt_type rt;
  auto buffers = register_buffer_ring(rt.ring(), {.group = 5, .entries = 4, .buffer_size = 16});
  ASSERT_TRUE(buffers.has_value()) << buffers.error().message();
  auto [client, server] = test::unix_pair();
  const std::string sent = test::pattern(200);
  ASSERT_EQ(::send(client.get(), sent.data(), sent.size(), 0), static_cast<ssize_t>(sent.size()));
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  std::string received;
  int enobufs = 0;
  std::size_t arms = 0, overruns = 1;
  rt.run([](rt_type& rt, buffer_ring& buffers, int fd, std::string& received, int& enobufs,
            std::size_t& arms, std::size_t& overruns) -> task<void> {
    async::sequence<rt_type, ops::recv, Capacity> recvs(
        rt,
        ops::recv{.file = fd, .into = buffer_group{5}, .io_flags = recvsend_flags::recv_multishot},
        {.mode = async::rearm::always, .buffers = &buffers});
    std::vector<provided_buffer> held;  // leases kept until the ring runs dry
    while (auto r = co_await recvs.next()) {
      if (!*r) {
        EXPECT_EQ(r->error(), std::errc::no_buffer_space) << r->error().message();
        ++enobufs;
        held.clear();  // buffers back to the ring; the next next() re-arms
        continue;
      }
      if (**r == 0) break;  // end of stream
      auto lease = buffers.take(r->raw(), r->flags());
      EXPECT_TRUE(lease.has_value());
      if (!lease) break;
      received += lease->text();
      held.push_back(std::move(*lease));
    }
    arms = recvs.arms();
    overruns = recvs.overruns();
  }(rt, *buffers, server.get(), received, enobufs, arms, overruns));
  EXPECT_EQ(received, sent);
  EXPECT_GT(enobufs, 0) << "4 buffers of 16 bytes cannot take 200 bytes without running dry";
  EXPECT_GT(arms, 1u);
  EXPECT_EQ(overruns, 0u);
  EXPECT_EQ(buffers->available(), 4u);
  EXPECT_EQ(rt.in_flight(), 0u);
}

TEST_F(async_sequence, recv_on_a_provided_buffer_ring_surfaces_enobufs_and_rearms) {
  recv_across_enobufs<32>();
}

TEST_F(async_sequence, recv_with_a_storage_smaller_than_its_buffer_ring_rearms_across_enobufs) {
  recv_across_enobufs<2>();
}

// A burst far larger than the storage of a receive on a buffer ring: the peer sends while the
// task takes nothing, until the kernel has delivered every byte to the sequence.
constexpr std::size_t tiny_storage = 2;
using tiny_recv_sequence = async::sequence<rt_type, ops::recv, tiny_storage>;

/// How a burst ends: the task yields everything, the peer closes its side after it, the task
/// closes the sequence with everything still buffered, or cancels it and leaves the rest to the
/// sequence's destructor.
enum class burst_end : std::uint8_t { yield_all, end_of_stream, close, destroy };

/// Lets the runtime reap until `done()` says so, for at most 5 s.
template <class Done>
task<void> until(rt_type& rt, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline)
    (void)co_await async::sleep_for(rt, 1ms);
}

struct burst_outcome {
  std::string received;
  std::size_t buffered_before_taking = 0;
  std::size_t overruns = 1;
  bool end_of_stream_last = false;  ///< the end of stream came after every byte, and then nothing
};

task<void> burst(rt_type& rt, buffer_ring& buffers, int client, int server, const std::string& sent,
                 std::size_t message, burst_end end, burst_outcome& out) {
  tiny_recv_sequence recvs(rt,
                           ops::recv{.file = server,
                                     .into = buffer_group{buffers.group()},
                                     .io_flags = recvsend_flags::recv_multishot},
                           {.buffers = &buffers});
  EXPECT_EQ(::send(client, sent.data(), message, 0), static_cast<ssize_t>(message));
  auto take = [&](const rt_type::result_type& r) {
    auto lease = buffers.take(r.raw(), r.flags());
    EXPECT_TRUE(lease.has_value());
    if (lease) out.received += lease->text();  // the lease gives the buffer back at once
  };
  auto first = co_await recvs.next();  // armed, and the connection is live
  EXPECT_TRUE(first && *first);
  if (!first || !*first) co_return;
  take(*first);
  for (std::size_t at = message; at < sent.size(); at += message)
    EXPECT_EQ(::send(client, sent.data() + at, message, 0), static_cast<ssize_t>(message));
  if (end == burst_end::end_of_stream) EXPECT_EQ(::shutdown(client, SHUT_WR), 0);
  // Every completion holds at most one buffer's bytes: once every byte has reached the
  // sequence, it holds at least this many (plus the end of stream, which ends the request).
  const std::size_t rest = (sent.size() - message) / buffers.buffer_size();
  co_await until(rt, [&] { return !recvs.armed() || recvs.buffered() >= rest; });
  if (end == burst_end::end_of_stream) co_await until(rt, [&] { return !recvs.armed(); });
  out.buffered_before_taking = recvs.buffered();
  out.overruns = recvs.overruns();
  if (end == burst_end::close) {
    co_await recvs.close();
    EXPECT_EQ(recvs.buffered(), 0u);
  } else if (end == burst_end::destroy) {
    recvs.cancel();
    co_await until(rt, [&] { return !recvs.armed(); });
    EXPECT_FALSE(recvs.armed());
    if (recvs.armed()) co_await recvs.close();  // a sequence must not be destroyed armed
    EXPECT_EQ(recvs.buffered(), out.buffered_before_taking) << "the cancel took nothing";
  } else {
    while (auto r = co_await recvs.next()) {
      EXPECT_FALSE(out.end_of_stream_last) << "a completion after the end of stream";
      EXPECT_TRUE(*r) << r->error().message();
      if (!*r) break;
      if (**r == 0 && !r->has_buffer()) {
        out.end_of_stream_last = out.received == sent;
        continue;
      }
      take(*r);
      if (end == burst_end::yield_all && out.received.size() == sent.size()) break;
    }
    co_await recvs.close();
    out.overruns = recvs.overruns();
  }
}

burst_outcome run_burst(burst_end end) {
  rt_type rt;
  auto buffers = register_buffer_ring(rt.ring(), {.group = 8, .entries = 64, .buffer_size = 64});
  EXPECT_TRUE(buffers.has_value()) << buffers.error().message();
  if (!buffers) return {};
  auto [client, server] = test::tcp_pair();
  const std::string sent = test::pattern(40 * 64);
  burst_outcome out;
  rt.run(burst(rt, *buffers, client.get(), server.get(), sent, 64, end, out));
  EXPECT_EQ(buffers->available(), 64u) << "every provided buffer is back in the ring";
  EXPECT_EQ(rt.in_flight(), 0u);
  if (end == burst_end::yield_all || end == burst_end::end_of_stream) {
    EXPECT_EQ(out.received.size(), sent.size());
    EXPECT_TRUE(out.received == sent) << "each byte once, in order";
  }
  EXPECT_GT(out.buffered_before_taking, tiny_storage)
      << "the kernel delivered no more than the storage before the task took any";
  EXPECT_EQ(out.overruns, 0u);
  return out;
}

// A re-arming receive whose task takes nothing while its peer sends pauses once its storage is
// full: what the peer sends after that stays in the socket, and the buffers the ring shares stay
// in the ring. Taking the completions re-arms it, and every byte arrives once, in order.
task<void> paused_burst(rt_type& rt, buffer_ring& buffers, int client, int server,
                        const std::string& sent, std::size_t& unread_while_paused,
                        std::string& received, std::size_t& arms, std::size_t& overruns) {
  tiny_recv_sequence recvs(rt,
                           ops::recv{.file = server,
                                     .into = buffer_group{buffers.group()},
                                     .io_flags = recvsend_flags::recv_multishot},
                           {.mode = async::rearm::always, .buffers = &buffers});
  auto send_range = [&](std::size_t from, std::size_t to) {
    EXPECT_EQ(::send(client, sent.data() + from, to - from, 0), static_cast<ssize_t>(to - from));
  };
  auto take = [&](const rt_type::result_type& r) {
    auto lease = buffers.take(r.raw(), r.flags());
    EXPECT_TRUE(lease.has_value());
    if (lease) received += lease->text();
  };
  send_range(0, 64);
  auto first = co_await recvs.next();  // armed, and the connection is live
  EXPECT_TRUE(first && *first);
  if (!first || !*first) co_return;
  take(*first);
  // More than the storage holds, one message at a time: the first completion held past it
  // pauses the request.
  const std::size_t burst = 64 * 10;
  for (std::size_t at = 64; at < 64 + burst; at += 64) send_range(at, at + 64);
  co_await until(rt, [&] { return !recvs.armed(); });
  EXPECT_FALSE(recvs.armed()) << "the request did not pause";
  EXPECT_GT(recvs.buffered(), tiny_storage);
  // Paused: the rest stays with the socket.
  send_range(64 + burst, sent.size());
  const std::size_t rest = sent.size() - 64 - burst;
  co_await until(rt, [&] {
    int unread = 0;
    return ::ioctl(server, FIONREAD, &unread) == 0 && static_cast<std::size_t>(unread) >= rest;
  });
  int unread = 0;
  EXPECT_EQ(::ioctl(server, FIONREAD, &unread), 0);
  unread_while_paused = static_cast<std::size_t>(unread);
  while (received.size() < sent.size()) {
    auto r = co_await recvs.next();
    EXPECT_TRUE(r && *r);
    if (!r || !*r) break;
    take(*r);
  }
  arms = recvs.arms();
  overruns = recvs.overruns();
  co_await recvs.close();
}

TEST_F(async_sequence, a_rearming_recv_pauses_when_its_storage_is_full_and_loses_nothing) {
  rt_type rt;
  // Room in the ring for the whole burst: without the pause the request would take all of it.
  auto buffers = register_buffer_ring(rt.ring(), {.group = 9, .entries = 256, .buffer_size = 64});
  ASSERT_TRUE(buffers.has_value()) << buffers.error().message();
  auto [client, server] = test::tcp_pair();
  const std::string sent = test::pattern(200 * 64);
  std::size_t unread = 0, arms = 0, overruns = 1;
  std::string received;
  rt.run(paused_burst(rt, *buffers, client.get(), server.get(), sent, unread, received, arms,
                      overruns));
  EXPECT_EQ(unread, sent.size() - 11 * 64) << "what came after the pause stayed in the socket";
  EXPECT_TRUE(received == sent) << "each byte once, in order";
  EXPECT_GE(arms, 2u) << "taking the completions armed it again";
  EXPECT_EQ(overruns, 0u);
  EXPECT_EQ(buffers->available(), 256u);
}

TEST_F(async_sequence, a_recv_burst_past_the_storage_loses_no_completion) {
  run_burst(burst_end::yield_all);
}

TEST_F(async_sequence, a_recv_burst_past_the_storage_ends_with_the_end_of_stream_last) {
  EXPECT_TRUE(run_burst(burst_end::end_of_stream).end_of_stream_last);
}

TEST_F(async_sequence, closing_a_recv_sequence_gives_back_the_buffers_held_past_its_storage) {
  run_burst(burst_end::close);
}

TEST_F(async_sequence, destroying_a_recv_sequence_gives_back_the_buffers_held_past_its_storage) {
  run_burst(burst_end::destroy);
}

TEST_F(async_sequence, a_multishot_timeout_ticks_count_times_then_ends) {
  rt_type rt;
  const auto start = std::chrono::steady_clock::now();
  int ticks = 0;
  bool refused = false;
  rt.run([](rt_type& rt, int& ticks, bool& refused) -> task<void> {
    auto t = async::ticks(rt, 5ms, 5);
    while (auto tick = co_await t.next()) {
      if (ticks == 0 && tick->raw() == -EINVAL) {
        refused = true;  // the sequence ends: its one completion carried no F_MORE
        continue;
      }
      EXPECT_EQ(tick->raw(), -ETIME);
      ++ticks;
    }
  }(rt, ticks, refused));
  if (refused) GTEST_SKIP() << "kernel lacks IORING_TIMEOUT_MULTISHOT (since 6.4)";
  EXPECT_EQ(ticks, 5);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 25ms);
}

TEST_F(async_sequence, multishot_poll_and_read_multishot_yield_and_close_drains) {
  if (const std::string why = test::lacks(opcode::read_multishot); !why.empty())
    GTEST_SKIP() << why;
  rt_type rt;
  auto buffers = register_buffer_ring(rt.ring(), {.group = 6, .entries = 8, .buffer_size = 64});
  ASSERT_TRUE(buffers.has_value()) << buffers.error().message();
  auto [in, out] = test::make_pipe<test::unique_fd>();
  auto [poll_in, poll_out] = test::make_pipe<test::unique_fd>();
  rt.run([](rt_type& rt, buffer_ring& buffers, int in, int out, int poll_in,
            int poll_out) -> task<void> {
    auto reads = async::multishot(rt, ops::read_multishot{.file = in, .group = buffer_group{6}},
                                  {.buffers = &buffers});
    auto polls =
        async::multishot(rt, ops::poll_add{.file = poll_in, .flags = poll_flags::add_multi});
    for (const char* word : {"one", "two", "three"}) {
      EXPECT_EQ(::write(out, word, std::strlen(word)), static_cast<ssize_t>(std::strlen(word)));
      auto r = co_await reads.next();
      EXPECT_TRUE(r && *r);
      if (!r || !*r) break;
      auto lease = buffers.take(r->raw(), r->flags());
      EXPECT_EQ(lease->text(), word);

      EXPECT_EQ(::write(poll_out, "p", 1), 1);
      auto ready = co_await polls.next();
      EXPECT_TRUE(ready && *ready);
      char b;
      EXPECT_EQ(::read(poll_in, &b, 1), 1);
    }
    // Completions still in the sequence when it closes are released: their buffers go back.
    EXPECT_EQ(::write(out, "left", 4), 4);
    (void)co_await rt.op(ops::nop{});
    co_await reads.close();
    co_await polls.close();
    EXPECT_FALSE(reads.armed());
    EXPECT_FALSE(polls.armed());
  }(rt, *buffers, in.get(), out.get(), poll_in.get(), poll_out.get()));
  EXPECT_EQ(buffers->available(), 8u);
  EXPECT_EQ(rt.in_flight(), 0u);
}

// Bounds a test's waits on a sequence: unless `done` is stopped first, it cancels the sequence
// after 5 s and says so in `fired`.
template <class Sequence>
task<void> watchdog(rt_type& rt, Sequence& s, std::stop_token done, bool& fired) {
  if (!co_await async::sleep_for(rt, 5s, std::move(done))) {
    fired = true;
    s.cancel();
  }
}

TEST_F(async_sequence, a_stop_on_its_thread_ends_a_sequence_and_every_descriptor_is_accounted_for) {
  auto [listener, addr] = test::tcp_listener(64);
  rt_type rt;
  const std::size_t fds = test::fd_count();
  constexpr int clients = 6;
  std::vector<test::unique_fd> cs;
  for (int i = 0; i < clients; ++i) cs.push_back(connect_to(addr));
  int yielded = 0, after_stop = 0;
  std::size_t arms = 0;
  bool fired = false;
  rt.run([](rt_type& rt, int listener, int& yielded, int& after_stop, std::size_t& arms,
            bool& fired) -> task<void> {
    std::stop_source stop, done;
    auto accepts = async::multishot(
        rt,
        ops::accept{
            .file = listener, .flags = sock_flags::cloexec, .mode = accept_flags::multishot},
        {.mode = async::rearm::always}, stop.get_token());
    rt.spawn(watchdog(rt, accepts, done.get_token(), fired));
    auto first = co_await accepts.next();
    EXPECT_TRUE(first && *first);
    if (first && *first) {
      ::close(**first);
      ++yielded;
    }
    (void)co_await rt.op(ops::nop{});  // the other connections' completions arrive meanwhile
    stop.request_stop();
    while (auto conn = co_await accepts.next()) {
      EXPECT_TRUE(*conn) << conn->error().message();
      if (!*conn) continue;
      ::close(**conn);
      ++yielded;
      ++after_stop;
    }
    EXPECT_FALSE(accepts.armed());
    EXPECT_FALSE(co_await accepts.next()) << "a stopped sequence never re-arms";
    arms = accepts.arms();
    done.request_stop();
    co_await rt.join();
  }(rt, listener.get(), yielded, after_stop, arms, fired));
  EXPECT_FALSE(fired) << "the stop did not end the sequence";
  EXPECT_EQ(arms, 1u);
  EXPECT_GT(after_stop, 0) << "what was buffered at the stop is still yielded";
  // Every connection was yielded, or is still in the backlog: the sequence accepts no more.
  int left = 0;
  ASSERT_EQ(::fcntl(listener.get(), F_SETFL, O_NONBLOCK), 0);
  while (true) {
    const int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) break;
    ::close(fd);
    ++left;
  }
  EXPECT_EQ(yielded + left, clients);
  cs.clear();
  EXPECT_EQ(rt.in_flight(), 0u);
  EXPECT_EQ(test::fd_count(), fds) << "every accepted descriptor is closed";
}

TEST_F(async_sequence, a_sequence_stopped_before_its_first_next_ends_without_the_kernel) {
  auto [listener, addr] = test::tcp_listener(8);
  auto client = connect_to(addr);  // a connection waits: an armed accept would take it
  rt_type rt;
  std::size_t arms = 1;
  rt.run([](rt_type& rt, int listener, std::size_t& arms) -> task<void> {
    async::inplace_stop_source stop;
    auto accepts = async::multishot(
        rt,
        ops::accept{
            .file = listener, .flags = sock_flags::cloexec, .mode = accept_flags::multishot},
        {}, stop.get_token());
    stop.request_stop();
    EXPECT_FALSE(co_await accepts.next());
    arms = accepts.arms();
  }(rt, listener.get(), arms));
  EXPECT_EQ(arms, 0u) << "nothing was submitted";
  EXPECT_EQ(rt.in_flight(), 0u);
  // The connection is still in the backlog.
  ASSERT_EQ(::fcntl(listener.get(), F_SETFL, O_NONBLOCK), 0);
  test::unique_fd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_GE(accepted.get(), 0);
}

TEST_F(async_sequence, a_stop_from_another_thread_ends_a_recv_sequence_with_every_buffer_back) {
  rt_type rt;
  auto buffers = register_buffer_ring(rt.ring(), {.group = 7, .entries = 8, .buffer_size = 64});
  ASSERT_TRUE(buffers.has_value()) << buffers.error().message();
  auto [client, server] = test::unix_pair();
  const std::string sent = test::pattern(300);
  std::string received;
  bool fired = false;
  std::jthread other;
  const auto start = std::chrono::steady_clock::now();
  rt.run([](rt_type& rt, buffer_ring& buffers, int fd, int client, const std::string& sent,
            std::string& received, bool& fired, std::jthread& other) -> task<void> {
    std::stop_source stop, done;
    auto recvs = async::multishot(
        rt,
        ops::recv{.file = fd, .into = buffer_group{7}, .io_flags = recvsend_flags::recv_multishot},
        {.mode = async::rearm::always, .buffers = &buffers}, stop.get_token());
    rt.spawn(watchdog(rt, recvs, done.get_token(), fired));
    // The bytes go in pieces while the sequence waits; the stop comes right after the last.
    other = std::jthread([&stop, &sent, client] {
      for (std::size_t at = 0; at < sent.size(); at += 30) {
        EXPECT_EQ(::send(client, sent.data() + at, 30, 0), 30);
        std::this_thread::sleep_for(1ms);
      }
      stop.request_stop();
    });
    while (auto r = co_await recvs.next()) {
      if (!*r) {
        EXPECT_EQ(r->error(), std::errc::no_buffer_space) << r->error().message();
        continue;
      }
      auto lease = buffers.take(r->raw(), r->flags());
      EXPECT_TRUE(lease.has_value());
      if (lease) received += lease->text();  // the lease gives the buffer back at once
    }
    EXPECT_FALSE(recvs.armed());
    done.request_stop();
    co_await rt.join();
  }(rt, *buffers, server.get(), client.get(), sent, received, fired, other));
  other.join();
  EXPECT_FALSE(fired) << "the stop did not end the sequence";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(buffers->available(), 8u) << "every provided buffer is back in the ring";
  // What the sequence did not take is still in the socket: nothing was received and lost.
  char rest[512];
  const ssize_t n = ::recv(server.get(), rest, sizeof rest, MSG_DONTWAIT);
  received.append(rest, n > 0 ? static_cast<std::size_t>(n) : 0);
  EXPECT_EQ(received, sent);
  EXPECT_EQ(rt.in_flight(), 0u);
}

}  // namespace
