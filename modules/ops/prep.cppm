// The one mechanism every operation prepares through: set the opcode, the file (plain or fixed,
// which decides IOSQE_FIXED_FILE), and the address/length/offset triple most opcodes share; plus
// the typed options several families have in common (where a new descriptor goes, a provided-buffer
// group instead of a buffer, a path, a timespec). Operations add only what is particular to them.
module;
#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
export module urine.ops:prep;
import urine.abi;
import :buffers;

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

/// A registered ("direct") descriptor slot an operation installs its new file into.
struct direct_slot {
  std::uint32_t index;
};
/// Ask the kernel to pick a free registered slot (IORING_FILE_INDEX_ALLOC); the result is the slot.
struct direct_alloc_t {
  explicit constexpr direct_alloc_t() = default;
};
inline constexpr direct_alloc_t direct_alloc{};

/// Where a descriptor-creating operation (openat, accept, socket, pipe, ...) puts its file: a
/// plain descriptor (the default; the result is the fd), a given registered slot (the result is
/// 0), or a slot the kernel allocates (the result is the slot).
class descriptor_target {
 public:
  constexpr descriptor_target() noexcept = default;
  constexpr descriptor_target(direct_slot s) noexcept : file_index_(s.index + 1) {}
  constexpr descriptor_target(direct_alloc_t) noexcept : file_index_(file_index_alloc) {}
  /// sqe->file_index: 0 for a plain descriptor, slot + 1, or IORING_FILE_INDEX_ALLOC.
  [[nodiscard]] constexpr std::uint32_t file_index() const noexcept { return file_index_; }
  [[nodiscard]] constexpr bool direct() const noexcept { return file_index_ != 0; }

 private:
  std::uint32_t file_index_ = 0;
};

/// A registered slot only (msg_ring's descriptor passing has no plain-descriptor form).
class direct_target {
 public:
  constexpr direct_target(direct_slot s) noexcept : file_index_(s.index + 1) {}
  constexpr direct_target(direct_alloc_t) noexcept : file_index_(file_index_alloc) {}
  [[nodiscard]] constexpr std::uint32_t file_index() const noexcept { return file_index_; }

 private:
  std::uint32_t file_index_;
};

/// A provided-buffer group: the kernel picks a buffer from group `id` when data is ready and
/// names it in the completion (F_BUFFER, buffer_id()). `max_len` caps the bytes taken (0: the
/// buffer's own size).
struct buffer_group {
  std::uint16_t id;
  std::uint32_t max_len = 0;
};

/// Where a read or receive puts its bytes: the caller's buffer, or a provided-buffer group
/// (IOSQE_BUFFER_SELECT).
class read_buffer {
 public:
  constexpr read_buffer(buffer b) noexcept : buf_(b) {}
  constexpr read_buffer(buffer_group g) noexcept : group_(g), selected_(true) {}
  // Forwarded, so that a temporary container meets buffer's refusal and its reason.
  template <class R>
    requires std::constructible_from<buffer, R>
  constexpr read_buffer(R&& range) noexcept : buf_(std::forward<R>(range)) {}

  [[nodiscard]] constexpr bool selected() const noexcept { return selected_; }
  [[nodiscard]] constexpr buffer caller_buffer() const noexcept { return buf_; }
  [[nodiscard]] constexpr buffer_group group() const noexcept { return group_; }

 private:
  buffer buf_{};
  buffer_group group_{0};
  bool selected_ = false;
};

/// A NUL-terminated path that outlives the submission. Temporaries are refused: the kernel reads
/// the string when it prepares the request, which can be after the call that pushed it.
class path_ref {
 public:
  constexpr path_ref(const char* p) noexcept : p_(p) {}
  inline path_ref(const std::string& s) noexcept : p_(s.c_str()) {}
  inline path_ref(const std::filesystem::path& p) noexcept : p_(p.c_str()) {}
  path_ref(std::string&&) = delete;
  path_ref(std::filesystem::path&&) = delete;
  [[nodiscard]] constexpr const char* c_str() const noexcept { return p_; }
  [[nodiscard]] inline std::uint64_t address() const noexcept {
    return reinterpret_cast<std::uintptr_t>(p_);
  }

 private:
  const char* p_;
};

/// The directory a relative path is resolved against: AT_FDCWD by default.
inline constexpr int current_dir = -100;

/// A duration as the kernel's timespec (what timeouts point at).
[[nodiscard]] constexpr abi::kernel_timespec to_timespec(std::chrono::nanoseconds d) noexcept {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
  return {secs.count(), (d - secs).count()};
}

}  // namespace urine

export namespace urine::detail {

inline void set_file(abi::sqe& s, file_target file) noexcept {
  s.fd = file.value();
  // Without a branch: the flag is the bool shifted into place.
  s.flags |= static_cast<std::uint8_t>(file.fixed() ? bits(sqe_flags::fixed_file) : 0u);
}

/// A byte count as the kernel's 32-bit length; larger requests become short transfers, as the
/// kernel would make them anyway (it caps one transfer below 2 GiB).
[[nodiscard]] inline std::uint32_t clamp_len(std::size_t n) noexcept {
  return static_cast<std::uint32_t>(
      std::min<std::size_t>(n, std::numeric_limits<std::uint32_t>::max()));
}

[[nodiscard]] inline std::uint64_t address_of(const void* p) noexcept {
  return reinterpret_cast<std::uintptr_t>(p);
}

/// Opcode, file, address, length, offset: the common core of most operations.
inline void prep_rw(abi::sqe& s, opcode op, file_target file, std::uint64_t addr, std::uint32_t len,
                    std::uint64_t off) noexcept {
  s.opcode = static_cast<std::uint8_t>(op);
  set_file(s, file);
  s.addr = addr;
  s.len = len;
  s.off = off;
}

/// The caller's buffer as addr/len, or a group with IOSQE_BUFFER_SELECT (addr stays 0: the
/// kernel refuses an address together with buffer selection).
/// How many completions a read selecting provided buffers makes: a multishot request must send
/// length 0, which the kernel refuses otherwise.
enum class selection_shots : bool { single, multi };

/// The length a single-shot read selecting a provided buffer sends for "no limit": every kernel
/// clamps the length to the selected buffer, while length 0 reads nothing on kernels before the
/// buffer rings of 5.19 (which take 0 as "the whole buffer"). The most one read transfers
/// (INT_MAX rounded down to a page): newer kernels keep a receive's length in an int, and refuse
/// one that reads as negative.
inline constexpr std::uint32_t whole_selected_buffer = 0x7fff'f000u;

inline void set_read_buffer(abi::sqe& s, const read_buffer& b,
                            selection_shots shots = selection_shots::single) noexcept {
  if (b.selected()) {
    s.flags |= bits(sqe_flags::buffer_select);
    s.buf_group = b.group().id;
    const bool unlimited = b.group().max_len == 0 && shots == selection_shots::single;
    s.len = unlimited ? whole_selected_buffer : b.group().max_len;
  } else {
    s.addr = b.caller_buffer().address();
    s.len = clamp_len(b.caller_buffer().size());
  }
}

/// Operations on a path relative to a directory descriptor (the *at family): the kernel takes
/// the directory in fd (never a registered file) and the path in addr.
inline void prep_at(abi::sqe& s, opcode op, int dir, path_ref path, std::uint32_t len = 0,
                    std::uint64_t off = 0) noexcept {
  prep_rw(s, op, dir, path.address(), len, off);
}

}  // namespace urine::detail
