// Shared test helpers: real temporary files and directories, descriptor and mapping counts for
// leak checks, and kernel probing so a test can skip (with the reason) where the kernel lacks a
// feature. Nothing here mocks the kernel.
module;
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>
export module urine.test_support;
import urine;

export namespace urine::test {

/// An owned file descriptor, closed on destruction.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~unique_fd() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// A fresh directory under $URINE_TEST_DIR (or the system temp dir), removed with its contents.
class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("URINE_TEST_DIR");
    std::string pattern =
        (base != nullptr ? std::filesystem::path(base) : std::filesystem::temp_directory_path()) /
        "urine-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::filesystem::filesystem_error("mkdtemp",
                                              std::error_code(errno, std::system_category()));
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

/// Open (creating) a file; throws on failure so a test cannot go on with a bad fd.
inline unique_fd open_file(const std::filesystem::path& p, int flags = O_RDWR | O_CREAT | O_TRUNC,
                           mode_t mode = 0644) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0)
    throw std::filesystem::filesystem_error("open", p,
                                            std::error_code(errno, std::system_category()));
  return unique_fd(fd);
}

/// The whole contents of a file, read with ordinary system calls (not through io_uring).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Write a file with ordinary system calls.
inline void write_file(const std::filesystem::path& p, std::string_view contents) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

/// `n` bytes of a repeatable pattern that differs at every offset within 251 bytes.
inline std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 131 + std::size_t{seed} * 7) % 251);
  return s;
}

}  // namespace urine::test

namespace urine::test::socket_detail {

/// A descriptor from a socket-creating call, or an exception naming the call and errno.
inline unique_fd checked_fd(int fd, const char* what) {
  if (fd < 0) throw std::system_error(errno, std::system_category(), what);
  return unique_fd(fd);
}

/// A call returning 0 on success, or an exception naming the call and errno.
inline void check(int ret, const char* what) {
  if (ret != 0) throw std::system_error(errno, std::system_category(), what);
}

inline ::sockaddr* as_sockaddr(::sockaddr_in& a) noexcept {
  return reinterpret_cast<::sockaddr*>(&a);
}

}  // namespace urine::test::socket_detail

export namespace urine::test {

// ---- sockets: every helper throws on failure, so a test cannot go on with a bad descriptor ----

/// A socket of `type` bound to an ephemeral loopback port, and the address it got.
inline std::pair<unique_fd, ::sockaddr_in> loopback_socket(int type) {
  unique_fd s = socket_detail::checked_fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0), "socket");
  ::sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::socklen_t len = sizeof a;
  socket_detail::check(::bind(s.get(), socket_detail::as_sockaddr(a), sizeof a),
                       "bind to loopback");
  socket_detail::check(::getsockname(s.get(), socket_detail::as_sockaddr(a), &len), "getsockname");
  return {std::move(s), a};
}

/// A listening TCP socket on an ephemeral loopback port, and its address.
inline std::pair<unique_fd, ::sockaddr_in> tcp_listener(int backlog = 16) {
  auto listener = loopback_socket(SOCK_STREAM);
  socket_detail::check(::listen(listener.first.get(), backlog), "listen on loopback");
  return listener;
}

/// A UDP socket bound to an ephemeral loopback port, and its address.
inline std::pair<unique_fd, ::sockaddr_in> udp_socket() { return loopback_socket(SOCK_DGRAM); }

