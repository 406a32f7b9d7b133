// Awaiting operations: results and errors as values, bytes really moved, and exactly-once
// delivery with many more operations than the CQ holds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <cerrno>
#include <coroutine>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include "pipe.hpp"
import urine;
import urine.test_support;
#include "default_runtime.hpp"

namespace {

using async_operation = urine::test::default_runtime_test;

using namespace urine;
using async::task;

template <class Rt>
task<void> nops(Rt& rt, std::vector<int>& seen, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    const auto nop = test::nop_returning(i);
    auto r = co_await rt.op(nop.op);
    EXPECT_EQ(r.raw(), nop.expected);
    if (r && *r == nop.expected) ++seen[static_cast<std::size_t>(i)];
    EXPECT_LE(rt.in_flight(), rt.budget());
  }
}

TEST_F(async_operation, a_nop_resumes_with_its_result_and_an_error_as_an_error_code) {
  auto [in, out] = test::make_pipe<test::unique_fd>();
  async::runtime<> rt;
  rt.run([](async::runtime<>& rt, int read_end) -> task<void> {
    auto ok = co_await rt.op(ops::nop{});
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 0);
    // A write to a pipe's read end: the kernel's EBADF arrives as an error code.
    auto bad = co_await rt.op(ops::write{read_end, std::string_view("x"), 0});
    EXPECT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), std::errc::bad_file_descriptor);
  }(rt, in.get()));
}

TEST_F(async_operation, write_then_read_moves_the_bytes) {
  test::temp_dir dir;
  auto fd = test::open_file(dir / "f");
  const std::string data = test::pattern(10000);
  async::runtime<> rt;
  std::string back(data.size(), '\0');
  rt.run(
      [](async::runtime<>& rt, int fd, const std::string& data, std::string& back) -> task<void> {
        auto w = co_await rt.op(ops::write{fd, data, 0});
        EXPECT_EQ(w.value(), static_cast<int>(data.size()));
        auto r = co_await rt.op(ops::read{fd, back, 0});
        EXPECT_EQ(r.value(), static_cast<int>(data.size()));
      }(rt, fd.get(), data, back));
  EXPECT_EQ(back, data);
  EXPECT_EQ(test::read_file(dir / "f"), data);
}

TEST_F(async_operation, every_completion_is_delivered_exactly_once_with_a_tiny_cq) {
  // 4 SQ entries, 8 CQ entries, 200 tasks of 50 NOPs: far more operations want to be in flight
  // than the CQ holds; the runtime parks the rest and nothing overflows.
  async::runtime<> rt(setup{.entries = 4, .cq_entries = 8});
  constexpr int tasks = 200, per_task = 50;
  std::vector<int> seen(tasks * per_task, 0);
  rt.run([](async::runtime<>& rt, std::vector<int>& seen) -> task<void> {
    for (int t = 0; t < tasks; ++t) rt.spawn(nops(rt, seen, t * per_task, per_task));
    co_await rt.join();
  }(rt, seen));
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1) << "operation " << i;
  EXPECT_GT(rt.parked_total(), 0u) << "the test must push the runtime past its CQ budget";
  EXPECT_EQ(rt.overflow_events(), 0u);
  EXPECT_EQ(rt.in_flight(), 0u);
}

}  // namespace
