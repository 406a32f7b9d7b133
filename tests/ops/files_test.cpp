// File operations on a real file system, each effect checked with ordinary system calls.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <span>
#include <string>
import urine;
import urine.test_support;
import urine.ops_test_harness;

using namespace urine;
using namespace urine::test;
namespace fs = std::filesystem;

// ---- typed over ring configurations: the read/write family
// ---------------------------------------

template <class R>
using file_io = on_rings<R>;
TYPED_TEST_SUITE(file_io, ring_configs);

TYPED_TEST(file_io, read_write_vectored_and_plain) {
  auto ring = open_ring<TypeParam>();
  temp_dir dir;
  auto file = open_file(dir / "rw");
  const std::string data = pattern(3000);
  auto w = perform(ring, ops::write{file.get(), data, 0});
  ASSERT_EQ(w.res, 3000) << w.error().message();
  std::string a(1000, '\0'), b(2000, '\0');
  std::array<::iovec, 2> iov{{{a.data(), a.size()}, {b.data(), b.size()}}};
  auto rv = perform(ring, ops::readv{file.get(), iov, 0});
  ASSERT_EQ(rv.res, 3000);
  EXPECT_EQ(a + b, data);
  const std::string tail = "tail!";
  std::array<::iovec, 1> wiov{{{const_cast<char*>(tail.data()), tail.size()}}};
  ASSERT_EQ(perform(ring, ops::writev{file.get(), wiov, 3000}).res, 5);
  std::string back(3005, '\0');
  ASSERT_EQ(perform(ring, ops::read{file.get(), back, 0}).res, 3005);
  EXPECT_EQ(back, data + tail);
  ASSERT_EQ(perform(ring, ops::fsync{file.get(), fsync_flags::datasync}).res, 0);
}

TYPED_TEST(file_io, registered_buffers_and_files) {
  auto ring = open_ring<TypeParam>();
  temp_dir dir;
  auto file = open_file(dir / "fixed");
  alignas(4096) static std::array<char, 8192> memory;
  memory.fill(0);
  const ::iovec whole{memory.data(), memory.size()};
  ASSERT_EQ(install_buffers(ring, std::span(&whole, 1)), 0);
  const int fds[] = {file.get()};
  ASSERT_EQ(install_files(ring, fds), 0);

  const std::string data = pattern(4096, 3);
  std::memcpy(memory.data(), data.data(), data.size());
  auto w = perform(
      ring, ops::write_fixed{fixed_file{0}, const_buffer(memory.data(), 4096), fixed_buffer{0}, 0});
  ASSERT_EQ(w.res, 4096) << w.error().message();
  EXPECT_EQ(read_file(dir / "fixed"), data);
  auto r = perform(
      ring, ops::read_fixed{file.get(), buffer(memory.data() + 4096, 4096), fixed_buffer{0}, 0});
  ASSERT_EQ(r.res, 4096) << r.error().message();
  EXPECT_EQ(std::string(memory.data() + 4096, 4096), data);

  if (auto why = lacks(opcode::writev_fixed); !why.empty()) GTEST_SKIP() << why;
  std::memcpy(memory.data(), "abcdefgh", 8);
  std::array<::iovec, 2> out{{{memory.data(), 4}, {memory.data() + 4, 4}}};
  ASSERT_EQ(perform(ring, ops::writev_fixed{fixed_file{0}, out, fixed_buffer{0}, 100}).res, 8);
  EXPECT_EQ(read_file(dir / "fixed").substr(100, 8), "abcdefgh");
  std::array<::iovec, 2> in{{{memory.data() + 6000, 3}, {memory.data() + 7000, 5}}};
  ASSERT_EQ(perform(ring, ops::readv_fixed{file.get(), in, fixed_buffer{0}, 100}).res, 8);
  EXPECT_EQ(std::string(memory.data() + 6000, 3) + std::string(memory.data() + 7000, 5),
            "abcdefgh");
}

