// Descriptor-level file operations: FSYNC, SYNC_FILE_RANGE, FALLOCATE, FADVISE, MADVISE,
// FTRUNCATE, CLOSE, FILES_UPDATE, FIXED_FD_INSTALL.
module;
#include <concepts>
#include <cstdint>
#include <limits>
#include <span>
export module urine.ops:file;
import urine.abi;
import :buffers;
import :prep;

export namespace urine {

/// sync_file_range(2) flags (SYNC_FILE_RANGE_*), sqe->sync_range_flags.
enum class sync_range_flags : std::uint32_t {
  none = 0,
  wait_before = 1u << 0,
  write = 1u << 1,
  wait_after = 1u << 2,
};
template <>
inline constexpr bool is_bitmask<sync_range_flags> = true;

/// fallocate(2) modes (FALLOC_FL_*), carried in sqe->len.
enum class fallocate_mode : std::uint32_t {
  allocate = 0,
  keep_size = 0x01,
  punch_hole = 0x02,
  collapse_range = 0x08,
  zero_range = 0x10,
  insert_range = 0x20,
  unshare_range = 0x40,
};
template <>
inline constexpr bool is_bitmask<fallocate_mode> = true;

/// posix_fadvise(2) advice (POSIX_FADV_*).
enum class file_advice : std::uint32_t {
  normal = 0,
  random = 1,
  sequential = 2,
  willneed = 3,
  dontneed = 4,
  noreuse = 5
};

/// madvise(2) advice (MADV_*); the common ones (any other value: static_cast).
enum class memory_advice : std::uint32_t {
  normal = 0,
  random = 1,
  sequential = 2,
  willneed = 3,
  dontneed = 4,
  free = 8,
  cold = 20,
  pageout = 21,
};

}  // namespace urine

export namespace urine::detail {

/// FADVISE and MADVISE take a 64-bit length in their second address field (6.12+) and fall back
/// to the 32-bit len when it is 0; use the wide field only when the length needs it.
inline void set_advice_length(abi::sqe& s, std::uint64_t length, std::uint64_t& wide) noexcept {
  if (length > std::numeric_limits<std::uint32_t>::max())
    wide = length;
  else
    s.len = static_cast<std::uint32_t>(length);
}

}  // namespace urine::detail

export namespace urine::ops {

/// FSYNC: flush `file` to storage (fsync_flags::datasync: fdatasync). With a nonzero `length`,
/// only the range [offset, offset + length) is synced.
struct fsync {
  static constexpr opcode code = opcode::fsync;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  fsync_flags flags = fsync_flags::none;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, 0, length, offset);
    s.fsync_flags = bits(flags);
  }
};

/// SYNC_FILE_RANGE: sync_file_range(2) on [offset, offset + length).
struct sync_file_range {
  static constexpr opcode code = opcode::sync_file_range;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  sync_range_flags flags = sync_range_flags::write;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, 0, length, offset);
    s.sync_range_flags = bits(flags);
  }
};

/// FALLOCATE: fallocate(2) — allocate, punch, zero ... [offset, offset + length).
struct fallocate {
  static constexpr opcode code = opcode::fallocate;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  fallocate_mode mode = fallocate_mode::allocate;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, length, bits(mode), offset);
  }
};

/// FADVISE: posix_fadvise(2) on [offset, offset + length) (length 0: to the end).
struct fadvise {
  static constexpr opcode code = opcode::fadvise;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  file_advice advice = file_advice::normal;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, 0, 0, offset);
    detail::set_advice_length(s, length, s.addr);
    s.fadvise_advice = static_cast<std::uint32_t>(advice);
  }
};

/// MADVISE: madvise(2) on this process's memory `range`.
struct madvise {
  static constexpr opcode code = opcode::madvise;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  const_buffer range;
  memory_advice advice = memory_advice::normal;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, -1, range.address(), 0, 0);
    detail::set_advice_length(s, range.size(), s.off);
    s.fadvise_advice = static_cast<std::uint32_t>(advice);
  }
};

/// FTRUNCATE (6.9): ftruncate(2) to `length` bytes.
struct ftruncate {
  static constexpr opcode code = opcode::ftruncate;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::uint64_t length = 0;

  inline void prepare(abi::sqe& s) const noexcept { detail::prep_rw(s, code, file, 0, 0, length); }
};

/// CLOSE: close a descriptor, or free a registered file slot (a fixed_file).
struct close {
  static constexpr opcode code = opcode::close;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;

  inline void prepare(abi::sqe& s) const noexcept {
    s.opcode = static_cast<std::uint8_t>(code);
    if (file.fixed())
      s.file_index = static_cast<std::uint32_t>(file.value()) + 1;  // slot + 1; 0 means "none"
    else
      s.fd = file.value();
  }
};

/// FILES_UPDATE: replace registered file slots [offset, offset + fds.size()) with `fds` (-1
/// clears a slot). With `offset` = file_index_alloc the kernel picks free slots and writes their
/// indices back into `fds`. Result: the number of slots updated.
struct files_update {
  static constexpr opcode code = opcode::files_update;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  std::span<int> fds;
  std::uint32_t offset = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, -1, detail::address_of(fds.data()),
                    static_cast<std::uint32_t>(fds.size()), offset);
  }
};

/// FIXED_FD_INSTALL (6.8): make a plain descriptor of registered file `file` (only a registered
/// file: the kernel requires IOSQE_FIXED_FILE). Result: the new descriptor (O_CLOEXEC unless
/// install_fd_flags::no_cloexec).
struct fixed_fd_install {
  static constexpr opcode code = opcode::fixed_fd_install;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  fixed_file file;
  install_fd_flags flags = install_fd_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, 0, 0, 0);
    s.install_fd_flags = bits(flags);
  }
};

}  // namespace urine::ops
