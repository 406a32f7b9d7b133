// File lifetime and durability: FSYNC, CLOSE.
module;
#include <concepts>
#include <cstdint>
export module urine.ops:file;
import urine.abi;
import :prep;

export namespace urine::ops {

/// FSYNC: flush `file` to storage (fsync_flags::datasync: fdatasync). With a nonzero `length`,
/// only the range [offset, offset + length) is synced.
template <file_target File = int>
struct fsync {
  static constexpr opcode code = opcode::fsync;
  File file;
  fsync_flags flags = fsync_flags::none;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, 0, length, offset);
    s.fsync_flags = bits(flags);
  }
};

/// CLOSE: close a descriptor, or free a registered file slot (a fixed_file).
template <file_target File = int>
struct close {
  static constexpr opcode code = opcode::close;
  File file;

  inline void prepare(abi::sqe& s) const noexcept {
    s.opcode = static_cast<std::uint8_t>(code);
    if constexpr (std::same_as<File, fixed_file>)
      s.file_index = file.index + 1;  // the kernel takes slot + 1 here, 0 meaning "none"
    else
      s.fd = file;
  }
};

}  // namespace urine::ops
