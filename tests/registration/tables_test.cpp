// Registered buffers and files on the real kernel: data read through a registered buffer, writes
// through fixed files, tags posted on release, sparse tables filled later, clones between rings,
// direct descriptors landing in the allocation range, and every refusal the library makes
// before the kernel (or relays from it) reading as a diagnosis.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>
import urine;
import urine.test_support;
import urine.registration_test_helpers;

namespace {

using namespace urine;
// gtest brings the C++ ABI's `abi` namespace into the global scope; this one is meant.
namespace abi = urine::abi;
using plain_ring = urine::ring<>;
using urine::test::raw_sqe;
using urine::test::submit_and_reap;

void prep_read_fixed(abi::sqe& s, int fd, void* addr, std::uint32_t len, std::uint64_t off,
                     fixed_buffer b) {
  s.opcode = static_cast<std::uint8_t>(opcode::read_fixed);
  s.fd = fd;
  s.addr = reinterpret_cast<std::uintptr_t>(addr);
  s.len = len;
  s.off = off;
  s.buf_index = b.index;
}

TEST(registered_buffers, read_fixed_lands_in_the_registered_buffer) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring) << ring.error().message();
  urine::test::temp_dir dir;
  const std::string content = urine::test::pattern(8192, 3);
  urine::test::write_file(dir / "data", content);
  auto file = urine::test::open_file(dir / "data", O_RDONLY);

  std::vector<char> memory(16384, '\0');
  const ::iovec iov[2] = {{memory.data(), 8192}, {memory.data() + 8192, 8192}};
  auto buffers = register_buffers(*ring, iov);
  ASSERT_TRUE(buffers) << buffers.error().message();
  EXPECT_EQ(buffers->size(), 2u);
  auto second = buffers->at(1);
  ASSERT_TRUE(second) << second.error().message();

  raw_sqe(*ring, 1, [&](abi::sqe& s) {
    prep_read_fixed(s, file.get(), memory.data() + 8192 + 100, 4000, 50, *second);
  });
  // Memory outside the named buffer is refused by the kernel: the buffer really is the window.
  raw_sqe(*ring, 2,
          [&](abi::sqe& s) { prep_read_fixed(s, file.get(), memory.data(), 100, 0, *second); });
  const auto cqes = submit_and_reap(*ring, 2);
  ASSERT_NE(urine::test::find(cqes, 1), nullptr);
  EXPECT_EQ(urine::test::find(cqes, 1)->res, 4000);
  EXPECT_EQ(std::string(memory.data() + 8192 + 100, 4000), content.substr(50, 4000));
  EXPECT_EQ(urine::test::find(cqes, 2)->res, -EFAULT);
  EXPECT_TRUE(buffers->unregister().has_value());
}

