// Registered files: descriptors looked up once, so operations given a `fixed_file` skip the
// per-request file-table lookup and reference counting. REGISTER_FILES, FILES2 (tags, sparse),
// FILES_UPDATE, FILES_UPDATE2, FILE_ALLOC_RANGE and UNREGISTER_FILES.
module;
#include <cstdint>
#include <span>
export module urine.registration:files;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// In a files update: leave this slot as it is (IORING_REGISTER_FILES_SKIP).
inline constexpr int skip_slot = register_files_skip;
/// In a files registration or update: an empty slot.
inline constexpr int empty_slot = -1;

/// A ring's registered file table. Each slot is a `fixed_file` the operations take; direct
/// descriptors (opened with a file_index) land in it too. Unregisters on destruction.
/// unregister() drops the table (IORING_UNREGISTER_FILES).
class registered_files : public detail::registration<registered_files, std::uint32_t> {
 public:
  /// IORING_MAX_FIXED_FILES; the kernel also caps a table at RLIMIT_NOFILE.
  static constexpr std::uint32_t max_entries = 1u << 20;

  using registration::registration;

  [[nodiscard]] std::uint32_t size() const noexcept { return payload(); }
  /// The slot `i` as the operations take it; `i` must be below size().
  [[nodiscard]] fixed_file operator[](std::uint32_t i) const noexcept { return fixed_file(i); }
  /// The slot `i`, or an error naming the table size when it is out of range.
  [[nodiscard]] result<fixed_file> at(std::uint32_t i) const;

  /// Set slots offset ... offset + fds.size() - 1 to `fds` (skip_slot: unchanged, empty_slot:
  /// cleared) (IORING_REGISTER_FILES_UPDATE). Returns how many slots the kernel updated.
  result<unsigned> update(std::uint32_t offset, std::span<const int> fds);
  /// The same with a tag per new file (IORING_REGISTER_FILES_UPDATE2): when a tagged file leaves
  /// its slot, a CQE with the tag as user data is posted.
  result<unsigned> update(std::uint32_t offset, std::span<const int> fds,
                          std::span<const std::uint64_t> tags);

  /// Where the kernel picks slots for direct descriptors opened with file_index_alloc
  /// (IORING_REGISTER_FILE_ALLOC_RANGE): slots offset ... offset + count - 1.
  result<void> set_alloc_range(std::uint32_t offset, std::uint32_t count);

 private:
  friend registration;
  static constexpr register_opcode unregister_opcode = register_opcode::unregister_files;
  static result<void> unregister_from(ring_ref ring, std::uint32_t size);
};

/// Register `fds` as the ring's file table (IORING_REGISTER_FILES); empty_slot leaves a slot free.
[[nodiscard]] result<registered_files> register_files(ring_ref ring, std::span<const int> fds);
/// Register with a tag per file (IORING_REGISTER_FILES2).
[[nodiscard]] result<registered_files> register_files(ring_ref ring, std::span<const int> fds,
                                                      std::span<const std::uint64_t> tags);
/// A table of `count` empty slots, for direct descriptors and update() (FILES2, SPARSE).
[[nodiscard]] result<registered_files> register_sparse_files(ring_ref ring, std::uint32_t count);

}  // namespace urine
