// Processes and synchronisation: WAITID (wait for a child), FUTEX_WAIT, FUTEX_WAKE and
// FUTEX_WAITV (futex2 semantics: the flags say the futex's size and whether it is private).
module;
#include <sys/types.h>
#include <csignal>
#include <cstdint>
#include <span>
export module urine.ops:process;
import urine.abi;
import :prep;

export namespace urine {

/// waitid(2) id type (P_*).
enum class wait_idtype : std::uint32_t { all = 0, pid = 1, pgid = 2, pidfd = 3 };

/// waitid(2) options (W*).
enum class wait_options : std::uint32_t {
  none = 0,
  nohang = 0x1,
  stopped = 0x2,
  exited = 0x4,
  continued = 0x8,
  nowait = 0x01000000,
};
template <>
inline constexpr bool is_bitmask<wait_options> = true;

/// futex2 flags (FUTEX2_*): the futex word's size, NUMA, and private (process-local) hashing.
enum class futex2_flags : std::uint32_t {
  size_u8 = 0x00,
  size_u16 = 0x01,
  size_u32 = 0x02,
  size_u64 = 0x03,
  numa = 0x04,
  private_ = 0x80,
};
template <>
inline constexpr bool is_bitmask<futex2_flags> = true;

/// Match any bit of a futex's wait/wake bitset.
inline constexpr std::uint64_t futex_bitset_any = 0xffffffffu;

/// struct futex_waitv: one futex of a FUTEX_WAITV.
struct futex_waiter {
  std::uint64_t value;
  std::uint64_t address;
  futex2_flags flags = futex2_flags::size_u32 | futex2_flags::private_;
  std::uint32_t reserved_ = 0;
};
static_assert(sizeof(futex_waiter) == 24);

}  // namespace urine

export namespace urine::detail {

inline void prep_futex(abi::sqe& s, opcode op, const void* word, std::uint64_t value,
                       std::uint64_t mask, futex2_flags flags) noexcept {
  prep_rw(s, op, static_cast<int>(bits(flags)), address_of(word), 0, value);
  s.addr3 = mask;
}

}  // namespace urine::detail

export namespace urine::ops {

/// WAITID (6.7): waitid(2) for `id` of kind `idtype`; `*info` receives the child's status.
/// Result: 0.
struct waitid {
  static constexpr opcode code = opcode::waitid;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  wait_idtype idtype = wait_idtype::pid;
  ::id_t id = 0;
  ::siginfo_t* info = nullptr;
  wait_options options = wait_options::exited;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, static_cast<int>(id), 0, static_cast<std::uint32_t>(idtype),
                    detail::address_of(info));
    s.file_index = bits(options);
  }
};

/// FUTEX_WAIT (6.7): sleep while `*word` equals `expected` until woken (result 0); -EAGAIN at
/// once when it does not.
struct futex_wait {
  static constexpr opcode code = opcode::futex_wait;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  const void* word;
  std::uint64_t expected;
  std::uint64_t mask = futex_bitset_any;
  futex2_flags flags = futex2_flags::size_u32 | futex2_flags::private_;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_futex(s, code, word, expected, mask, flags);
  }
};

/// FUTEX_WAKE (6.7): wake up to `count` waiters on `word`. Result: how many were woken.
struct futex_wake {
  static constexpr opcode code = opcode::futex_wake;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  const void* word;
  std::uint64_t count = 1;
  std::uint64_t mask = futex_bitset_any;
  futex2_flags flags = futex2_flags::size_u32 | futex2_flags::private_;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_futex(s, code, word, count, mask, flags);
  }
};

/// FUTEX_WAITV (6.7): wait on several futexes at once. Result: the index of the one woken.
struct futex_waitv {
  static constexpr opcode code = opcode::futex_waitv;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  std::span<const futex_waiter> futexes;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, 0, detail::address_of(futexes.data()),
                    static_cast<std::uint32_t>(futexes.size()), 0);
  }
};

}  // namespace urine::ops