TEST(registered_buffers, tags_are_posted_when_the_kernel_lets_go) {
  if (const auto why = urine::test::predates(
          {6, 13},
          "a tag posted as soon as the kernel lets go of its slot (per-slot resource nodes)");
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  std::vector<char> a(4096), b(4096), c(4096);
  const ::iovec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
  const std::uint64_t tags[2] = {0x1111, 0x2222};
  auto buffers = register_buffers(*ring, iov, tags);
  ASSERT_TRUE(buffers) << buffers.error().message();

  const ::iovec replacement[1] = {{c.data(), c.size()}};
  const std::uint64_t new_tag[1] = {0x3333};
  ASSERT_TRUE(buffers->update(0, replacement, new_tag).has_value());
  auto cqes = urine::test::reap(*ring, 1);
  ASSERT_EQ(cqes.size(), 1u);
  EXPECT_EQ(cqes[0].user_data, 0x1111u);
  EXPECT_EQ(cqes[0].res, 0);

  ASSERT_TRUE(buffers->unregister().has_value());
  cqes = urine::test::reap(*ring, 2);
  ASSERT_EQ(cqes.size(), 2u);
  EXPECT_NE(urine::test::find(cqes, 0x2222), nullptr);
  EXPECT_NE(urine::test::find(cqes, 0x3333), nullptr);
}

TEST(registered_buffers, sparse_table_is_filled_by_update) {
  if (const auto why = urine::test::lacks(register_opcode::register_buffers2); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  urine::test::temp_dir dir;
  urine::test::write_file(dir / "data", "sparse tables are filled later");
  auto file = urine::test::open_file(dir / "data", O_RDONLY);
  auto buffers = register_sparse_buffers(*ring, 4);
  ASSERT_TRUE(buffers) << buffers.error().message();
  std::vector<char> memory(64, '\0');
  const ::iovec iov[1] = {{memory.data(), memory.size()}};
  ASSERT_TRUE(buffers->update(2, iov).has_value());
  raw_sqe(*ring, 1, [&](abi::sqe& s) {
    prep_read_fixed(s, file.get(), memory.data(), 64, 0, (*buffers)[2]);
  });
  raw_sqe(*ring, 2, [&](abi::sqe& s) {
    prep_read_fixed(s, file.get(), memory.data(), 64, 0, (*buffers)[0]);
  });
  const auto cqes = submit_and_reap(*ring, 2);
  EXPECT_EQ(urine::test::find(cqes, 1)->res, 30);
  EXPECT_EQ(std::string(memory.data(), 30), "sparse tables are filled later");
  EXPECT_LT(urine::test::find(cqes, 2)->res, 0) << "an empty slot holds no memory";
}

TEST(registered_buffers, clone_shares_the_memory_with_another_ring) {
  if (const auto why = urine::test::lacks(register_opcode::register_clone_buffers); !why.empty())
    GTEST_SKIP() << why;
  auto source = plain_ring::create(8);
  auto target = plain_ring::create(8);
  ASSERT_TRUE(source && target);
  urine::test::temp_dir dir;
  urine::test::write_file(dir / "data", "cloned tables pin nothing twice");
  auto file = urine::test::open_file(dir / "data", O_RDONLY);
  std::vector<char> memory(4096, '\0');
  const ::iovec iov[2] = {{memory.data(), 2048}, {memory.data() + 2048, 2048}};
  auto buffers = register_buffers(*source, iov);
  ASSERT_TRUE(buffers);
  auto clone = clone_buffers(*target, *buffers);
  ASSERT_TRUE(clone) << clone.error().message();
  EXPECT_EQ(clone->size(), 2u);

  raw_sqe(*target, 7, [&](abi::sqe& s) {
    prep_read_fixed(s, file.get(), memory.data() + 2048, 31, 0, (*clone)[1]);
  });
  const auto cqes = submit_and_reap(*target, 1);
  EXPECT_EQ(cqes[0].res, 31);
  EXPECT_EQ(std::string(memory.data() + 2048, 31), "cloned tables pin nothing twice");

  // A second clone into the same ring: it already has a table.
  auto again = clone_buffers(*target, *buffers);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), std::errc::device_or_resource_busy);
  EXPECT_NE(again.error().message().find("already has a buffer table"), std::string::npos)
      << again.error().message();
  // Out of range of the source table: refused before the kernel.
  auto wide = clone_buffers(*target, *buffers, {.source_offset = 1, .offset = 0, .count = 2});
  ASSERT_FALSE(wide);
  EXPECT_NE(wide.error().message().find("out of range"), std::string::npos)
      << wide.error().message();
}

TEST(registered_buffers, bad_input_is_refused_clearly) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  std::vector<char> memory(4096);

  std::vector<::iovec> too_many(registered_buffers::max_entries + 1, ::iovec{memory.data(), 16});
  auto big = register_buffers(*ring, too_many);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), std::errc::invalid_argument);
  EXPECT_NE(big.error().message().find("at most 16384"), std::string::npos)
      << big.error().message();

  const ::iovec huge[1] = {{memory.data(), std::size_t{3} << 30}};
  auto too_large = register_buffers(*ring, huge);
  ASSERT_FALSE(too_large);
  EXPECT_NE(too_large.error().message().find("1 GiB"), std::string::npos)
      << too_large.error().message();
  // Neither reached the kernel: urine's own refusals carry generic codes, the kernel's system ones.
  EXPECT_EQ(big.error().code().category(), std::generic_category());
  EXPECT_EQ(too_large.error().code().category(), std::generic_category());

  const ::iovec iov[1] = {{memory.data(), memory.size()}};
  auto buffers = register_buffers(*ring, iov);
  ASSERT_TRUE(buffers);
  auto twice = register_buffers(*ring, iov);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error(), std::errc::device_or_resource_busy);
  EXPECT_NE(twice.error().message().find("already has a buffer table"), std::string::npos);

  auto out_of_range = buffers->at(1);
  ASSERT_FALSE(out_of_range);
  EXPECT_NE(out_of_range.error().message().find("out of range"), std::string::npos)
      << out_of_range.error().message();
  auto update = buffers->update(1, iov);
  ASSERT_FALSE(update);
  EXPECT_NE(update.error().message().find("out of range"), std::string::npos)
      << update.error().message();

  ASSERT_TRUE(buffers->unregister().has_value());
  auto again = buffers->unregister();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("nothing is registered"), std::string::npos)
      << again.error().message();
  EXPECT_FALSE(buffers->registered());
}

