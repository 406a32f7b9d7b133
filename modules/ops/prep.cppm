// The one mechanism every operation prepares through: set the opcode, the file (plain or fixed,
// which decides IOSQE_FIXED_FILE), and the address/length/offset triple most opcodes share.
// Operations add only what is particular to them.
module;
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
export module urine.ops:prep;
import urine.abi;

export namespace urine {

/// The file position: read or write at the file's current offset and advance it.
inline constexpr std::uint64_t current_position = ~std::uint64_t{0};

/// preadv2/pwritev2 flags (RWF_*), carried in sqe->rw_flags.
enum class rw_flags : std::uint32_t {
  none = 0,
  hipri = 1u << 0,
  dsync = 1u << 1,
  sync = 1u << 2,
  nowait = 1u << 3,
  append = 1u << 4,
  noappend = 1u << 5,
  atomic = 1u << 6,
  dontcache = 1u << 7,
};
template <>
inline constexpr bool is_bitmask<rw_flags> = true;

}  // namespace urine

export namespace urine::detail {

template <file_target File>
inline void set_file(abi::sqe& s, File file) noexcept {
  if constexpr (std::same_as<File, fixed_file>) {
    s.fd = static_cast<std::int32_t>(file.index);
    s.flags |= bits(sqe_flags::fixed_file);
  } else {
    s.fd = file;
  }
}

/// A byte count as the kernel's 32-bit length; larger requests become short transfers, as the
/// kernel would make them anyway (it caps one transfer below 2 GiB).
[[nodiscard]] inline std::uint32_t clamp_len(std::size_t n) noexcept {
  return static_cast<std::uint32_t>(std::min<std::size_t>(n, std::numeric_limits<std::uint32_t>::max()));
}

/// Opcode, file, address, length, offset: the common core of most operations.
template <file_target File>
inline void prep_rw(abi::sqe& s, opcode op, File file, std::uint64_t addr, std::uint32_t len,
                    std::uint64_t off) noexcept {
  s.opcode = static_cast<std::uint8_t>(op);
  set_file(s, file);
  s.addr = addr;
  s.len = len;
  s.off = off;
}

}  // namespace urine::detail
