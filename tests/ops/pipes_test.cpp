// Pipes: splice and tee move data without a user copy; pipe creates descriptors or direct slots;
// read_multishot streams a pipe into provided buffers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
import urine;
import urine.test_support;
import urine.ops_test_harness;

using namespace urine;
using namespace urine::test;

TEST(pipes, splice_file_through_pipe_to_file) {
  auto ring = open_ring();
  temp_dir dir;
  const std::string data = pattern(5000);
  write_file(dir / "in", data);
  auto in = open_file(dir / "in", O_RDONLY);
  auto out = open_file(dir / "out");
  auto [r, w] = make_pipe();
  auto a =
      perform(ring, ops::splice{.in = in.get(), .in_offset = 0, .out = w.get(), .length = 5000});
  ASSERT_EQ(a.res, 5000) << a.error().message();
  auto b =
      perform(ring, ops::splice{.in = r.get(), .out = out.get(), .out_offset = 0, .length = 5000});
  ASSERT_EQ(b.res, 5000) << b.error().message();
  EXPECT_EQ(read_file(dir / "out"), data);
  // Neither side a pipe: EINVAL.
  EXPECT_EQ(
      perform(ring,
              ops::splice{
                  .in = in.get(), .in_offset = 0, .out = out.get(), .out_offset = 0, .length = 10})
          .error(),
      std::errc::invalid_argument);
}

TEST(pipes, splice_from_registered_input) {
  auto ring = open_ring();
  auto [r, w] = make_pipe();
  auto [r2, w2] = make_pipe();
  const int fds[] = {r.get()};
  ASSERT_EQ(install_files(ring, fds), 0);
  ASSERT_EQ(::write(w.get(), "fixed-in", 8), 8);
  ASSERT_EQ(perform(ring, ops::splice{.in = fixed_file{0}, .out = w2.get(), .length = 8}).res, 8);
  char got[8];
  ASSERT_EQ(::read(r2.get(), got, 8), 8);
  EXPECT_EQ(std::string(got, 8), "fixed-in");
}

TEST(pipes, tee_duplicates_without_consuming) {
  auto ring = open_ring();
  auto [r1, w1] = make_pipe();
  auto [r2, w2] = make_pipe();
  ASSERT_EQ(::write(w1.get(), "teeing", 6), 6);
  ASSERT_EQ(perform(ring, ops::tee{r1.get(), w2.get(), 6}).res, 6);
  char a[6], b[6];
  ASSERT_EQ(::read(r1.get(), a, 6), 6);  // still there in the source
  ASSERT_EQ(::read(r2.get(), b, 6), 6);  // and copied to the destination
  EXPECT_EQ(std::string(a, 6), "teeing");
  EXPECT_EQ(std::string(b, 6), "teeing");
  EXPECT_EQ(perform(ring, ops::tee{r1.get(), 9999, 6}).error(), std::errc::bad_file_descriptor);
}

TEST(pipes, pipe_op_creates_a_working_pipe) {
  if (auto why = lacks(opcode::pipe); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  int fds[2] = {-1, -1};
  auto p = perform(ring, ops::pipe{fds, pipe_flags::cloexec});
  ASSERT_EQ(p.res, 0) << p.error().message();
  unique_fd r(fds[0]), w(fds[1]);
  ASSERT_EQ(::write(w.get(), "piped", 5), 5);
  char got[5];
  ASSERT_EQ(::read(r.get(), got, 5), 5);
  EXPECT_EQ(std::string(got, 5), "piped");
  EXPECT_NE(::fcntl(r.get(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(perform(ring, ops::pipe{fds, pipe_flags(0x1)}).error(), std::errc::invalid_argument);
}

TEST(pipes, pipe_op_into_direct_slots) {
  if (auto why = lacks(opcode::pipe); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  ASSERT_EQ(install_sparse_files(ring, 8), 0);
  int slots[2] = {-1, -1};
  auto p = perform(ring, ops::pipe{slots, pipe_flags::none, direct_slot{4}});
  ASSERT_EQ(p.res, 0) << p.error().message();
  // A given slot n: the read end goes to n, the write end to n + 1.
  const std::string msg = "through slots";
  ASSERT_EQ(perform(ring, ops::write{fixed_file{5}, msg, current_position}).res, 13);
  std::string back(13, '\0');
  ASSERT_EQ(perform(ring, ops::read{fixed_file{4}, back, current_position}).res, 13);
  EXPECT_EQ(back, msg);
  // Allocated slots: the kernel reports which ones in fds.
  ASSERT_EQ(perform(ring, ops::pipe{slots, pipe_flags::none, direct_alloc}).res, 0);
  ASSERT_GE(slots[0], 0);
  ASSERT_NE(slots[0], slots[1]);
  const auto rs = static_cast<std::uint32_t>(slots[0]), ws = static_cast<std::uint32_t>(slots[1]);
  ASSERT_EQ(perform(ring, ops::write{fixed_file{ws}, msg, current_position}).res, 13);
  back.assign(13, '\0');
  ASSERT_EQ(perform(ring, ops::read{fixed_file{rs}, back, current_position}).res, 13);
  EXPECT_EQ(back, msg);
}

TEST(pipes, read_multishot_streams_into_provided_buffers) {
  if (auto why = lacks(opcode::read_multishot); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [r, w] = make_pipe();
  provided_pool<8, 32> pool;
  ASSERT_EQ(perform(ring, pool.provide(3)).res, 0);
  push(ring, ops::read_multishot{r.get(), buffer_group{3}}, 77);
  ASSERT_TRUE(ring.submit());
  std::string seen;
  for (const char* chunk : {"first", "second"}) {
    ASSERT_EQ(::write(w.get(), chunk, std::strlen(chunk)),
              static_cast<ssize_t>(std::strlen(chunk)));
    auto c = reap(ring);
    ASSERT_EQ(c.user_data, 77u);
    ASSERT_GT(c.res, 0) << c.error().message();
    ASSERT_TRUE(c.has_buffer());
    EXPECT_TRUE(c.more());  // the stream goes on
    seen += pool.contents(c.buffer_id(), static_cast<std::size_t>(c.res));
  }
  EXPECT_EQ(seen, "firstsecond");
  w.reset();  // end of file ends the stream: a completion without F_MORE
  auto last = reap(ring);
  EXPECT_EQ(last.res, 0);
  EXPECT_FALSE(last.more());
}
