// Memory regions (REGISTER_MEM_REGION, 6.13) and their one use in 6.18: registered wait
// arguments. The wait parameters (timeout, minimum wait, signal mask) live in an array shared
// with the kernel, and a wait names a slot by index (IORING_ENTER_EXT_ARG_REG) instead of
// copying a struct in on every call.
module;
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <system_error>
#include <utility>
export module urine.registration:mem_region;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// Who provides a region's memory.
enum class region_memory : std::uint8_t {
  application,  ///< urine maps anonymous memory and the kernel pins it
                ///< (IORING_MEM_REGION_TYPE_USER)
  kernel,       ///< the kernel allocates it and urine maps it through the ring fd
};

/// An array of `abi::reg_wait` slots registered with a ring. The kernel keeps a region until
/// the ring closes (there is no unregister), so this handle only owns the mapping, and dropping
/// it early is harmless. Only a ring created disabled accepts it (register, then enable_rings()).
class wait_region {
 public:
  wait_region(wait_region&& o) noexcept
      : slots_(std::exchange(o.slots_, {})), mapped_(std::exchange(o.mapped_, 0)) {}
  wait_region& operator=(wait_region&& o) noexcept;
  wait_region(const wait_region&) = delete;
  wait_region& operator=(const wait_region&) = delete;
  ~wait_region();

  [[nodiscard]] std::span<abi::reg_wait> slots() const noexcept { return slots_; }
  [[nodiscard]] std::uint32_t size() const noexcept {
    return static_cast<std::uint32_t>(slots_.size());
  }
  [[nodiscard]] abi::reg_wait& operator[](std::uint32_t i) const noexcept { return slots_[i]; }

  /// Fill slot `i` for a wait with a relative timeout (and a minimum wait before a partial batch
  /// is returned, 6.12+).
  void set_timeout(std::uint32_t i, std::chrono::nanoseconds timeout,
                   std::chrono::microseconds min_wait = {}) const noexcept;

 private:
  friend result<wait_region> register_wait_region(ring_ref, std::uint32_t, region_memory);
  wait_region(std::span<abi::reg_wait> slots, std::size_t mapped) noexcept
      : slots_(slots), mapped_(mapped) {}
  std::span<abi::reg_wait> slots_;
  std::size_t mapped_ = 0;
};

/// Register `count` wait slots with `ring` (IORING_REGISTER_MEM_REGION with
/// IORING_MEM_REGION_REG_WAIT_ARG). The ring must be disabled still, and takes one such region.
[[nodiscard]] result<wait_region> register_wait_region(
    ring_ref ring, std::uint32_t count, region_memory memory = region_memory::application);

/// Submit what is prepared and wait for `wait_nr` completions with the parameters in slot
/// `slot` of the ring's wait region (IORING_ENTER_EXT_ARG | IORING_ENTER_EXT_ARG_REG). ETIME
/// when the slot's timeout passes first.
template <class Config>
std::expected<unsigned, std::error_code> submit_and_wait_registered(basic_ring<Config>& ring,
                                                                    const wait_region& region,
                                                                    std::uint32_t slot,
                                                                    unsigned wait_nr = 1) noexcept {
  if (slot >= region.size()) return std::unexpected(errno_code(EINVAL));
  const auto submitted = ring.submit();
  if (!submitted) return submitted;
  // With EXT_ARG_REG the argument is not a pointer but the byte offset of the slot in the region,
  // passed in the pointer argument because that is where the kernel reads it.
  const int ret = ring.enter(
      0, wait_nr, bits(enter_flags::getevents | enter_flags::ext_arg | enter_flags::ext_arg_reg),
      // NOLINTNEXTLINE(performance-no-int-to-ptr)
      reinterpret_cast<const void*>(std::uintptr_t{slot} * sizeof(abi::reg_wait)),
      sizeof(abi::reg_wait));
  if (ret < 0) return std::unexpected(errno_code(-ret));
  return ring.cq_ready();
}

}  // namespace urine
