// NVMe passthrough by URING_CMD: admin Identify commands on the controller's char device
// (/dev/nvmeX) answer what sysfs says about the controller and namespace, and NVMe Read and Write
// commands on the namespace's generic char device (/dev/ngXnY) move the same bytes as the block
// device's O_DIRECT I/O. ring<sqe128, cqe32>: the
// command is 80 bytes, and the 32-byte CQE carries the NVMe completion's dword 0.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
import urine;
import urine.test_support;
import urine.device_test_support;

namespace {

using namespace urine;
using namespace std::chrono_literals;

// The kernel's struct nvme_uring_cmd (include/uapi/linux/nvme_ioctl.h, 5.19), spelled out so the
// test does not depend on the installed headers.
struct nvme_uring_cmd {
  std::uint8_t opcode = 0;
  std::uint8_t flags = 0;
  std::uint16_t rsvd1 = 0;
  std::uint32_t nsid = 0;
  std::uint32_t cdw2 = 0;
  std::uint32_t cdw3 = 0;
  std::uint64_t metadata = 0;
  std::uint64_t addr = 0;
  std::uint32_t metadata_len = 0;
  std::uint32_t data_len = 0;
  std::uint32_t cdw10 = 0;
  std::uint32_t cdw11 = 0;
  std::uint32_t cdw12 = 0;
  std::uint32_t cdw13 = 0;
  std::uint32_t cdw14 = 0;
  std::uint32_t cdw15 = 0;
  std::uint32_t timeout_ms = 0;
  std::uint32_t rsvd2 = 0;
};
static_assert(sizeof(nvme_uring_cmd) == 72);

constexpr std::uint32_t nvme_uring_cmd_io = _IOWR('N', 0x80, nvme_uring_cmd);
constexpr std::uint32_t nvme_uring_cmd_admin = _IOWR('N', 0x82, nvme_uring_cmd);
constexpr unsigned long nvme_ioctl_id = _IO('N', 0x40);

// NVMe opcodes and Identify CNS values (NVMe base specification).
constexpr std::uint8_t admin_identify = 0x06;
constexpr std::uint32_t identify_namespace = 0x00;
constexpr std::uint32_t identify_controller = 0x01;
constexpr std::uint8_t io_write = 0x01;
constexpr std::uint8_t io_read = 0x02;

using passthrough_ring = ring<sqe128, cqe32>;

constexpr const char* no_admin_passthrough =
    "the controller's char device takes no URING_CMD (admin passthrough came in 6.0)";

class nvme_passthrough : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    std::tie(device_, reason) = test::find_polled_nvme();
    if (!reason.empty()) GTEST_SKIP() << reason;
    if (const auto missing = test::lacks(opcode::uring_cmd); !missing.empty())
      GTEST_SKIP() << missing;
    struct ::stat st{};
    if (::stat(device_.generic.c_str(), &st) != 0 || !S_ISCHR(st.st_mode))
      GTEST_SKIP() << "no NVMe generic char device " << device_.generic << " (since 5.13)";
    generic_ = test::open_file(device_.generic, O_RDWR);
    controller_ = test::open_file(device_.controller, O_RDWR);
    block_ = test::open_direct(device_);
    nsid_ = static_cast<std::uint32_t>(::ioctl(block_.get(), nvme_ioctl_id));
    ASSERT_GT(static_cast<int>(nsid_), 0) << "NVME_IOCTL_ID";
    auto r = passthrough_ring::create(8);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    ring_.emplace(std::move(*r));
  }

  struct answer {
    std::int32_t status;   ///< the CQE's result: NVMe status, or -errno
    std::uint64_t dword0;  ///< the NVMe completion's dword 0 (first extra of the big CQE)
  };

  // Push one command to `fd` and wait (at most 10 s) for its completion.
  answer run(int fd, std::uint32_t cmd_op, const nvme_uring_cmd& cmd) {
    std::array<std::byte, 80> payload{};
    std::memcpy(payload.data(), &cmd, sizeof cmd);
    EXPECT_TRUE(ring_->push(ops::uring_cmd80{.file = fd, .cmd_op = cmd_op, .payload = payload}, 1));
    const auto waited = ring_->submit_and_wait_for(1, 10s);
    EXPECT_TRUE(waited.has_value()) << waited.error().message();
    auto c = ring_->peek_cqe();
    if (!c) {
      ADD_FAILURE() << "no completion within 10 s";
      return {-1, 0};
    }
    const answer a{c.result(), c.extra()[0]};
    EXPECT_EQ(c.user_data().value(), 1u);
    ring_->cqe_seen(c);
    return a;
  }

  // Admin commands go to the controller's char device, which takes URING_CMD since 6.0.
  answer admin(const nvme_uring_cmd& cmd) {
    return run(controller_.get(), nvme_uring_cmd_admin, cmd);
  }

  nvme_uring_cmd io(std::uint8_t opcode, std::uint64_t lba, const test::aligned_bytes& data) const {
    const auto blocks = static_cast<std::uint32_t>(data.size() / device_.sector);
    return {.opcode = opcode,
            .nsid = nsid_,
            .addr = reinterpret_cast<std::uintptr_t>(data.data()),
            .data_len = static_cast<std::uint32_t>(data.size()),
            .cdw10 = static_cast<std::uint32_t>(lba),
            .cdw11 = static_cast<std::uint32_t>(lba >> 32),
            .cdw12 = blocks - 1};  // 0-based count
  }

  test::polled_nvme device_;
  test::unique_fd generic_, controller_, block_;
  std::uint32_t nsid_ = 0;
  std::optional<passthrough_ring> ring_;
};

