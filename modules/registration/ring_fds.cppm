// Registered ring descriptors (REGISTER_RING_FDS, UNREGISTER_RING_FDS): an index in the calling
// thread's table that io_uring_enter(2) and io_uring_register(2) accept instead of the ring's fd,
// sparing a file-table lookup per call. The registered_ring_fd policy of urine.ring registers
// its own ring at creation; this is the general facility (any ring fd, any slot).
module;
#include <cstdint>
export module urine.registration:ring_fds;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// IO_RINGFD_REG_MAX: slots in a thread's registered-ring table.
inline constexpr std::uint32_t max_registered_ring_fds = 16;

/// One registered ring fd. The table belongs to the registering thread: use the index and
/// unregister on that thread. Unregisters on destruction (IORING_UNREGISTER_RING_FDS).
class registered_ring_index : public detail::registration<registered_ring_index, std::uint32_t> {
 public:
  using registration::registration;

  /// Pass this as the fd of io_uring_enter(2) with IORING_ENTER_REGISTERED_RING.
  [[nodiscard]] std::uint32_t index() const noexcept { return payload(); }

 private:
  friend registration;
  static constexpr register_opcode unregister_opcode = register_opcode::unregister_ring_fds;
  static result<void> unregister_from(ring_ref ring, std::uint32_t index);
};

/// Any free slot of the thread's registered-ring table.
inline constexpr std::uint32_t any_ring_slot = ~0u;

/// Register `fd` (-1: the ring's own fd) in slot `slot` (any_ring_slot: the kernel picks).
[[nodiscard]] result<registered_ring_index> register_ring_fd(ring_ref ring, int fd = -1,
                                                             std::uint32_t slot = any_ring_slot);

}  // namespace urine
