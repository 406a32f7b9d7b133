// The scratch NVMe namespace the device tests write to, found through URINE_TEST_NVME (a block
// device such as /dev/nvme0n2 whose contents may be destroyed; tests/kernels/vm.sh provides one
// in its guest). Never guessed by scanning: a test must not overwrite a disk nobody offered.
// Also what the tests share: sector-aligned memory for O_DIRECT and a bounded reap for polled
// rings.
module;
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>
export module urine.device_test_support;
import urine;
import urine.test_support;

export namespace urine::test {

/// The namespace offered for destruction: its block device, its generic char device, its id.
struct polled_nvme {
  std::string block;       ///< /dev/nvmeXnY
  std::string generic;     ///< /dev/ngXnY (5.13+; may not exist)
  std::string controller;  ///< /dev/nvmeX, where admin commands go
  std::string name;        ///< nvmeXnY
  std::uint32_t sector;    ///< logical block size in bytes
  std::uint64_t sectors;   ///< capacity in logical blocks
};

/// A line of a sysfs file, or empty.
inline std::string sysfs_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

/// The namespace named by URINE_TEST_NVME if it can do polled I/O; otherwise the reason to skip.
inline std::pair<polled_nvme, std::string> find_polled_nvme() {
  const char* path = std::getenv("URINE_TEST_NVME");
  if (path == nullptr || *path == '\0')
    return {
        {},
        "no scratch NVMe namespace: set URINE_TEST_NVME to a block device whose data may be "
        "destroyed, on a controller with poll queues (tests/kernels/run.sh does this in its VM)"};
  struct ::stat st{};
  if (::stat(path, &st) != 0 || !S_ISBLK(st.st_mode))
    return {{}, std::string("URINE_TEST_NVME=") + path + " is not a block device"};
  polled_nvme d;
  d.block = path;
  d.name = d.block.substr(d.block.rfind('/') + 1);
  if (!d.name.starts_with("nvme"))
    return {{}, std::string("URINE_TEST_NVME=") + path + " is not an NVMe namespace (nvmeXnY)"};
  d.generic = "/dev/ng" + d.name.substr(4);
  d.controller = "/dev/" + d.name.substr(0, d.name.rfind('n'));
  const std::string queue = "/sys/block/" + d.name + "/queue/";
  if (sysfs_line(queue + "io_poll") != "1")
    return {{}, d.name + " has no poll queues (load the nvme driver with poll_queues=N)"};
  d.sector = static_cast<std::uint32_t>(std::stoul(sysfs_line(queue + "logical_block_size")));
  d.sectors = std::stoull(sysfs_line("/sys/block/" + d.name + "/size")) * 512 / d.sector;
  return {d, {}};
}

/// Page-aligned memory, as O_DIRECT and NVMe data transfers want it.
class aligned_bytes {
 public:
  explicit aligned_bytes(std::size_t n)
      : size_(n),
        data_(static_cast<std::byte*>(std::aligned_alloc(4096, (n + 4095) / 4096 * 4096))) {
    std::memset(data_.get(), 0, n);
  }
  [[nodiscard]] std::byte* data() const noexcept { return data_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::span<std::byte> span() const noexcept { return {data_.get(), size_}; }
  /// Fill with urine::test::pattern(size, seed).
  void fill(unsigned seed) const {
    const std::string p = pattern(size_, seed);
    std::memcpy(data_.get(), p.data(), size_);
  }
  [[nodiscard]] std::string str() const {
    return {reinterpret_cast<const char*>(data_.get()), size_};
  }

 private:
  struct release {
    void operator()(std::byte* p) const noexcept { std::free(p); }
  };
  std::size_t size_;
  std::unique_ptr<std::byte, release> data_;
};

/// One completion copied out of the ring.
struct polled_result {
  std::uint64_t user_data;
  std::int32_t result;
};

/// Reap `n` completions from a polled ring, entering with GETEVENTS (each entry polls the device
/// once) until they are there or `limit` has passed: a device that never completes fails the
/// test instead of hanging it, on every kernel (no EXT_ARG timeout needed).
template <class Ring>
std::vector<polled_result> reap_polled(Ring& r, std::size_t n,
                                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::vector<polled_result> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    if (!r.get_events()) break;
    r.for_each_cqe([&](auto c) { out.push_back({c.user_data().value(), c.result()}); });
  }
  return out;
}

/// Open the namespace for direct I/O (or throw).
inline unique_fd open_direct(const polled_nvme& d) { return open_file(d.block, O_RDWR | O_DIRECT); }

}  // namespace urine::test