TYPED_TEST(file_io, read_into_provided_buffer) {
  auto ring = open_ring<TypeParam>();
  temp_dir dir;
  write_file(dir / "p", "provided!");
  auto file = open_file(dir / "p", O_RDONLY);
  provided_pool<4, 64> pool;
  ASSERT_EQ(perform(ring, pool.provide(7, 10)).res, 0);
  auto r = perform(ring, ops::read{file.get(), buffer_group{7}, 0});
  ASSERT_EQ(r.res, 9) << r.error().message();
  ASSERT_TRUE(r.has_buffer());
  ASSERT_GE(r.buffer_id(), 10);
  ASSERT_LT(r.buffer_id(), 14);
  EXPECT_EQ(pool.contents(r.buffer_id(), 9), "provided!");
  // Three are left in the group; one was consumed by the read.
  EXPECT_EQ(perform(ring, ops::remove_buffers{8, 7}).res, 3);
  // 5.10 drops a group with its last buffer (then ENOENT); 6.1 keeps the empty group.
  const bool group_dropped = !predates({6, 1}, "keeping an emptied buffer group").empty();
  EXPECT_EQ(perform(ring, ops::remove_buffers{1, 7}).res, group_dropped ? -ENOENT : 0);
  EXPECT_EQ(perform(ring, ops::read{file.get(), buffer_group{7}, 0}).error(),
            std::errc::no_buffer_space);
}

// ---- registered file table ---------------------------------------------------------------------

TEST(files, files_update_and_fixed_fd_install) {
  auto ring = open_ring();
  temp_dir dir;
  write_file(dir / "u", "update");
  auto file = open_file(dir / "u", O_RDONLY);
  ASSERT_EQ(install_sparse_files(ring, 4), 0);
  std::array<int, 1> fds{file.get()};
  ASSERT_EQ(perform(ring, ops::files_update{fds, 2}).res, 1);
  std::string back(6, '\0');
  ASSERT_EQ(perform(ring, ops::read{fixed_file{2}, back, 0}).res, 6);
  EXPECT_EQ(back, "update");

  if (const auto why = predates({5, 19}, "IORING_FILE_INDEX_ALLOC"); !why.empty())
    GTEST_SKIP() << why;
  std::array<int, 1> alloc{file.get()};
  ASSERT_EQ(perform(ring, ops::files_update{alloc, file_index_alloc}).res, 1);
  EXPECT_NE(alloc[0], 2);  // the kernel wrote the slot it chose
  EXPECT_LT(alloc[0], 4);

  if (auto why = lacks(opcode::fixed_fd_install); !why.empty()) GTEST_SKIP() << why;
  auto installed = perform(ring, ops::fixed_fd_install{fixed_file{2}});
  ASSERT_GE(installed.res, 0) << installed.error().message();
  unique_fd fd(installed.res);
  struct ::stat a{}, b{};
  ::fstat(fd.get(), &a);
  ::fstat(file.get(), &b);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_NE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(perform(ring, ops::fixed_fd_install{fixed_file{9}}).error(),
            std::errc::bad_file_descriptor);
}

// ---- opening, creating, removing ---------------------------------------------------------------

TEST(files, openat_creates_with_mode_and_close) {
  ::umask(022);
  auto ring = open_ring();
  temp_dir dir;
  const fs::path p = dir / "created";
  auto o =
      perform(ring, ops::openat{.path = p, .flags = O_CREAT | O_EXCL | O_WRONLY, .mode = 0640});
  ASSERT_GE(o.res, 0) << o.error().message();
  struct ::stat st{};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  ASSERT_EQ(perform(ring, ops::close{o.res}).res, 0);
  EXPECT_EQ(::fcntl(o.res, F_GETFD), -1);  // closed
  EXPECT_EQ(
      perform(ring, ops::openat{.path = p, .flags = O_CREAT | O_EXCL | O_WRONLY, .mode = 0640})
          .error(),
      std::errc::file_exists);
}

