// Reading and writing files: READ, WRITE, READV, WRITEV, their registered-buffer forms
// (READ_FIXED, WRITE_FIXED, READV_FIXED, WRITEV_FIXED) and READ_MULTISHOT. All share one
// preparation (detail::prep_io); each operation states only what memory it names.
module;
#include <sys/uio.h>
#include <cstdint>
#include <span>
export module urine.ops:rw;
import urine.abi;
import :buffers;
import :prep;

export namespace urine::detail {

/// The shared tail of every read/write: position, RWF_* flags, I/O priority, for the
/// registered-buffer forms which registered buffer the memory lies in, and an optional
/// protection-information attribute (block devices with integrity, O_DIRECT).
struct io_position {
  std::uint64_t offset;
  rw_flags flags;
  std::uint16_t ioprio;
  std::uint16_t buf_index = 0;
  const abi::attr_pi* pi = nullptr;
};

inline void prep_io(abi::sqe& s, opcode op, file_target file, std::uint64_t addr, std::uint32_t len,
                    io_position at) noexcept {
  prep_rw(s, op, file, addr, len, at.offset);
  s.rw_flags = bits(at.flags);
  s.ioprio = at.ioprio;
  s.buf_index = at.buf_index;
  if (at.pi != nullptr) {
    s.attr_ptr = address_of(at.pi);
    s.attr_type_mask = bits(rw_attr_flags::pi);
  }
}

inline void prep_iov(abi::sqe& s, opcode op, file_target file, std::span<const ::iovec> iov,
                     io_position at) noexcept {
  prep_io(s, op, file, address_of(iov.data()), static_cast<std::uint32_t>(iov.size()), at);
}

}  // namespace urine::detail

export namespace urine::ops {

/// READ: read into `into` from `file` at `offset` (current_position: the file offset). `into`
/// may be a buffer_group: the kernel picks a provided buffer (completion: has_buffer(),
/// buffer_id()). Result: bytes read (0 at end of file).
struct read {
  static constexpr opcode code = opcode::read;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  read_buffer into;
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;
  std::uint16_t ioprio = 0;
  const abi::attr_pi* pi = nullptr;  ///< IORING_RW_ATTR_FLAG_PI (6.14)

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_io(s, code, file, 0, 0, {offset, flags, ioprio, 0, pi});
    detail::set_read_buffer(s, into);
  }
};

/// WRITE: write `from` to `file` at `offset`. Result: bytes written.
struct write {
  static constexpr opcode code = opcode::write;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  const_buffer from;
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;
  std::uint16_t ioprio = 0;
  const abi::attr_pi* pi = nullptr;  ///< IORING_RW_ATTR_FLAG_PI (6.14)

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_io(s, code, file, from.address(), detail::clamp_len(from.size()),
                    {offset, flags, ioprio, 0, pi});
  }
};

/// READV: scatter-read into `iov` (the iovec array must stay valid until submitted).
struct readv {
  static constexpr opcode code = opcode::readv;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::span<const ::iovec> iov;
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;
  std::uint16_t ioprio = 0;
  const abi::attr_pi* pi = nullptr;  ///< IORING_RW_ATTR_FLAG_PI (6.14)

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_iov(s, code, file, iov, {offset, flags, ioprio, 0, pi});
  }
};

/// WRITEV: gather-write from `iov`.
struct writev {
  static constexpr opcode code = opcode::writev;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::span<const ::iovec> iov;
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;
  std::uint16_t ioprio = 0;
  const abi::attr_pi* pi = nullptr;  ///< IORING_RW_ATTR_FLAG_PI (6.14)

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_iov(s, code, file, iov, {offset, flags, ioprio, 0, pi});
  }
};

/// READ_FIXED: read into memory inside registered buffer `buf_index` (no page pinning per I/O).
struct read_fixed {
  static constexpr opcode code = opcode::read_fixed;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  buffer into;
  fixed_buffer buf_index{0};
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_io(s, code, file, into.address(), detail::clamp_len(into.size()),
                    {offset, flags, 0, buf_index.index});
  }
};

/// WRITE_FIXED: write memory inside registered buffer `buf_index`.
struct write_fixed {
  static constexpr opcode code = opcode::write_fixed;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  const_buffer from;
  fixed_buffer buf_index{0};
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_io(s, code, file, from.address(), detail::clamp_len(from.size()),
                    {offset, flags, 0, buf_index.index});
  }
};

/// READV_FIXED (6.15): scatter-read; every iovec must lie inside registered buffer `buf_index`.
struct readv_fixed {
  static constexpr opcode code = opcode::readv_fixed;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::span<const ::iovec> iov;
  fixed_buffer buf_index{0};
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_iov(s, code, file, iov, {offset, flags, 0, buf_index.index});
  }
};

/// WRITEV_FIXED (6.15): gather-write from iovecs inside registered buffer `buf_index`.
struct writev_fixed {
  static constexpr opcode code = opcode::writev_fixed;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  std::span<const ::iovec> iov;
  fixed_buffer buf_index{0};
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_iov(s, code, file, iov, {offset, flags, 0, buf_index.index});
  }
};

/// READ_MULTISHOT (6.7): keep reading a pollable file (pipe, eventfd, socket) into buffers of
/// `group`, one completion per read (F_MORE while it continues), until an error or end of file.
struct read_multishot {
  static constexpr opcode code = opcode::read_multishot;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  buffer_group group;
  std::uint64_t offset = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_io(s, code, file, 0, 0, {offset, rw_flags::none, 0});
    detail::set_read_buffer(s, group, detail::selection_shots::multi);
  }
};

}  // namespace urine::ops
