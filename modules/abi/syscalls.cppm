// The three io_uring system calls, issued directly. On x86-64 they are one `syscall` instruction
// each, inlined at the call site (libc's syscall() is an out-of-line variadic call and writes
// errno); elsewhere they fall back to libc's syscall(). All return the kernel's value: >= 0 on
// success, -errno on failure.
module;
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdint>
export module urine.abi:syscalls;
import :structs;

namespace urine::abi::detail {

inline constexpr long nr_io_uring_setup = 425;
inline constexpr long nr_io_uring_enter = 426;
inline constexpr long nr_io_uring_register = 427;

#if defined(__x86_64__)
[[gnu::always_inline]] inline long syscall6(long nr, long a1, long a2, long a3, long a4, long a5,
                                            long a6) noexcept {
  // The kernel takes the fourth to sixth arguments in r10, r8 and r9, which have no constraint
  // letters. Register-bound locals (a GNU extension clang accepts in every C++ mode) let the
  // compiler compute each argument straight into its register, where explicit moves from other
  // registers cost a few instructions and callee-saved registers per call.
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}
#else
inline long syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) noexcept {
  const long ret = ::syscall(nr, a1, a2, a3, a4, a5, a6);
  return ret < 0 ? -errno : ret;
}
#endif

}  // namespace urine::abi::detail

static_assert(SYS_io_uring_setup == urine::abi::detail::nr_io_uring_setup);
static_assert(SYS_io_uring_enter == urine::abi::detail::nr_io_uring_enter);
static_assert(SYS_io_uring_register == urine::abi::detail::nr_io_uring_register);

export namespace urine::abi {

/// The size io_uring_enter's sigmask argument must declare: the kernel's sigset, not glibc's.
inline constexpr std::uint32_t kernel_sigset_size = _NSIG / 8;

/// io_uring_setup(2): returns the new ring's fd, or -errno.
[[gnu::always_inline]] inline int io_uring_setup(std::uint32_t entries, params* p) noexcept {
  return static_cast<int>(
      detail::syscall6(detail::nr_io_uring_setup, entries, reinterpret_cast<long>(p), 0, 0, 0, 0));
}

/// io_uring_enter(2) in its extended form: `arg`/`argsz` is a sigset (plain form) or an
/// io_uring_getevents_arg (with IORING_ENTER_EXT_ARG). Returns SQEs consumed, or -errno.
[[gnu::always_inline]] inline int io_uring_enter(int fd, std::uint32_t to_submit,
                                                 std::uint32_t min_complete, std::uint32_t flags,
                                                 const void* arg, std::size_t argsz) noexcept {
  return static_cast<int>(detail::syscall6(detail::nr_io_uring_enter, fd, to_submit, min_complete,
                                           flags, reinterpret_cast<long>(arg),
                                           static_cast<long>(argsz)));
}

/// io_uring_register(2): returns the opcode's result, or -errno.
[[gnu::always_inline]] inline int io_uring_register(int fd, std::uint32_t opcode, const void* arg,
                                                    std::uint32_t nr_args) noexcept {
  return static_cast<int>(detail::syscall6(detail::nr_io_uring_register, fd, opcode,
                                           reinterpret_cast<long>(arg), nr_args, 0, 0));
}

}  // namespace urine::abi
