// IOPOLL and hybrid IOPOLL rings on a device that really polls: O_DIRECT writes and reads, plain
// and through registered buffers, complete by polling, and the bytes read back are the bytes
// written. Each test uses its own region of the scratch namespace.
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
import urine;
import urine.test_support;
import urine.device_test_support;

namespace {

using namespace urine;

template <class Polling>
class polled_io : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    std::tie(device_, reason) = test::find_polled_nvme();
    if (!reason.empty()) GTEST_SKIP() << reason;
    if (const auto missing = test::lacks(Polling::flags); !missing.empty()) GTEST_SKIP() << missing;
  }
  test::polled_nvme device_;
};

using pollings = ::testing::Types<iopoll, hybrid_iopoll>;
TYPED_TEST_SUITE(polled_io, pollings);

constexpr std::size_t block = 16384;

// Push one operation, submit it and reap its completion from the polled ring: its result, or
// -ETIMEDOUT (and a failure) when the device does not complete it within 10 s.
template <class Ring, class Op>
std::int32_t perform(Ring& r, const Op& op) {
  EXPECT_TRUE(r.push(op, 1)) << "SQ full";
  EXPECT_TRUE(r.submit().has_value());
  const auto done = test::reap_polled(r, 1);
  if (done.size() != 1) {
    ADD_FAILURE() << "the device did not complete the operation within 10 s";
    return -ETIMEDOUT;
  }
  return done[0].result;
}

TYPED_TEST(polled_io, direct_writes_then_reads_return_the_same_bytes) {
  auto r = ring<TypeParam>::create(8);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  auto fd = test::open_direct(this->device_);
  const std::uint64_t offset = 1 << 20;

  test::aligned_bytes out(2 * block), in(2 * block);
  out.fill(7);
  ASSERT_TRUE(r->push(ops::write{fd.get(), out.span().first(block), offset}, 1));
  ASSERT_TRUE(r->push(ops::write{fd.get(), out.span().subspan(block), offset + block}, 2));
  ASSERT_TRUE(r->submit().has_value());
  const auto written = test::reap_polled(*r, 2);
  ASSERT_EQ(written.size(), 2u) << "the device did not complete both writes within 10 s";
  for (const auto& c : written)
    EXPECT_EQ(c.result, static_cast<std::int32_t>(block)) << c.user_data;

  EXPECT_EQ(perform(*r, ops::read{fd.get(), in.span(), offset}),
            static_cast<std::int32_t>(2 * block));
  EXPECT_EQ(in.str(), out.str());

  // Independent of io_uring: the device holds what the ring wrote.
  test::aligned_bytes check(2 * block);
  ASSERT_EQ(::pread(fd.get(), check.data(), check.size(), offset),
            static_cast<ssize_t>(check.size()));
  EXPECT_EQ(check.str(), out.str());
}

TYPED_TEST(polled_io, fixed_buffers_carry_writes_and_reads) {
  auto r = ring<TypeParam>::create(8);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  auto fd = test::open_direct(this->device_);
  const std::uint64_t offset = 2 << 20;

  test::aligned_bytes out(block), in(block);
  out.fill(11);
  const ::iovec iov[2] = {{out.data(), out.size()}, {in.data(), in.size()}};
  auto buffers = register_buffers(*r, iov);
  ASSERT_TRUE(buffers.has_value()) << buffers.error().message();

  // Seed the region with other bytes first, so a read that did nothing cannot pass.
  test::aligned_bytes stale(block);
  stale.fill(12);
  ASSERT_EQ(::pwrite(fd.get(), stale.data(), stale.size(), offset), static_cast<ssize_t>(block));

  EXPECT_EQ(perform(*r, ops::write_fixed{.file = fd.get(),
                                         .from = out.span(),
                                         .buf_index = buffers->at(0).value(),
                                         .offset = offset}),
            static_cast<std::int32_t>(block));
  EXPECT_EQ(perform(*r, ops::read_fixed{.file = fd.get(),
                                        .into = in.span(),
                                        .buf_index = buffers->at(1).value(),
                                        .offset = offset}),
            static_cast<std::int32_t>(block));
  EXPECT_EQ(in.str(), out.str());
}

TYPED_TEST(polled_io, a_batch_of_reads_completes_each_with_its_own_bytes) {
  auto r = ring<TypeParam>::create(32);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  auto fd = test::open_direct(this->device_);
  const std::uint64_t offset = 3 << 20;
  constexpr unsigned n = 16;
  const std::size_t sector = this->device_.sector;

  test::aligned_bytes disk(n * sector);
  disk.fill(13);
  ASSERT_EQ(::pwrite(fd.get(), disk.data(), disk.size(), offset),
            static_cast<ssize_t>(disk.size()));

  // Read the sectors back in reverse order, each into its own slot of `in`.
  test::aligned_bytes in(n * sector);
  for (unsigned i = 0; i < n; ++i)
    ASSERT_TRUE(r->push(
        ops::read{fd.get(), in.span().subspan(i * sector, sector), offset + (n - 1 - i) * sector},
        i));
  ASSERT_TRUE(r->submit().has_value());
  const auto read = test::reap_polled(*r, n);
  ASSERT_EQ(read.size(), n) << "the device did not complete all reads within 10 s";
  for (const auto& c : read) EXPECT_EQ(c.result, static_cast<std::int32_t>(sector)) << c.user_data;
  const std::string want = disk.str(), got = in.str();
  for (unsigned i = 0; i < n; ++i)
    EXPECT_EQ(got.substr(i * sector, sector), want.substr((n - 1 - i) * sector, sector))
        << "slot " << i;
}

}  // namespace
