// Lifetimes: destroying a runtime with tasks suspended on operations in the kernel cancels them,
// collects every completion and destroys the frames, leaving no descriptor and no mapping behind;
// destroying a frame that the kernel may still write into aborts debug builds with a sentence.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <chrono>
#include <coroutine>
#include <span>
#include <stop_token>
#include "pipe.hpp"
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_lifetime = urine::test::default_runtime_test;
using async_lifetime_death = urine::test::default_runtime_test;

using namespace urine;
using namespace std::chrono_literals;
using async::task;
using rt_type = async::runtime<>;

/// Counts frames destroyed: one lives in every task below.
struct frame_guard {
  int* destroyed;
  ~frame_guard() { ++*destroyed; }
};

task<void> blocked_read(rt_type& rt, int fd, int* destroyed) {
  frame_guard g{destroyed};
  char byte;
  (void)co_await rt.op(ops::read{fd, std::span(&byte, 1)});
  ADD_FAILURE() << "resumed during the runtime's destruction";
}

task<void> blocked_accept(rt_type& rt, int listener, int* destroyed) {
  frame_guard g{destroyed};
  auto r = co_await rt.op(ops::accept{.file = listener, .flags = sock_flags::cloexec});
  if (r) ::close(*r);
  ADD_FAILURE() << "resumed during the runtime's destruction";
}

task<void> long_sleep(rt_type& rt, int* destroyed) {
  frame_guard g{destroyed};
  (void)co_await async::sleep_for(rt, 1h);
  ADD_FAILURE() << "resumed during the runtime's destruction";
}

task<void> guarded_read(rt_type& rt, int fd, int* destroyed) {
  frame_guard g{destroyed};
  char byte;
  (void)co_await async::with_timeout(rt, ops::read{fd, std::span(&byte, 1)}, 1h);
  ADD_FAILURE() << "resumed during the runtime's destruction";
}

task<void> start_and_leave(rt_type& rt, int fd, int listener, const ::sockaddr_in& addr,
                           int* destroyed, test::unique_fd& client) {
  for (int i = 0; i < 4; ++i) rt.spawn(blocked_read(rt, fd, destroyed));
  rt.spawn(blocked_accept(rt, listener, destroyed));
  rt.spawn(long_sleep(rt, destroyed));
  rt.spawn(guarded_read(rt, fd, destroyed));
  (void)co_await rt.op(ops::nop{});
  (void)co_await rt.op(ops::nop{});
  // A connection the accept may complete with while the runtime is being destroyed: its
  // descriptor must then be closed, not leaked.
  client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(client.get(), reinterpret_cast<const ::sockaddr*>(&addr), sizeof addr), 0);
}

TEST_F(async_lifetime, destroying_a_runtime_with_suspended_tasks_leaks_nothing) {
  auto [in, out] = test::make_pipe<test::unique_fd>();
  auto [listener, addr] = test::tcp_listener();
  test::unique_fd client;
  const std::size_t fds = test::fd_count(), maps = test::mapping_count();
  int destroyed = 0;
  const auto start = std::chrono::steady_clock::now();
  {
    rt_type rt;
    rt.run(start_and_leave(rt, in.get(), listener.get(), addr, &destroyed, client));
    EXPECT_EQ(destroyed, 0);
    EXPECT_GT(rt.in_flight(), 0u);
    EXPECT_EQ(rt.root_scope().size(), 7u);
  }
  EXPECT_EQ(destroyed, 7) << "every suspended frame destroyed";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  client.reset();
  EXPECT_EQ(test::fd_count(), fds) << "descriptors: the ring's and any accepted one closed";
  EXPECT_EQ(test::mapping_count(), maps) << "the ring's mappings released";
}

TEST_F(async_lifetime_death, destroying_a_frame_suspended_on_an_operation_in_flight_aborts) {
#ifdef NDEBUG
  GTEST_SKIP() << "the check is compiled into debug builds only";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) std::abort();
        rt_type rt;
        rt.run([](rt_type& rt, int fd) -> task<void> {
          int destroyed = 0;
          auto t = blocked_read(rt, fd, &destroyed);
          t.handle().resume();  // suspends on the read, which is now in flight
          (void)co_await rt.op(ops::nop{});
          t = {};  // the frame goes while the kernel holds the read
        }(rt, p[0]));
      },
      "destroyed while suspended on an operation the kernel still holds");
#endif
}

}  // namespace
