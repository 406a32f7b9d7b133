// Registration handles refer to their ring by its fd (or registered index), so they survive the
// ring object moving: a file table, a buffer table and a buffer ring registered on one object
// serve requests and unregister through the object the ring moved to, on a ring reached by fd and
// on one reached by registered index, with every effect checked.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>
import urine;
import urine.test_support;
import urine.registration_test_helpers;

namespace {

using namespace urine;
using urine::test::submit_and_reap;

template <class Ring>
class moved_ring : public ::testing::Test {};
using ring_kinds = ::testing::Types<urine::ring<>, urine::ring<registered_ring_fd>>;
TYPED_TEST_SUITE(moved_ring, ring_kinds);

TYPED_TEST(moved_ring, handles_serve_and_unregister_through_the_moved_ring) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_ring); !why.empty())
    GTEST_SKIP() << why;
  if (const auto why = urine::test::lacks_registered_ring_fds();
      TypeParam::has_registered_fd && !why.empty())
    GTEST_SKIP() << why;
  auto made = TypeParam::create(8);
  ASSERT_TRUE(made) << made.error().message();
  urine::test::temp_dir dir;
  const std::string content = urine::test::pattern(256, 4);
  urine::test::write_file(dir / "in", content);
  const auto in = urine::test::open_file(dir / "in", O_RDONLY);
  const auto out = urine::test::open_file(dir / "out");
  auto [receiver, sender] = urine::test::unix_pair();

  const int table[] = {out.get()};
  auto files = register_files(*made, table);
  ASSERT_TRUE(files) << files.error().message();
  std::vector<char> memory(content.size(), '\0');
  const ::iovec iov[] = {{memory.data(), memory.size()}};
  auto buffers = register_buffers(*made, iov);
  ASSERT_TRUE(buffers) << buffers.error().message();
  auto provided = register_buffer_ring(*made, {.group = 5, .entries = 2, .buffer_size = 64});
  ASSERT_TRUE(provided) << provided.error().message();

  TypeParam ring = std::move(*made);

  // Each handle still serves requests on the moved ring.
  const std::string text = "through the fixed file";
  ASSERT_TRUE(ring.push(ops::write{.file = (*files)[0], .from = text, .offset = 0}, 1));
  ASSERT_TRUE(ring.push(ops::read_fixed{.file = in.get(),
                                        .into = buffer(memory.data(), memory.size()),
                                        .buf_index = (*buffers)[0],
                                        .offset = 0},
                        2));
  urine::test::send_all(sender.get(), "selected");
  ASSERT_TRUE(ring.push(ops::recv{.file = receiver.get(), .into = buffer_group{5}}, 3));
  const auto served = submit_and_reap(ring, 3);
  EXPECT_EQ(urine::test::find(served, 1)->res, static_cast<int>(text.size()));
  EXPECT_EQ(urine::test::read_file(dir / "out"), text);
  EXPECT_EQ(urine::test::find(served, 2)->res, static_cast<int>(content.size()));
  EXPECT_EQ(std::string(memory.data(), memory.size()), content);
  const auto* received = urine::test::find(served, 3);
  auto lease = provided->take(received->res, cqe_flags(received->flags));
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(lease->text(), "selected");
  lease->release();

  // Registrations made before the move are changed and queried through it.
  const int replacement[] = {in.get()};
  auto updated = files->update(0, replacement);
  ASSERT_TRUE(updated) << updated.error().message();
  EXPECT_EQ(*updated, 1u);
  if (urine::test::lacks(register_opcode::register_pbuf_status).empty()) {
    auto head = provided->kernel_head();
    ASSERT_TRUE(head) << head.error().message();
    EXPECT_EQ(*head, 1u);
  }

  // And unregistered: the kernel no longer knows them afterwards.
  auto files_gone = files->unregister();
  EXPECT_TRUE(files_gone) << files_gone.error().message();
  auto buffers_gone = buffers->unregister();
  EXPECT_TRUE(buffers_gone) << buffers_gone.error().message();
  auto provided_gone = provided->unregister();
  EXPECT_TRUE(provided_gone) << provided_gone.error().message();
  ASSERT_TRUE(ring.push(ops::write{.file = fixed_file(0), .from = text}, 4));
  ASSERT_TRUE(ring.push(ops::read_fixed{.file = in.get(),
                                        .into = buffer(memory.data(), memory.size()),
                                        .buf_index = fixed_buffer(0),
                                        .offset = 0},
                        5));
  urine::test::send_all(sender.get(), "unselected");
  ASSERT_TRUE(ring.push(ops::recv{.file = receiver.get(), .into = buffer_group{5}}, 6));
  const auto refused = submit_and_reap(ring, 3);
  EXPECT_EQ(urine::test::find(refused, 4)->res, -EBADF) << "no file table";
  EXPECT_EQ(urine::test::find(refused, 5)->res, -EFAULT) << "no buffer table";
  EXPECT_EQ(urine::test::find(refused, 6)->res, -ENOBUFS) << "no buffer group 5";
}

}  // namespace