TEST(files, openat_direct_slot_and_alloc) {
  if (const auto why = predates({5, 15}, "opening into a direct descriptor slot"); !why.empty())
    GTEST_SKIP() << why;
  auto ring = open_ring();
  temp_dir dir;
  write_file(dir / "d", "direct");
  ASSERT_EQ(install_sparse_files(ring, 4), 0);
  const fs::path p = dir / "d";
  ASSERT_EQ(perform(ring, ops::openat{.path = p, .flags = O_RDONLY, .install = direct_slot{1}}).res,
            0);
  std::string back(6, '\0');
  ASSERT_EQ(perform(ring, ops::read{fixed_file{1}, back, 0}).res, 6);
  EXPECT_EQ(back, "direct");
  if (const auto why = predates({5, 19}, "IORING_FILE_INDEX_ALLOC"); !why.empty())
    GTEST_SKIP() << why;
  auto alloc = perform(ring, ops::openat{.path = p, .flags = O_RDONLY, .install = direct_alloc});
  ASSERT_GE(alloc.res, 0) << alloc.error().message();
  EXPECT_NE(alloc.res, 1);
  ASSERT_EQ(perform(ring, ops::close{fixed_file{static_cast<std::uint32_t>(alloc.res)}}).res, 0);
  // A direct descriptor cannot be close-on-exec: the kernel says EINVAL.
  EXPECT_EQ(
      perform(ring,
              ops::openat{.path = p, .flags = O_RDONLY | O_CLOEXEC, .install = direct_slot{0}})
          .error(),
      std::errc::invalid_argument);
}

TEST(files, openat2_resolve_flags) {
  auto ring = open_ring();
  temp_dir dir;
  fs::create_directory(dir / "sub");
  write_file(dir / "sub" / "inner", "in");
  write_file(dir / "outer", "out");
  auto d = open_file(dir / "sub", O_RDONLY | O_DIRECTORY);
  const open_how how{.flags = O_RDONLY, .mode = 0, .resolve = resolve_flags::beneath};
  auto ok = perform(ring, ops::openat2{.dir = d.get(), .path = "inner", .how = &how});
  ASSERT_GE(ok.res, 0) << ok.error().message();
  unique_fd inner(ok.res);
  char c[2];
  ASSERT_EQ(::read(inner.get(), c, 2), 2);
  EXPECT_EQ(std::string(c, 2), "in");
  // RESOLVE_BENEATH refuses to leave the directory: EXDEV.
  EXPECT_EQ(perform(ring, ops::openat2{.dir = d.get(), .path = "../outer", .how = &how}).error(),
            std::errc::cross_device_link);
  const open_how bad{.flags = O_RDONLY, .mode = 0, .resolve = resolve_flags(0x1000)};
  EXPECT_EQ(perform(ring, ops::openat2{.dir = d.get(), .path = "inner", .how = &bad}).error(),
            std::errc::invalid_argument);
}

TEST(files, statx_reports_size_and_mode) {
  auto ring = open_ring();
  temp_dir dir;
  write_file(dir / "s", std::string(1234, 'x'));
  ::chmod((dir / "s").c_str(), 0604);
  struct ::statx sx{};
  const fs::path p = dir / "s";
  auto r = perform(ring,
                   ops::statx{.path = p, .into = &sx, .mask = statx_mask::size | statx_mask::mode});
  ASSERT_EQ(r.res, 0) << r.error().message();
  EXPECT_EQ(sx.stx_size, 1234u);
  EXPECT_EQ(sx.stx_mode & 07777, 0604u);
  EXPECT_EQ(
      perform(ring, ops::statx{.path = p, .into = &sx, .flags = at_flags(0x80000000)}).error(),
      std::errc::invalid_argument);
  EXPECT_EQ(
      perform(ring, ops::statx{.path = p, .into = reinterpret_cast<struct ::statx*>(8)}).error(),
      std::errc::bad_address);
}

