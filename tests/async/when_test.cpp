// when_all and when_any: every child's result, the winner's index, losers cancelled, and the
// parent resumed only when every child has completed — losers holding provided buffers give them
// back through the results.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <chrono>
#include <coroutine>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include "pipe.hpp"
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_when = urine::test::default_runtime_test;

using namespace urine;
using namespace std::chrono_literals;
using async::task;
using rt_type = async::runtime<>;

TEST_F(async_when, when_all_resumes_with_every_result) {
  auto [in, out] = test::make_pipe<test::unique_fd>();
  rt_type rt;
  rt.run([](rt_type& rt, int read_end) -> task<void> {
    const auto nop = test::nop_returning(7);
    auto [a, b, c] = co_await async::when_all(rt.op(nop.op),
                                              rt.op(ops::write{read_end, std::string_view("x"), 0}),
                                              async::sleep_for(rt, 5ms));
    EXPECT_EQ(a.raw(), nop.expected);
    EXPECT_EQ(b.error(), std::errc::bad_file_descriptor);  // a write to a pipe's read end
    EXPECT_EQ(c.raw(), -ETIME);
  }(rt, in.get()));
  EXPECT_EQ(rt.in_flight(), 0u);
}

TEST_F(async_when, when_any_picks_the_first_and_cancels_the_others) {
  auto [in, out] = test::make_pipe<test::unique_fd>();
  rt_type rt;
  char byte = 0;
  const auto start = std::chrono::steady_clock::now();
  rt.run([](rt_type& rt, int fd, char& byte) -> task<void> {
    auto r = co_await async::when_any(rt.op(ops::read{fd, std::span(&byte, 1)}),
                                      async::sleep_for(rt, 10ms), async::sleep_for(rt, 10s));
    EXPECT_EQ(r.index, 1u);
    EXPECT_EQ(std::get<0>(r.results).error(), std::errc::operation_canceled);
    EXPECT_EQ(std::get<1>(r.results).raw(), -ETIME);
    EXPECT_EQ(std::get<2>(r.results).error(), std::errc::operation_canceled);
    EXPECT_EQ(rt.in_flight(), 0u) << "every child completed before the parent resumed";
  }(rt, in.get(), byte));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(async_when, losers_holding_provided_buffers_hand_them_back) {
  rt_type rt;
  auto buffers = register_buffer_ring(rt.ring(), {.group = 3, .entries = 8, .buffer_size = 256});
  ASSERT_TRUE(buffers.has_value()) << buffers.error().message();
  auto [a_client, a_server] = test::unix_pair();
  auto [b_client, b_server] = test::unix_pair();
  // Both sockets have data: both receives can complete, each into a provided buffer, whichever
  // wins; the loser's buffer must come back through its result, not stay lost.
  ASSERT_EQ(::send(a_client.get(), "first", 5, 0), 5);
  ASSERT_EQ(::send(b_client.get(), "second", 6, 0), 6);
  for (int round = 0; round < 100; ++round) {
    rt.run([](rt_type& rt, buffer_ring& buffers, int a, int b, int a_client,
              int b_client) -> task<void> {
      auto r = co_await async::when_any(rt.op(ops::recv{a, buffer_group{3, 256}}),
                                        rt.op(ops::recv{b, buffer_group{3, 256}}));
      int delivered = 0;
      std::string texts;
      for (auto* res : {&std::get<0>(r.results), &std::get<1>(r.results)}) {
        if (!*res) {
          EXPECT_EQ(res->error(), std::errc::operation_canceled);
          continue;
        }
        auto lease = buffers.take(res->raw(), res->flags());
        EXPECT_TRUE(lease.has_value());
        if (!lease) continue;
        ++delivered;
        texts += std::string(lease->text()) + ";";
      }
      EXPECT_GE(delivered, 1);
      // Put back what was consumed so the next round sees the same data.
      if (texts.find("first") != std::string::npos) EXPECT_EQ(::send(a_client, "first", 5, 0), 5);
      if (texts.find("second") != std::string::npos) EXPECT_EQ(::send(b_client, "second", 6, 0), 6);
    }(rt, *buffers, a_server.get(), b_server.get(), a_client.get(), b_client.get()));
    ASSERT_EQ(buffers->available(), 8u)
        << "round " << round << ": every buffer is back in the ring";
  }
}

task<int> doubled_after_a_nop(rt_type& rt, int v) {
  (void)co_await rt.op(ops::nop{});
  co_return 2 * v;
}

task<void> nothing() { co_return; }

TEST_F(async_when, tasks_are_children_too_and_a_task_loser_runs_to_its_end) {
  rt_type rt;
  rt.run([](rt_type& rt) -> task<void> {
    const auto nop = test::nop_returning(3);
    auto [a, b, c] =
        co_await async::when_all(doubled_after_a_nop(rt, 21), nothing(), rt.op(nop.op));
    EXPECT_EQ(a, 42);
    (void)b;
    EXPECT_EQ(c.raw(), nop.expected);

    int slow_finished = 0;
    auto r = co_await async::when_any(doubled_after_a_nop(rt, 5), async::sleep_for(rt, 10s),
                                      [](rt_type& rt, int& finished) -> task<int> {
                                        (void)co_await async::sleep_for(rt, 20ms);
                                        ++finished;
                                        co_return 7;
                                      }(rt, slow_finished));
    EXPECT_EQ(r.index, 0u);
    EXPECT_EQ(std::get<0>(r.results), 10);
    EXPECT_EQ(std::get<1>(r.results).error(), std::errc::operation_canceled);
    EXPECT_EQ(std::get<2>(r.results), 7) << "a task loser is not cancelled: it ran to its end";
    EXPECT_EQ(slow_finished, 1);
  }(rt));
  EXPECT_EQ(rt.in_flight(), 0u);
}

// A worker that reads one byte, bounded by a timer far beyond any test's patience: stopped, it
// ends with ECANCELED; never stopped, with ETIME (or its byte).
task<async::runtime<>::result_type> read_byte(rt_type& rt, int fd, char& byte,
                                              async::inplace_stop_token stop) {
  co_return co_await async::with_timeout(rt, ops::read{fd, std::span(&byte, 1)}, 10s, stop);
}

TEST_F(async_when, a_losing_stoppable_task_child_is_stopped_and_the_parent_resumes_at_once) {
  auto [idle_in, idle_out] = test::make_pipe<test::unique_fd>();  // nothing ever written
  auto [in, out] = test::make_pipe<test::unique_fd>();
  ASSERT_EQ(::write(out.get(), "w", 1), 1);
  rt_type rt;
  char won = 0, lost = 0;
  const auto start = std::chrono::steady_clock::now();
  rt.run([](rt_type& rt, int idle, int fd, char& won, char& lost) -> task<void> {
    auto r = co_await async::when_any(
        [&](async::inplace_stop_token t) { return read_byte(rt, idle, lost, t); },
        rt.op(ops::read{fd, std::span(&won, 1)}));
    EXPECT_EQ(r.index, 1u);
    EXPECT_EQ(std::get<1>(r.results).raw(), 1);
    EXPECT_EQ(std::get<0>(r.results).error(), std::errc::operation_canceled)
        << std::get<0>(r.results).error().message();
    EXPECT_EQ(rt.in_flight(), 0u) << "the loser's read and timer completed before the parent";
  }(rt, idle_in.get(), in.get(), won, lost));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "the loser ran to its timer";
  EXPECT_EQ(won, 'w');
  EXPECT_EQ(lost, 0);
}

TEST_F(async_when, a_stoppable_loser_that_completes_anyway_hands_its_result_over) {
  auto [in, out] = test::make_pipe<test::unique_fd>();
  rt_type rt;
  for (int round = 0; round < 50; ++round) {
    // The byte is there before the loser's read is submitted: the read completes when the NOP
    // does, before any cancel can reach it, and its byte must come back in its result.
    ASSERT_EQ(::write(out.get(), "b", 1), 1);
    char byte = 0;
    rt.run([](rt_type& rt, int fd, char& byte) -> task<void> {
      auto r = co_await async::when_any(rt.op(ops::nop{}), [&](async::inplace_stop_token t) {
        return read_byte(rt, fd, byte, t);
      });
      EXPECT_EQ(r.index, 0u);
      auto& lost = std::get<1>(r.results);
      if (lost) {
        EXPECT_EQ(*lost, 1);
        EXPECT_EQ(byte, 'b');
      } else {
        // Cancelled first after all: the byte stays in the pipe, for the next round.
        EXPECT_EQ(lost.error(), std::errc::operation_canceled);
        char b = 0;
        EXPECT_EQ(::read(fd, &b, 1), 1);
        EXPECT_EQ(b, 'b');
      }
    }(rt, in.get(), byte));
  }
  // A cancel that found its operation done posts its own completion later: one more round.
  rt.run([](rt_type& rt) -> task<void> { (void)co_await rt.op(ops::nop{}); }(rt));
  EXPECT_EQ(rt.in_flight(), 0u);
}

TEST_F(async_when, a_stop_of_the_parent_token_from_another_thread_reaches_every_child) {
  auto [in, out] = test::make_pipe<test::unique_fd>();  // nothing ever written
  rt_type rt;
  std::stop_source stop;
  std::jthread requester;
  char a = 0, b = 0;
  const auto start = std::chrono::steady_clock::now();
  rt.run([](rt_type& rt, int fd, char& a, char& b, std::stop_source& stop,
            std::jthread& requester) -> task<void> {
    requester = std::jthread([&stop] {
      std::this_thread::sleep_for(20ms);
      stop.request_stop();
    });
    auto [op, child, sleep] = co_await async::when_all(
        stop.get_token(), async::with_timeout(rt, ops::read{fd, std::span(&a, 1)}, 10s),
        [&](async::inplace_stop_token t) { return read_byte(rt, fd, b, t); },
        async::sleep_for(rt, 10s));
    EXPECT_EQ(op.error(), std::errc::operation_canceled) << op.error().message();
    EXPECT_EQ(child.error(), std::errc::operation_canceled) << child.error().message();
    EXPECT_EQ(sleep.error(), std::errc::operation_canceled) << sleep.error().message();
  }(rt, in.get(), a, b, stop, requester));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "a child ran to its timer";
  EXPECT_EQ(rt.in_flight(), 0u);
}

TEST_F(async_when, a_parent_token_stopped_before_the_await_stops_every_child_at_once) {
  auto [in, out] = test::make_pipe<test::unique_fd>();  // nothing ever written
  rt_type rt;
  async::inplace_stop_source stop;
  stop.request_stop();
  char a = 0, b = 0;
  const auto start = std::chrono::steady_clock::now();
  rt.run([](rt_type& rt, int fd, char& a, char& b, async::inplace_stop_token token) -> task<void> {
    auto r = co_await async::when_any(
        token, async::with_timeout(rt, ops::read{fd, std::span(&a, 1)}, 10s),
        [&](async::inplace_stop_token t) { return read_byte(rt, fd, b, t); });
    EXPECT_EQ(std::get<0>(r.results).error(), std::errc::operation_canceled);
    EXPECT_EQ(std::get<1>(r.results).error(), std::errc::operation_canceled);
  }(rt, in.get(), a, b, stop.get_token()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "a child ran to its timer";
  EXPECT_EQ(rt.in_flight(), 0u);
}

}  // namespace