// ---- files -------------------------------------------------------------------------------------

TEST(registered_files, operations_take_the_fixed_file_handles) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  urine::test::temp_dir dir;
  auto first = urine::test::open_file(dir / "first");
  auto second = urine::test::open_file(dir / "second");
  const int fds[2] = {first.get(), second.get()};
  auto files = register_files(*ring, fds);
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_EQ(files->size(), 2u);

  const std::string text = "written through a fixed file";
  ASSERT_TRUE(ring->push(ops::write{.file = (*files)[1], .from = text, .offset = 0}, 1));
  auto cqes = submit_and_reap(*ring, 1);
  EXPECT_EQ(cqes[0].res, static_cast<int>(text.size()));
  EXPECT_EQ(urine::test::read_file(dir / "second"), text);
  EXPECT_EQ(urine::test::read_file(dir / "first"), "");

  // Slot 0 skipped, slot 1 now the third file: the same handle writes elsewhere.
  auto third = urine::test::open_file(dir / "third");
  const int update[2] = {skip_slot, third.get()};
  auto updated = files->update(0, update);
  ASSERT_TRUE(updated) << updated.error().message();
  EXPECT_EQ(*updated, 2u);
  ASSERT_TRUE(ring->push(ops::write{.file = (*files)[1], .from = text, .offset = 0}, 2));
  ASSERT_TRUE(ring->push(ops::write{.file = (*files)[0], .from = text, .offset = 0}, 3));
  cqes = submit_and_reap(*ring, 2);
  EXPECT_EQ(urine::test::read_file(dir / "third"), text);
  EXPECT_EQ(urine::test::read_file(dir / "first"), text);
}

TEST(registered_files, a_sparse_table_starts_empty_and_takes_updates_on_every_kernel) {
  // 5.19 brought the SPARSE flag; before it the same table is registered as -1 in every slot.
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  urine::test::temp_dir dir;
  auto files = register_sparse_files(*ring, 4);
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_EQ(files->size(), 4u);
  const std::string text = "into an empty slot";
  ASSERT_TRUE(ring->push(ops::write{.file = (*files)[2], .from = text, .offset = 0}, 1));
  EXPECT_EQ(submit_and_reap(*ring, 1)[0].res, -EBADF) << "an empty slot holds no file";

  auto file = urine::test::open_file(dir / "slot2");
  const int update[1] = {file.get()};
  auto updated = files->update(2, update);
  ASSERT_TRUE(updated) << updated.error().message();
  EXPECT_EQ(*updated, 1u);
  ASSERT_TRUE(ring->push(ops::write{.file = (*files)[2], .from = text, .offset = 0}, 2));
  EXPECT_EQ(submit_and_reap(*ring, 1)[0].res, static_cast<int>(text.size()));
  EXPECT_EQ(urine::test::read_file(dir / "slot2"), text);
}