TEST(files, fallocate_ftruncate_sync_file_range_fadvise) {
  auto ring = open_ring();
  temp_dir dir;
  auto file = open_file(dir / "f");
  ASSERT_EQ(perform(ring, ops::fallocate{file.get(), 0, 8192}).res, 0);
  struct ::stat st{};
  ::fstat(file.get(), &st);
  EXPECT_EQ(st.st_size, 8192);
  EXPECT_GE(st.st_blocks * 512, 8192);
  ASSERT_EQ(perform(ring, ops::fallocate{file.get(), 0, 4096,
                                         fallocate_mode::punch_hole | fallocate_mode::keep_size})
                .res,
            0);
  ::fstat(file.get(), &st);
  EXPECT_EQ(st.st_size, 8192);

  if (lacks(opcode::ftruncate).empty()) {
    ASSERT_EQ(perform(ring, ops::ftruncate{file.get(), 10}).res, 0);
    ::fstat(file.get(), &st);
    EXPECT_EQ(st.st_size, 10);
  }
  ASSERT_EQ(::pwrite(file.get(), "0123456789", 10, 0), 10);
  ASSERT_EQ(
      perform(ring, ops::sync_file_range{file.get(), 0, 10,
                                         sync_range_flags::wait_before | sync_range_flags::write |
                                             sync_range_flags::wait_after})
          .res,
      0);
  EXPECT_EQ(perform(ring, ops::sync_file_range{file.get(), 0, 10, sync_range_flags(0x80)}).error(),
            std::errc::invalid_argument);
  ASSERT_EQ(perform(ring, ops::fadvise{file.get(), 0, 10, file_advice::willneed}).res, 0);
  EXPECT_EQ(perform(ring, ops::fadvise{file.get(), 0, 10, file_advice(99)}).error(),
            std::errc::invalid_argument);
  EXPECT_EQ(perform(ring, ops::fallocate{-1, 0, 4096}).error(), std::errc::bad_file_descriptor);
}

TEST(files, madvise_dontneed_drops_anonymous_pages) {
  auto ring = open_ring();
  const std::size_t size = std::size_t{4} * 4096;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 0x5a, size);
  auto r = perform(ring, ops::madvise{const_buffer(p, size), memory_advice::dontneed});
  ASSERT_EQ(r.res, 0) << r.error().message();
  // MADV_DONTNEED on private anonymous memory: the next touch sees zero-filled pages.
  EXPECT_EQ(static_cast<unsigned char*>(p)[0], 0);
  EXPECT_EQ(static_cast<unsigned char*>(p)[size - 1], 0);
  EXPECT_EQ(perform(ring, ops::madvise{const_buffer(static_cast<char*>(p) + 1, 4096),
                                       memory_advice::dontneed})
                .error(),
            std::errc::invalid_argument);  // unaligned start
  ::munmap(p, size);
}

