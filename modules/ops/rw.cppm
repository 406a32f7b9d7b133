// Reading and writing: READ, WRITE, READV, WRITEV.
module;
#include <cstdint>
#include <span>
#include <sys/uio.h>
export module urine.ops:rw;
import urine.abi;
import :buffers;
import :prep;

export namespace urine::ops {

/// READ: read into `into` from `file` at `offset` (current_position: the file offset).
/// Result: bytes read (0 at end of file).
template <file_target File = int>
struct read {
  static constexpr opcode code = opcode::read;
  static constexpr bool iopoll_capable = true;
  File file;
  buffer into;
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;
  std::uint16_t ioprio = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, into.address(), detail::clamp_len(into.size()), offset);
    s.rw_flags = bits(flags);
    s.ioprio = ioprio;
  }
};

/// WRITE: write `from` to `file` at `offset`. Result: bytes written.
template <file_target File = int>
struct write {
  static constexpr opcode code = opcode::write;
  static constexpr bool iopoll_capable = true;
  File file;
  const_buffer from;
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;
  std::uint16_t ioprio = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, from.address(), detail::clamp_len(from.size()), offset);
    s.rw_flags = bits(flags);
    s.ioprio = ioprio;
  }
};

/// READV: scatter-read into `iov` (the iovec array must stay valid until submitted).
template <file_target File = int>
struct readv {
  static constexpr opcode code = opcode::readv;
  static constexpr bool iopoll_capable = true;
  File file;
  std::span<const ::iovec> iov;
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;
  std::uint16_t ioprio = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, reinterpret_cast<std::uintptr_t>(iov.data()),
                    static_cast<std::uint32_t>(iov.size()), offset);
    s.rw_flags = bits(flags);
    s.ioprio = ioprio;
  }
};

/// WRITEV: gather-write from `iov`.
template <file_target File = int>
struct writev {
  static constexpr opcode code = opcode::writev;
  static constexpr bool iopoll_capable = true;
  File file;
  std::span<const ::iovec> iov;
  std::uint64_t offset = current_position;
  rw_flags flags = rw_flags::none;
  std::uint16_t ioprio = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, reinterpret_cast<std::uintptr_t>(iov.data()),
                    static_cast<std::uint32_t>(iov.size()), offset);
    s.rw_flags = bits(flags);
    s.ioprio = ioprio;
  }
};

}  // namespace urine::ops