TEST(registered_files, tagged_files_post_their_tag_when_replaced) {
  if (const auto why = urine::test::predates(
          {6, 13},
          "a tag posted as soon as the kernel lets go of its slot (per-slot resource nodes)");
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  urine::test::temp_dir dir;
  auto a = urine::test::open_file(dir / "a");
  auto b = urine::test::open_file(dir / "b");
  const int fds[1] = {a.get()};
  const std::uint64_t tags[1] = {0xa};
  auto files = register_files(*ring, fds, tags);
  ASSERT_TRUE(files) << files.error().message();
  const int next[1] = {b.get()};
  const std::uint64_t next_tags[1] = {0xb};
  auto updated = files->update(0, next, next_tags);
  ASSERT_TRUE(updated) << updated.error().message();
  auto cqes = urine::test::reap(*ring, 1);
  EXPECT_EQ(cqes[0].user_data, 0xau);
  ASSERT_TRUE(files->unregister().has_value());
  cqes = urine::test::reap(*ring, 1);
  EXPECT_EQ(cqes[0].user_data, 0xbu);
}

TEST(registered_files, direct_opens_land_in_the_allocation_range) {
  if (const auto why = urine::test::lacks(register_opcode::register_file_alloc_range); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  urine::test::temp_dir dir;
  auto files = register_sparse_files(*ring, 8);
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_TRUE(files->set_alloc_range(4, 2).has_value());

  const std::string paths[3] = {(dir / "x").string(), (dir / "y").string(), (dir / "z").string()};
  // One at a time, so that the slot order is certain.
  std::vector<abi::cqe> cqes;
  for (std::uint64_t i = 0; i < 3; ++i) {
    raw_sqe(*ring, i, [&](abi::sqe& s) {
      s.opcode = static_cast<std::uint8_t>(opcode::openat);
      s.fd = AT_FDCWD;
      s.addr = reinterpret_cast<std::uintptr_t>(paths[i].c_str());
      s.len = 0644;
      s.open_flags = O_CREAT | O_WRONLY;
      s.file_index = file_index_alloc;
    });
    const auto one = submit_and_reap(*ring, 1);
    cqes.insert(cqes.end(), one.begin(), one.end());
  }
  ASSERT_EQ(cqes.size(), 3u);
  EXPECT_EQ(urine::test::find(cqes, 0)->res, 4) << "the first free slot of the range";
  EXPECT_EQ(urine::test::find(cqes, 1)->res, 5);
  EXPECT_EQ(urine::test::find(cqes, 2)->res, -ENFILE) << "the range is full";

  const std::string text = "direct descriptor";
  ASSERT_TRUE(ring->push(ops::write{.file = fixed_file(5), .from = text, .offset = 0}, 9));
  cqes = submit_and_reap(*ring, 1);
  EXPECT_EQ(cqes[0].res, static_cast<int>(text.size()));
  EXPECT_EQ(urine::test::read_file(dir / "y"), text);
}

TEST(registered_files, bad_input_is_refused_clearly) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  auto huge = register_sparse_files(*ring, registered_files::max_entries + 1);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message().find("at most"), std::string::npos) << huge.error().message();

  urine::test::temp_dir dir;
  auto f = urine::test::open_file(dir / "f");
  const int fds[2] = {f.get(), empty_slot};
  auto files = register_files(*ring, fds);
  ASSERT_TRUE(files) << files.error().message();
  auto twice = register_files(*ring, fds);
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("already has a file table"), std::string::npos)
      << twice.error().message();

  EXPECT_FALSE(files->at(2));
  const int one[1] = {f.get()};
  auto past = files->update(2, one);
  ASSERT_FALSE(past);
  EXPECT_NE(past.error().message().find("out of range"), std::string::npos)
      << past.error().message();
  auto range = files->set_alloc_range(1, 4);
  ASSERT_FALSE(range);
  EXPECT_NE(range.error().message().find("not inside the table"), std::string::npos)
      << range.error().message();
  const int closed[1] = {9999};
  auto bad_fd = files->update(0, closed);
  ASSERT_FALSE(bad_fd);
  EXPECT_EQ(bad_fd.error(), std::errc::bad_file_descriptor);

  ASSERT_TRUE(files->unregister().has_value());
  auto again = files->unregister();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("nothing is registered"), std::string::npos);
}

TEST(registered_files, handle_moves_and_unregisters_once) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  urine::test::temp_dir dir;
  auto f = urine::test::open_file(dir / "f");
  const int fds[1] = {f.get()};
  {
    auto files = register_files(*ring, fds);
    ASSERT_TRUE(files);
    registered_files moved = std::move(*files);
    EXPECT_FALSE(files->registered());
    EXPECT_TRUE(moved.registered());
    auto from_moved = files->unregister();
    ASSERT_FALSE(from_moved);
    EXPECT_NE(from_moved.error().message().find("moved from"), std::string::npos)
        << from_moved.error().message();
  }
  // Destruction unregistered the table: registering again works.
  auto files = register_files(*ring, fds);
  EXPECT_TRUE(files) << files.error().message();
}

}  // namespace