TEST(files, rename_unlink_mkdir_symlink_link) {
  ::umask(022);
  auto ring = open_ring();
  temp_dir dir;
  auto d = open_file(dir.path(), O_RDONLY | O_DIRECTORY);
  write_file(dir / "a", "content");
  write_file(dir / "other", "x");
  ASSERT_EQ(perform(ring, ops::renameat{d.get(), "a", d.get(), "b"}).res, 0);
  EXPECT_FALSE(fs::exists(dir / "a"));
  EXPECT_EQ(read_file(dir / "b"), "content");
  EXPECT_EQ(
      perform(ring, ops::renameat{d.get(), "b", d.get(), "other", rename_flags::noreplace}).error(),
      std::errc::file_exists);
  // MKDIRAT, SYMLINKAT and LINKAT came together (5.15), after RENAMEAT and UNLINKAT.
  if (const auto why = lacks(opcode::mkdirat) + lacks(opcode::symlinkat) + lacks(opcode::linkat);
      !why.empty()) {
    std::cout << why << ": only RENAMEAT and UNLINKAT are checked\n";
    ASSERT_EQ(perform(ring, ops::unlinkat{d.get(), "b"}).res, 0);
    EXPECT_FALSE(fs::exists(dir / "b"));
    return;
  }

  ASSERT_EQ(perform(ring, ops::mkdirat{d.get(), "newdir", 0751}).res, 0);
  struct ::stat st{};
  ASSERT_EQ(::stat((dir / "newdir").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0751u);

  ASSERT_EQ(perform(ring, ops::symlinkat{"b", d.get(), "sym"}).res, 0);
  EXPECT_EQ(fs::read_symlink(dir / "sym"), fs::path("b"));
  EXPECT_EQ(read_file(dir / "sym"), "content");

  ASSERT_EQ(perform(ring, ops::linkat{d.get(), "b", d.get(), "hard"}).res, 0);
  struct ::stat sb{}, sh{};
  ::stat((dir / "b").c_str(), &sb);
  ::stat((dir / "hard").c_str(), &sh);
  EXPECT_EQ(sb.st_ino, sh.st_ino);
  EXPECT_EQ(sh.st_nlink, 2u);

  ASSERT_EQ(perform(ring, ops::unlinkat{d.get(), "hard"}).res, 0);
  EXPECT_FALSE(fs::exists(dir / "hard"));
  EXPECT_EQ(perform(ring, ops::unlinkat{d.get(), "newdir"}).error(), std::errc::is_a_directory);
  ASSERT_EQ(perform(ring, ops::unlinkat{d.get(), "newdir", at_flags::removedir}).res, 0);
  EXPECT_FALSE(fs::exists(dir / "newdir"));
  EXPECT_EQ(perform(ring, ops::mkdirat{-1, "rel"}).error(), std::errc::bad_file_descriptor);
}

TEST(files, extended_attributes) {
  if (const auto why = lacks(opcode::setxattr); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  temp_dir dir;
  fs::path p = dir / "x";
  write_file(p, "x");
  // User xattrs need a file system that stores them (tmpfs may not): fall back to /var/tmp.
  std::unique_ptr<temp_dir> fallback;
  if (::setxattr(p.c_str(), "user.probe", "1", 1, 0) != 0 && errno == EOPNOTSUPP) {
    ::setenv("URINE_TEST_DIR", "/var/tmp", 1);
    fallback = std::make_unique<temp_dir>();
    p = *fallback / "x";
    write_file(p, "x");
  }
  auto file = open_file(p, O_RDWR);
  const std::string value = "value-one";
  ASSERT_EQ(perform(ring, ops::fsetxattr{file.get(), "user.urine", value}).res, 0);
  char got[64] = {};
  ASSERT_EQ(::getxattr(p.c_str(), "user.urine", got, sizeof got), 9);
  EXPECT_EQ(std::string(got, 9), value);
  std::array<char, 64> back{};
  ASSERT_EQ(perform(ring, ops::fgetxattr{file.get(), "user.urine", back}).res, 9);
  EXPECT_EQ(std::string(back.data(), 9), value);

  const std::string two = "second";
  ASSERT_EQ(perform(ring, ops::setxattr{p, "user.path", two}).res, 0);
  back.fill(0);
  ASSERT_EQ(perform(ring, ops::getxattr{p, "user.path", back}).res, 6);
  EXPECT_EQ(std::string(back.data(), 6), two);
  EXPECT_EQ(perform(ring, ops::setxattr{p, "user.path", two, xattr_flags::create}).error(),
            std::errc::file_exists);
  EXPECT_EQ(perform(ring, ops::getxattr{p, "user.none", back}).error(),
            std::errc::no_message_available);
}

TEST(files, bad_input_surfaces_as_error_codes) {
  auto ring = open_ring();
  temp_dir dir;
  auto file = open_file(dir / "e");
  std::array<char, 16> buf{};
  EXPECT_EQ(perform(ring, ops::read{9999, buf, 0}).error(), std::errc::bad_file_descriptor);
  EXPECT_EQ(perform(ring, ops::read{fixed_file{3}, buf, 0}).error(),
            std::errc::bad_file_descriptor);
  EXPECT_EQ(perform(ring, ops::write{file.get(), const_buffer(reinterpret_cast<void*>(8), 16), 0})
                .error(),
            std::errc::bad_address);
  EXPECT_EQ(perform(ring, ops::read_fixed{file.get(), buffer(buf), fixed_buffer{5}, 0}).error(),
            std::errc::bad_address);
  EXPECT_EQ(perform(ring, ops::read{file.get(), buf, 0, rw_flags(0x8000)}).error(),
            std::errc::operation_not_supported);
  EXPECT_EQ(perform(ring, ops::openat{.path = "/nonexistent/x", .flags = O_RDONLY}).error(),
            std::errc::no_such_file_or_directory);
  // Protection information needs a block device with integrity: a regular file refuses it.
  // Kernels without IORING_FEAT_RW_ATTR (before 6.14) ignore the attribute and read.
  if ((ring.features() & feature_flags::rw_attr) == feature_flags::none) return;
  std::array<char, 8> tags{};
  urine::abi::attr_pi pi{};
  pi.addr = reinterpret_cast<std::uintptr_t>(tags.data());
  pi.len = tags.size();
  const auto refused =
      perform(ring, ops::read{.file = file.get(), .into = buf, .offset = 0, .pi = &pi});
  std::cout << "PI on a regular file: " << refused.error().message() << '\n';
  EXPECT_EQ(refused.error(), std::errc::invalid_argument);
}