std::string trimmed(const std::byte* p, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  return s.substr(0, s.find_last_not_of(' ') + 1);
}

TEST_F(nvme_passthrough, identify_controller_names_the_serial_sysfs_reports) {
  test::aligned_bytes data(4096);
  const auto a = admin({.opcode = admin_identify,
                        .addr = reinterpret_cast<std::uintptr_t>(data.data()),
                        .data_len = 4096,
                        .cdw10 = identify_controller});
  if (a.status == -EOPNOTSUPP) GTEST_SKIP() << no_admin_passthrough;
  ASSERT_EQ(a.status, 0) << "NVMe status or -errno";
  // Identify Controller: bytes 4-23 are the serial number, ASCII padded with spaces.
  const std::string controller = device_.name.substr(0, device_.name.rfind('n'));
  const std::string serial = test::sysfs_line("/sys/class/nvme/" + controller + "/serial");
  ASSERT_FALSE(serial.empty());
  EXPECT_EQ(trimmed(data.data() + 4, 20), serial.substr(0, serial.find_last_not_of(' ') + 1));
}

TEST_F(nvme_passthrough, identify_namespace_reports_the_capacity_of_the_block_device) {
  test::aligned_bytes data(4096);
  const auto a = admin({.opcode = admin_identify,
                        .nsid = nsid_,
                        .addr = reinterpret_cast<std::uintptr_t>(data.data()),
                        .data_len = 4096,
                        .cdw10 = identify_namespace});
  if (a.status == -EOPNOTSUPP) GTEST_SKIP() << no_admin_passthrough;
  ASSERT_EQ(a.status, 0) << "NVMe status or -errno";
  std::uint64_t size = 0;  // NSZE: the namespace's size in logical blocks
  std::memcpy(&size, data.data(), sizeof size);
  EXPECT_EQ(size, device_.sectors);
}

TEST_F(nvme_passthrough, read_command_returns_what_a_direct_write_stored) {
  const std::uint64_t offset = 4 << 20;
  test::aligned_bytes disk(8 * device_.sector), in(8 * device_.sector);
  disk.fill(21);
  ASSERT_EQ(::pwrite(block_.get(), disk.data(), disk.size(), offset),
            static_cast<ssize_t>(disk.size()));
  const auto a = run(generic_.get(), nvme_uring_cmd_io, io(io_read, offset / device_.sector, in));
  ASSERT_EQ(a.status, 0) << "NVMe status or -errno";
  EXPECT_EQ(in.str(), disk.str());
}

TEST_F(nvme_passthrough, write_command_stores_what_a_direct_read_returns) {
  const std::uint64_t offset = 5 << 20;
  test::aligned_bytes out(8 * device_.sector), disk(8 * device_.sector);
  out.fill(22);
  const auto a = run(generic_.get(), nvme_uring_cmd_io, io(io_write, offset / device_.sector, out));
  ASSERT_EQ(a.status, 0) << "NVMe status or -errno";
  ASSERT_EQ(::pread(block_.get(), disk.data(), disk.size(), offset),
            static_cast<ssize_t>(disk.size()));
  EXPECT_EQ(disk.str(), out.str());
}

}  // namespace
