// Pipes: SPLICE, TEE (moving pages between descriptors without copying through user memory) and
// PIPE (6.16), which creates a pipe as plain or registered descriptors.
module;
#include <concepts>
#include <cstdint>
#include <span>
export module urine.ops:pipe;
import urine.abi;
import :prep;

export namespace urine {

/// pipe2(2) flags (O_CLOEXEC, O_NONBLOCK, O_DIRECT), sqe->pipe_flags.
enum class pipe_flags : std::uint32_t {
  none = 0,
  nonblock = 04000,
  direct = 040000,
  cloexec = 02000000
};
template <>
inline constexpr bool is_bitmask<pipe_flags> = true;

}  // namespace urine

export namespace urine::detail {

/// SPLICE and TEE: the output in fd (IOSQE_FIXED_FILE when registered), the input in
/// splice_fd_in (SPLICE_F_FD_IN_FIXED when registered).
inline void prep_splice(abi::sqe& s, opcode op, file_target in, std::uint64_t in_offset,
                        file_target out, std::uint64_t out_offset, std::uint32_t len,
                        splice_flags flags) noexcept {
  prep_rw(s, op, out, in_offset, len, out_offset);
  s.splice_fd_in = in.value();
  if (in.fixed()) flags |= splice_flags::fd_in_fixed;
  s.splice_flags = bits(flags);
}

}  // namespace urine::detail

export namespace urine::ops {

/// SPLICE: splice(2) `length` bytes from `in` to `out`; one of them must be a pipe. An offset of
/// current_position means "no offset" (required for the pipe side). Result: bytes moved.
struct splice {
  static constexpr opcode code = opcode::splice;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target in;
  std::uint64_t in_offset = current_position;
  file_target out;
  std::uint64_t out_offset = current_position;
  std::uint32_t length = 0;
  splice_flags flags = splice_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_splice(s, code, in, in_offset, out, out_offset, length, flags);
  }
};

/// TEE: tee(2) — duplicate up to `length` bytes from pipe `in` to pipe `out` without consuming.
struct tee {
  static constexpr opcode code = opcode::tee;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target in;
  file_target out;
  std::uint32_t length = 0;
  splice_flags flags = splice_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_splice(s, code, in, 0, out, 0, length, flags);
  }
};

/// PIPE (6.16): pipe2(2); the read and write ends land in `fds[0]` and `fds[1]` — descriptors, or
/// registered slots with a direct `install` target (a direct_slot n takes slots n and n + 1).
struct pipe {
  static constexpr opcode code = opcode::pipe;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  std::span<int, 2> fds;
  pipe_flags flags = pipe_flags::none;
  descriptor_target install = {};

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, 0, detail::address_of(fds.data()), 0, 0);
    s.pipe_flags = bits(flags);
    s.file_index = install.file_index();
  }
};

}  // namespace urine::ops
