// Operations on paths relative to a directory descriptor: OPENAT, OPENAT2, STATX, RENAMEAT,
// UNLINKAT, MKDIRAT, SYMLINKAT, LINKAT. The directory is always a plain descriptor (or
// current_dir): the kernel refuses a registered file there.
module;
#include <sys/stat.h>
#include <sys/types.h>
#include <cstdint>
export module urine.ops:path;
import urine.abi;
import :prep;

export namespace urine {

/// AT_* flags of the *at calls (statx, linkat, unlinkat).
enum class at_flags : std::uint32_t {
  none = 0,
  symlink_nofollow = 0x100,
  removedir = 0x200,
  symlink_follow = 0x400,
  no_automount = 0x800,
  empty_path = 0x1000,
  statx_force_sync = 0x2000,
  statx_dont_sync = 0x4000,
};
template <>
inline constexpr bool is_bitmask<at_flags> = true;

/// openat2(2) RESOLVE_* flags.
enum class resolve_flags : std::uint64_t {
  none = 0,
  no_xdev = 0x01,
  no_magiclinks = 0x02,
  no_symlinks = 0x04,
  beneath = 0x08,
  in_root = 0x10,
  cached = 0x20,
};
template <>
inline constexpr bool is_bitmask<resolve_flags> = true;

/// renameat2(2) RENAME_* flags.
enum class rename_flags : std::uint32_t {
  none = 0,
  noreplace = 1u << 0,
  exchange = 1u << 1,
  whiteout = 1u << 2
};
template <>
inline constexpr bool is_bitmask<rename_flags> = true;

/// statx(2) STATX_* mask: which fields to fill.
enum class statx_mask : std::uint32_t {
  type = 0x1,
  mode = 0x2,
  nlink = 0x4,
  uid = 0x8,
  gid = 0x10,
  atime = 0x20,
  mtime = 0x40,
  ctime = 0x80,
  ino = 0x100,
  size = 0x200,
  blocks = 0x400,
  basic_stats = 0x7ff,
  btime = 0x800,
  mnt_id = 0x1000,
  dioalign = 0x2000,
};
template <>
inline constexpr bool is_bitmask<statx_mask> = true;

/// struct open_how of openat2(2).
struct open_how {
  std::uint64_t flags = 0;
  std::uint64_t mode = 0;
  resolve_flags resolve = resolve_flags::none;
};
static_assert(sizeof(open_how) == 24);

}  // namespace urine

export namespace urine::ops {

/// OPENAT: openat(2). Result: the new descriptor, or with a direct `install` target the slot.
struct openat {
  static constexpr opcode code = opcode::openat;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int dir = current_dir;
  path_ref path;
  int flags = 0;  ///< O_* of open(2)
  ::mode_t mode = 0;
  descriptor_target install = {};

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_at(s, code, dir, path, mode);
    s.open_flags = static_cast<std::uint32_t>(flags);
    s.file_index = install.file_index();
  }
};

/// OPENAT2: openat2(2) with `how` (flags, mode, resolve restrictions). `how` must stay valid
/// until submitted.
struct openat2 {
  static constexpr opcode code = opcode::openat2;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int dir = current_dir;
  path_ref path;
  const open_how* how;
  descriptor_target install = {};

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_at(s, code, dir, path, sizeof(open_how), detail::address_of(how));
    s.file_index = install.file_index();
  }
};

/// STATX: statx(2) into `*into`.
struct statx {
  static constexpr opcode code = opcode::statx;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int dir = current_dir;
  path_ref path;
  struct ::statx* into;
  statx_mask mask = statx_mask::basic_stats;
  at_flags flags = at_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_at(s, code, dir, path, bits(mask), detail::address_of(into));
    s.statx_flags = bits(flags);
  }
};

/// RENAMEAT: renameat2(2).
struct renameat {
  static constexpr opcode code = opcode::renameat;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int old_dir = current_dir;
  path_ref old_path;
  int new_dir = current_dir;
  path_ref new_path;
  rename_flags flags = rename_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_at(s, code, old_dir, old_path, static_cast<std::uint32_t>(new_dir),
                    new_path.address());
    s.rename_flags = bits(flags);
  }
};

/// UNLINKAT: unlinkat(2) (at_flags::removedir: rmdir).
struct unlinkat {
  static constexpr opcode code = opcode::unlinkat;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int dir = current_dir;
  path_ref path;
  at_flags flags = at_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_at(s, code, dir, path);
    s.unlink_flags = bits(flags);
  }
};

/// MKDIRAT: mkdirat(2).
struct mkdirat {
  static constexpr opcode code = opcode::mkdirat;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int dir = current_dir;
  path_ref path;
  ::mode_t mode = 0755;

  inline void prepare(abi::sqe& s) const noexcept { detail::prep_at(s, code, dir, path, mode); }
};

/// SYMLINKAT: symlinkat(2) — create `link_path` (relative to `dir`) pointing at `target`.
struct symlinkat {
  static constexpr opcode code = opcode::symlinkat;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  path_ref target;
  int dir = current_dir;
  path_ref link_path;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_at(s, code, dir, target, 0, link_path.address());
  }
};

/// LINKAT: linkat(2) — a hard link `new_path` to `old_path`.
struct linkat {
  static constexpr opcode code = opcode::linkat;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int old_dir = current_dir;
  path_ref old_path;
  int new_dir = current_dir;
  path_ref new_path;
  at_flags flags = at_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_at(s, code, old_dir, old_path, static_cast<std::uint32_t>(new_dir),
                    new_path.address());
    s.hardlink_flags = bits(flags);
  }
};

}  // namespace urine::ops