/// A connected TCP pair on loopback: {client, server side of accept}.
inline std::pair<unique_fd, unique_fd> tcp_pair() {
  auto [listener, a] = tcp_listener(1);
  unique_fd client =
      socket_detail::checked_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
  socket_detail::check(::connect(client.get(), socket_detail::as_sockaddr(a), sizeof a),
                       "connect on loopback");
  unique_fd server = socket_detail::checked_fd(
      ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept");
  return {std::move(client), std::move(server)};
}

/// A connected pair of UNIX stream sockets.
inline std::pair<unique_fd, unique_fd> unix_pair() {
  int fds[2];
  socket_detail::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}

/// Run this test program again in a child process with `env_name`=`env_value` set and only the
/// tests `filter` selects (a --gtest_filter value), its standard output discarded; returns the
/// child's exit status, or -1 when it did not exit normally — killed when it outlives `bound`, so
/// that a hang in the child is a failure of the caller instead of a hang. A coverage test runs the
/// rest of its suite this way and reads what the child recorded.
inline int rerun_self(const char* env_name, const std::string& env_value, const std::string& filter,
                      std::chrono::seconds bound = std::chrono::seconds(50)) {
  const ::pid_t child = ::fork();
  if (child < 0) throw std::system_error(errno, std::system_category(), "fork");
  if (child == 0) {
    ::setenv(env_name, env_value.c_str(), 1);
    const std::string filter_arg = "--gtest_filter=" + filter;
    if (const int quiet = ::open("/dev/null", O_WRONLY | O_CLOEXEC); quiet >= 0)
      ::dup2(quiet, STDOUT_FILENO);
    ::execl("/proc/self/exe", "rerun", filter_arg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + bound;
  int status = 0;
  for (;;) {
    const ::pid_t ended = ::waitpid(child, &status, WNOHANG);
    if (ended == child) break;
    if (ended < 0) throw std::system_error(errno, std::system_category(), "waitpid");
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(child, SIGKILL);
      if (::waitpid(child, &status, 0) != child)
        throw std::system_error(errno, std::system_category(), "waitpid");
      return -1;
    }
    ::usleep(20'000);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// How a child process ended: its exit code, or the signal that ended it, and what it wrote.
struct child_end {
  bool exited = false;
  int code = -1;       ///< exit status when exited
  int signal = 0;      ///< terminating signal otherwise (SIGALRM: it ran past its bound)
  std::string output;  ///< what the body wrote to the descriptor it was given
  [[nodiscard]] bool succeeded() const noexcept { return exited && code == 0; }
};

/// Run `body` (returning an exit code) in a forked child that is killed by SIGALRM after `bound`,
/// so a hang or a crash in it is a test failure instead of a hung or dead suite. A body taking an
/// int is given a descriptor whose bytes come back as child_end::output. The child leaves with
/// _exit: no gtest bookkeeping, no destructors of the parent's objects.
template <class Body>
child_end run_in_child(Body&& body, unsigned bound_seconds = 10) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::system_category(), "pipe2");
  unique_fd from_child(pipe_fds[0]), to_parent(pipe_fds[1]);
  const ::pid_t child = ::fork();
  if (child < 0) throw std::system_error(errno, std::system_category(), "fork");
  if (child == 0) {
    ::alarm(bound_seconds);
    if constexpr (std::is_invocable_v<Body, int>)
      ::_exit(body(to_parent.get()));
    else
      ::_exit(body());
  }
  to_parent.reset();
  child_end end;
  char chunk[4096];
  for (::ssize_t n; (n = ::read(from_child.get(), chunk, sizeof chunk)) > 0;)
    end.output.append(chunk, static_cast<std::size_t>(n));
  int status = 0;
  if (::waitpid(child, &status, 0) != child)
    throw std::system_error(errno, std::system_category(), "waitpid");
  if (WIFEXITED(status)) {
    end.exited = true;
    end.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    end.signal = WTERMSIG(status);
  }
  return end;
}

/// Open descriptors of this process (entries of /proc/self/fd).
inline std::size_t fd_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// io_uring mappings of this process: the lines of /proc/self/maps backed by an io_uring file
/// (rings, SQE arrays, kernel-allocated buffer rings). Counting only these keeps leak checks exact
/// under sanitizers, whose allocators add and drop mappings of their own at any time.
inline std::size_t mapping_count() {
  std::ifstream maps("/proc/self/maps");
  std::size_t n = 0;
  for (std::string line; std::getline(maps, line);)
    n += line.find("[io_uring]") != std::string::npos;
  return n;
}

/// Whether the running kernel implements `op`, asked through IORING_REGISTER_PROBE on a
/// throwaway ring (raw calls, so this works before any higher layer is trusted).
inline bool kernel_has(opcode op) {
  abi::params p{};
  const int fd = abi::io_uring_setup(1, &p);
  if (fd < 0) return false;
  struct {
    abi::probe header;
    abi::probe_op ops[256];
  } probe{};
  const int ret = abi::io_uring_register(
      fd, static_cast<std::uint32_t>(register_opcode::register_probe), &probe, 256);
  ::close(fd);
  const auto i = static_cast<unsigned>(op);
  return ret >= 0 && i <= probe.header.last_op && (probe.ops[i].flags & op_supported) != 0;
}

/// Empty when the kernel has `op`; otherwise the reason a test skips.
inline std::string lacks(opcode op) {
  if (kernel_has(op)) return {};
  const auto& info = urine::info(op);
  return "kernel lacks IORING_OP_" + std::string(info.name) + " (since " +
         urine::to_string(info.since) + ")";
}

/// Whether a throwaway ring with `flags` is created.
inline bool setup_accepts(setup_flags flags) {
  abi::params p{};
  p.flags = bits(flags);
  p.cq_entries = 8;  // what CQSIZE asks for; ignored without it
  const int fd = abi::io_uring_setup(4, &p);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

/// Empty when the kernel accepts every flag in `flags` at setup; otherwise the reason to skip,
/// naming only the flags the kernel lacks. Without QUERY (before 6.18) by trying: each flag
/// refused alone is lacking unless it goes through beside the others that are not (a flag that
/// needs a partner, as DEFER_TASKRUN needs SINGLE_ISSUER); when none is, the set is named whole.
inline std::string lacks(setup_flags flags) {
  const kernel_support k = query_kernel_support();
  if (k.known) {
    if ((flags & ~k.setup) == setup_flags::none) return {};
    return "kernel lacks IORING_SETUP_" + describe(flags & ~k.setup);
  }
  if (setup_accepts(flags)) return {};
  setup_flags refused_alone = setup_flags::none;
  for (std::uint32_t bit = 1; bit != 0; bit <<= 1) {
    const auto f = setup_flags(bit);
    if ((flags & f) != setup_flags::none && !setup_accepts(f)) refused_alone |= f;
  }
  setup_flags lacking = setup_flags::none;
  for (std::uint32_t bit = 1; bit != 0; bit <<= 1) {
    const auto f = setup_flags(bit);
    if ((refused_alone & f) != setup_flags::none && !setup_accepts((flags & ~refused_alone) | f))
      lacking |= f;
  }
  return "kernel lacks IORING_SETUP_" + describe(lacking != setup_flags::none ? lacking : flags) +
         " (found by trying)";
}

/// Empty when the kernel implements register opcode `op`; otherwise the reason a test skips.
/// Asked through QUERY where the kernel answers it (6.18); before that no call tells an unknown
/// opcode from a refused argument (both EINVAL), so the running kernel's version (uname) is
/// compared with the opcode's first kernel, and the reason says which way it was found.
inline std::string lacks(register_opcode op) {
  const std::string what = "kernel lacks IORING_" + std::string(name(op)) + " (since " +
                           urine::to_string(since(op)) + ")";
  const kernel_support k = query_kernel_support();
  if (k.known)
    return static_cast<unsigned>(op) < k.register_opcodes ? std::string() : what + ", by QUERY";
  const kernel_version running = running_kernel();
  if (running == kernel_version{} || !(running < since(op))) return {};
  return what + ", by version: this kernel is " + urine::to_string(running);
}

/// Empty when the running kernel is `needed` or newer; otherwise the reason a test skips, naming
/// what came with that kernel. For behaviours no call can probe.
inline std::string predates(kernel_version needed, std::string_view what) {
  const kernel_version running = running_kernel();
  if (running == kernel_version{} || !(running < needed)) return {};
  return std::string(what) + " needs kernel " + urine::to_string(needed) + " (this kernel is " +
         urine::to_string(running) + ")";
}

/// Empty when the kernel registers ring fds (IORING_REGISTER_RING_FDS, 5.18) — what the
/// registered_ring_fd policy needs; otherwise the reason a test skips.
inline std::string lacks_registered_ring_fds() {
  static const bool has = [] {
    abi::params p{};
    const int fd = abi::io_uring_setup(1, &p);
    if (fd < 0) return false;
    abi::rsrc_update update{};
    update.offset = ~0u;
    update.data = static_cast<std::uint64_t>(fd);
    const int ret = abi::io_uring_register(
        fd, static_cast<std::uint32_t>(register_opcode::register_ring_fds), &update, 1);
    if (ret == 1)
      (void)abi::io_uring_register(
          fd, static_cast<std::uint32_t>(register_opcode::unregister_ring_fds), &update, 1);
    ::close(fd);
    return ret == 1;
  }();
  return has ? std::string() : "kernel lacks IORING_REGISTER_RING_FDS (since 5.18)";
}

/// Empty when the kernel makes rings of type R: its setup flags, and a registered ring fd where
/// its policy asks for one; otherwise the reason a test of it skips.
template <class R>
std::string lacks_ring() {
  if (std::string why = lacks(R::config::flags); !why.empty()) return why;
  if constexpr (std::is_same_v<typename R::config::ring_fd, registered_ring_fd>)
    return lacks_registered_ring_fds();
  return {};
}

/// Which NOP flags the running kernel honours, found by trying them: IORING_NOP_INJECT_RESULT
/// and IORING_NOP_CQE32 are newer than 6.1, whose NOP ignores (or refuses) them.
struct nop_support {
  bool inject = false;  ///< a NOP completes with the result it was given
  bool big = false;     ///< a 32-byte NOP carries its two extra words
};
inline nop_support probe_nops() {
  static const nop_support support = [] {
    nop_support found;
    auto r = ring<cqe32>::create(4);
    if (!r) return found;
    (void)r->push(ops::nop{.inject = true, .inject_result = -EXDEV}, 1);
    (void)r->push(ops::nop32{.extra1 = 7, .extra2 = 9}, 2);
    if (!r->submit()) return found;
    for (int tries = 0; tries < 100 && r->cq_ready() < 2; ++tries)
      if (!r->wait_for(2, std::chrono::milliseconds(10))) break;
    r->for_each_cqe([&](auto c) {
      if (c.user_data().value() == 1) found.inject = c.result() == -EXDEV;
      if (c.user_data().value() == 2)
        found.big = c.result() == 0 && c.extra()[0] == 7 && c.extra()[1] == 9;
    });
    return found;
  }();
  return support;
}
/// Empty when NOPs inject results; otherwise the reason a test skips.
inline std::string lacks_nop_inject() {
  return probe_nops().inject ? std::string()
                             : "kernel ignores IORING_NOP_INJECT_RESULT (newer than 6.1)";
}
/// Empty when 32-byte NOPs carry extras; otherwise the reason a test skips.
inline std::string lacks_nop32() {
  return probe_nops().big ? std::string() : "kernel lacks IORING_NOP_CQE32 (newer than 6.1)";
}

/// Empty when an IOPOLL ring completes NOPs; otherwise (5.10 refuses them with EINVAL) the reason
/// a test that counts NOPs on one skips. Found by trying.
inline std::string lacks_nop_on_iopoll() {
  static const std::string why = [] {
    auto r = ring<iopoll>::create(2);
    if (!r) return "kernel refuses IOPOLL rings: " + r.error().message();
    (void)r->push(ops::nop{}, 1);
    if (!r->submit_and_wait(1)) return std::string("io_uring_enter failed on an IOPOLL ring");
    const auto c = r->peek_cqe();
    return c && c.result() == 0 ? std::string()
                                : "kernel refuses IORING_OP_NOP on IOPOLL rings (found by trying)";
  }();
  return why;
}

/// A NOP that completes with `value` where the kernel injects results, and with 0 elsewhere:
/// tests that count completions per operation compare the result with `expected`.
struct tagged_nop {
  ops::nop op;
  int expected = 0;
};
inline tagged_nop nop_returning(int value) {
  if (probe_nops().inject) return {ops::nop{.inject = true, .inject_result = value}, value};
  return {ops::nop{}, 0};
}

/// Empty when the default async runtime's ring (SINGLE_ISSUER|DEFER_TASKRUN with a registered
/// ring fd) can be made; otherwise the reason its tests skip.
inline std::string lacks_default_runtime() {
  static const std::string why = [] {
    auto r = async::default_ring::create(4);
    return r ? std::string() : "the kernel refuses async::default_ring: " + r.error().message();
  }();
  return why;
}

}  // namespace urine::test
