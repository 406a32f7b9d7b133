// Extended attributes: FSETXATTR, SETXATTR, FGETXATTR, GETXATTR. One preparation for all four
// (name in addr, value in addr2, size in len, path in addr3 for the path forms).
module;
#include <cstdint>
export module urine.ops:xattr;
import urine.abi;
import :buffers;
import :prep;

export namespace urine {

/// setxattr(2) flags (XATTR_*).
enum class xattr_flags : std::uint32_t { none = 0, create = 1u << 0, replace = 1u << 1 };
template <>
inline constexpr bool is_bitmask<xattr_flags> = true;

}  // namespace urine

export namespace urine::detail {

inline void prep_xattr(abi::sqe& s, opcode op, file_target file, const char* name,
                       const void* value, std::size_t size, xattr_flags flags,
                       const char* path = nullptr) noexcept {
  prep_rw(s, op, file, address_of(name), clamp_len(size), address_of(value));
  s.xattr_flags = bits(flags);
  s.addr3 = address_of(path);
}

}  // namespace urine::detail

export namespace urine::ops {

/// FSETXATTR: set attribute `name` of `file` to `value`.
struct fsetxattr {
  static constexpr opcode code = opcode::fsetxattr;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  const char* name;
  const_buffer value;
  xattr_flags flags = xattr_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_xattr(s, code, file, name, value.data(), value.size(), flags);
  }
};

/// SETXATTR: set attribute `name` of the file at `path` (symlinks followed).
struct setxattr {
  static constexpr opcode code = opcode::setxattr;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  path_ref path;
  const char* name;
  const_buffer value;
  xattr_flags flags = xattr_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_xattr(s, code, 0, name, value.data(), value.size(), flags, path.c_str());
  }
};

/// FGETXATTR: read attribute `name` of `file` into `value`. Result: the value's length.
struct fgetxattr {
  static constexpr opcode code = opcode::fgetxattr;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  const char* name;
  buffer value;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_xattr(s, code, file, name, value.data(), value.size(), xattr_flags::none);
  }
};

/// GETXATTR: read attribute `name` of the file at `path`. Result: the value's length.
struct getxattr {
  static constexpr opcode code = opcode::getxattr;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  path_ref path;
  const char* name;
  buffer value;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_xattr(s, code, 0, name, value.data(), value.size(), xattr_flags::none,
                       path.c_str());
  }
};

}  // namespace urine::ops
