// Zero heap allocations per operation in steady state: global operator new is replaced in this
// test binary by one that counts, and a second round of the same work — spawned tasks awaiting
// NOPs, sleeps, a timeout, a when_any whose loser is cancelled, one whose losing task is stopped
// through its token, a sequence ended by its token, a stop request on a blocked read and a sleep,
// a parked operation — must allocate nothing at all; nor must a receive sequence whose
// completions outgrow its storage and wait in the buffer ring.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdlib>
#include <new>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>
#include "pipe.hpp"
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_allocations = urine::test::default_runtime_test;
std::atomic<std::size_t> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n != 0 ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n != 0 ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return ::operator new(n, t);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace urine;
using namespace std::chrono_literals;
using async::task;
using rt_type = async::runtime<>;

task<rt_type::result_type> wait_for_byte(rt_type& rt, int pipe_in, async::inplace_stop_token stop) {
  char byte;
  co_return co_await rt.op(ops::read{pipe_in, std::span(&byte, 1)}, stop);
}

task<void> stop_after_a_nop(rt_type& rt, async::inplace_stop_source& stop) {
  (void)co_await rt.op(ops::nop{});
  stop.request_stop();
}

task<void> connection_like(rt_type& rt, int pipe_in, std::stop_token stop, int& done) {
  (void)co_await rt.op(ops::nop{});
  // Sleeps wait in the runtime's deadline heap, their nodes in this frame.
  EXPECT_FALSE(co_await async::sleep_for(rt, 1ms));
  (void)co_await async::with_timeout(rt, ops::nop{}, 1s);
  auto any = co_await async::when_any(rt.op(ops::nop{}), async::sleep_for(rt, 10s));
  EXPECT_EQ(any.index, 0u);
  auto stopped = co_await async::when_any(rt.op(ops::nop{}), [&](async::inplace_stop_token t) {
    return wait_for_byte(rt, pipe_in, t);
  });
  EXPECT_EQ(stopped.index, 0u);
  EXPECT_EQ(std::get<1>(stopped.results).error(), std::errc::operation_canceled);
  async::inplace_stop_source sequence_stop;
  auto polls = async::multishot(rt, ops::poll_add{.file = pipe_in, .flags = poll_flags::add_multi},
                                {}, sequence_stop.get_token());
  rt.spawn(stop_after_a_nop(rt, sequence_stop));
  EXPECT_FALSE(co_await polls.next()) << "nothing is written: the stop ends the sequence";
  char byte;
  // The stop finds the read in the kernel and the sleep in the heap.
  auto [r, s] = co_await async::when_all(rt.op(ops::read{pipe_in, std::span(&byte, 1)}, stop),
                                         async::sleep_for(rt, 10s, stop));
  EXPECT_EQ(r.error(), std::errc::operation_canceled);
  EXPECT_EQ(s.error(), std::errc::operation_canceled);
  ++done;
}

task<void> stopper(rt_type& rt, std::span<std::stop_source> stops) {
  (void)co_await rt.op(ops::nop{});
  (void)co_await rt.op(ops::nop{});
  (void)co_await rt.op(ops::nop{});
  for (auto& s : stops) s.request_stop();
}

task<void> round(rt_type& rt, int pipe_in, std::span<std::stop_source> stops, int& done) {
  for (auto& s : stops) rt.spawn(connection_like(rt, pipe_in, s.get_token(), done));
  rt.spawn(stopper(rt, stops));
  co_await rt.join();
}

TEST_F(async_allocations, steady_state_allocates_nothing) {
  auto [in, out] = test::make_pipe<test::unique_fd>();
  // A CQ smaller than the work, so parking is part of the steady state too.
  rt_type rt(setup{.entries = 16, .cq_entries = 32});
  constexpr std::size_t tasks = 64;
  // Warm-up at twice the load: how many frames are alive at once depends on how completions
  // interleave (a slow machine interleaves differently), and a round that never had as many alive
  // as the one measured would leave the measured one to allocate the difference.
  std::vector<std::stop_source> warm(2 * tasks), measured(tasks);  // a stop state is the caller's
  int done = 0;
  const std::size_t at_start = allocations.load();
  rt.run(round(rt, in.get(), warm, done));
  ASSERT_EQ(done, static_cast<int>(2 * tasks));
  // The counter works: the first round allocated the frames the second one reuses.
  ASSERT_GE(allocations.load() - at_start, tasks);

  auto measured_round = round(rt, in.get(), measured, done);  // the root frame: made before
  const std::size_t before = allocations.load();
  rt.run(std::move(measured_round));
  const std::size_t during = allocations.load() - before;
  EXPECT_EQ(done, static_cast<int>(3 * tasks));
  EXPECT_GT(rt.parked_total(), 0u);
  EXPECT_EQ(during, 0u) << "allocations in a steady-state round";
}

