// Registered buffers: memory pinned once so that READ_FIXED / WRITE_FIXED (and the other
// fixed-buffer forms) skip the per-I/O page pinning. REGISTER_BUFFERS, BUFFERS2 (tags, sparse),
// BUFFERS_UPDATE, UNREGISTER_BUFFERS and CLONE_BUFFERS.
module;
#include <sys/uio.h>
#include <cstddef>
#include <cstdint>
#include <span>
export module urine.registration:buffers;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// Which slots CLONE_BUFFERS copies: `count` slots from `source_offset` of the source table to
/// `offset` of the new one (count 0: all the source's slots from source_offset on).
struct clone_range {
  std::uint32_t source_offset = 0;
  std::uint32_t offset = 0;
  std::uint32_t count = 0;
};

/// A ring's registered buffer table. Each slot is a `fixed_buffer` the fixed-buffer operations
/// take; an operation's memory must lie inside the slot's buffer. Unregisters on destruction;
/// unregister() drops the table now (IORING_UNREGISTER_BUFFERS).
class registered_buffers : public detail::registration<registered_buffers, std::uint32_t> {
 public:
  /// IORING_MAX_REG_BUFFERS: the most slots a table may have.
  static constexpr std::uint32_t max_entries = 1u << 14;
  /// The largest single buffer the kernel accepts (1 GiB).
  static constexpr std::size_t max_buffer_size = std::size_t{1} << 30;

  using registration::registration;

  /// Slots in the table (sparse slots included).
  [[nodiscard]] std::uint32_t size() const noexcept { return payload(); }
  /// The slot `i` as the operations take it; `i` must be below size().
  [[nodiscard]] fixed_buffer operator[](std::uint16_t i) const noexcept { return fixed_buffer(i); }
  /// The slot `i`, or an error naming the table size when it is out of range.
  [[nodiscard]] result<fixed_buffer> at(std::uint32_t i) const;

  /// Replace slots offset ... offset + iov.size() - 1 (an iovec with a null base empties a slot),
  /// with tags for the new buffers when given (IORING_REGISTER_BUFFERS_UPDATE). A replaced
  /// buffer that carried a tag posts a CQE with that tag as user data once the kernel lets go.
  result<void> update(std::uint32_t offset, std::span<const ::iovec> iov,
                      std::span<const std::uint64_t> tags = {});

 private:
  friend registration;
  static constexpr register_opcode unregister_opcode = register_opcode::unregister_buffers;
  static result<void> unregister_from(ring_ref ring, std::uint32_t size);
};

/// Register `iov` as the ring's buffer table (IORING_REGISTER_BUFFERS).
[[nodiscard]] result<registered_buffers> register_buffers(ring_ref ring,
                                                          std::span<const ::iovec> iov);
/// Register with a tag per buffer (IORING_REGISTER_BUFFERS2): when a tagged buffer is replaced
/// or unregistered, a CQE with the tag as user data tells the application the memory is free.
[[nodiscard]] result<registered_buffers> register_buffers(ring_ref ring,
                                                          std::span<const ::iovec> iov,
                                                          std::span<const std::uint64_t> tags);
/// A table of `count` empty slots, to be filled with update() (IORING_REGISTER_BUFFERS2, SPARSE).
[[nodiscard]] result<registered_buffers> register_sparse_buffers(ring_ref ring,
                                                                 std::uint32_t count);

/// Give `ring` (which has no buffer table yet) the buffers of `source`'s table without pinning
/// them again (IORING_REGISTER_CLONE_BUFFERS, 6.12). The two tables are independent afterwards.
[[nodiscard]] result<registered_buffers> clone_buffers(ring_ref ring,
                                                       const registered_buffers& source,
                                                       clone_range range = {});

}  // namespace urine