/// `count` messages of `size` bytes of `data`, each sent zero-copy as soon as the previous one's
/// first completion came, then a wait for every notification; with a stop token, as a
/// connection that can be stopped would.
task<void> send_all(rt_type& rt, int fd, const std::string& data, std::size_t size,
                    async::zc_tracker& tracker, std::stop_token stop, int& failures) {
  for (std::size_t at = 0; at < data.size(); at += size) {
    const auto part = std::span(data.data() + at, size);
    auto r = (at / size) % 2 == 0 ? co_await rt.op(ops::send_zc{fd, part}, tracker)
                                  : co_await rt.op(ops::send_zc{fd, part}, tracker, stop);
    if (r.raw() != static_cast<int>(size)) ++failures;
  }
  co_await tracker.drained();
}

TEST_F(async_allocations, zero_copy_sends_allocate_nothing) {
  if (const std::string why = test::lacks(opcode::send_zc); !why.empty()) GTEST_SKIP() << why;
  auto [client, server] = test::tcp_pair();
  const std::string data = test::pattern(64 * 256);
  rt_type rt(setup{.entries = 16, .cq_entries = 32});
  async::zc_tracker tracker;
  std::stop_source stop;  // its state is the caller's
  int failures = 0;
  std::string got(data.size(), '\0');
  rt.run(send_all(rt, client.get(), data, 256, tracker, stop.get_token(), failures));
  ASSERT_EQ(::recv(server.get(), got.data(), got.size(), MSG_WAITALL | MSG_DONTWAIT),
            static_cast<::ssize_t>(data.size()));

  auto measured = send_all(rt, client.get(), data, 256, tracker, stop.get_token(), failures);
  const std::size_t before = allocations.load();
  rt.run(std::move(measured));
  const std::size_t during = allocations.load() - before;
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(tracker.notifications(), 2 * 64u);
  EXPECT_EQ(during, 0u) << "allocations while sending zero-copy";
  ASSERT_EQ(::recv(server.get(), got.data(), got.size(), MSG_WAITALL | MSG_DONTWAIT),
            static_cast<::ssize_t>(data.size()));
  EXPECT_EQ(got, data);
}

/// A receive burst past the sequence's storage of one, so that the rest waits held in the buffer
/// ring, then every byte taken; `peak` says how many completions waited at once.
task<void> held_burst(rt_type& rt, buffer_ring& buffers, int client, int server,
                      const std::string& sent, std::string& received, std::size_t& peak) {
  async::sequence<rt_type, ops::recv, 1> recvs(
      rt,
      ops::recv{.file = server,
                .into = buffer_group{buffers.group()},
                .io_flags = recvsend_flags::recv_multishot},
      {.buffers = &buffers});
  const std::size_t message = buffers.buffer_size();
  EXPECT_EQ(::send(client, sent.data(), message, 0), static_cast<ssize_t>(message));
  std::optional<rt_type::result_type> r = co_await recvs.next();
  for (std::size_t at = message; at < sent.size(); at += message)
    EXPECT_EQ(::send(client, sent.data() + at, message, 0), static_cast<ssize_t>(message));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (recvs.buffered() < (sent.size() - message) / message && recvs.armed() &&
         std::chrono::steady_clock::now() < deadline)
    (void)co_await async::sleep_for(rt, 1ms);
  peak = recvs.buffered();
  while (r && *r) {
    if (auto lease = buffers.take(r->raw(), r->flags())) received += lease->text();
    if (received.size() >= sent.size()) break;
    r = co_await recvs.next();
  }
  co_await recvs.close();
}

TEST_F(async_allocations, completions_held_past_a_sequence_storage_allocate_nothing) {
  auto [client, server] = test::tcp_pair();
  rt_type rt;
  auto buffers = register_buffer_ring(rt.ring(), {.group = 3, .entries = 32, .buffer_size = 64});
  ASSERT_TRUE(buffers.has_value()) << buffers.error().message();
  const std::string sent = test::pattern(24 * 64);
  std::string received;
  received.reserve(sent.size());
  std::size_t peak = 0;
  rt.run(held_burst(rt, *buffers, client.get(), server.get(), sent, received, peak));
  ASSERT_TRUE(received == sent);

  received.clear();
  peak = 0;
  auto measured = held_burst(rt, *buffers, client.get(), server.get(), sent, received, peak);
  const std::size_t before = allocations.load();
  rt.run(std::move(measured));
  const std::size_t during = allocations.load() - before;
  EXPECT_GT(peak, 1u) << "no completion waited past the storage";
  EXPECT_TRUE(received == sent) << "each byte once, in order";
  EXPECT_EQ(during, 0u) << "allocations while completions wait in the buffer ring";
  EXPECT_EQ(buffers->available(), 32u);
}

}  // namespace
