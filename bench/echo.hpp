// What the io_uring echo servers share: how a completion says what it was for, the provided-
// buffer memory, and the server's bookkeeping. Each server keeps its own loop, written the way
// its library is meant to be used; the logic below is the part that must not differ.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "harness.hpp"

namespace bench::echo {

enum class kind : std::uint8_t { accept = 1, recv = 2, send = 3 };

/// user_data: the socket in bits 0..23, the buffer id in 24..39, a send's length in 40..59, the
/// kind in 60..63.
inline std::uint64_t tag(kind k, int fd, std::uint16_t bid = 0, std::uint32_t len = 0) noexcept {
  return std::uint64_t{static_cast<std::uint8_t>(k)} << 60 | std::uint64_t{len & 0xfffff} << 40 |
         std::uint64_t{bid} << 24 | (static_cast<std::uint32_t>(fd) & 0xffffff);
}
inline kind kind_of(std::uint64_t ud) noexcept { return static_cast<kind>(ud >> 60); }
inline int fd_of(std::uint64_t ud) noexcept { return static_cast<int>(ud & 0xffffff); }
inline std::uint16_t bid_of(std::uint64_t ud) noexcept {
  return static_cast<std::uint16_t>(ud >> 24);
}
inline std::uint32_t len_of(std::uint64_t ud) noexcept {
  return static_cast<std::uint32_t>(ud >> 40) & 0xfffff;
}

/// The provided-buffer group every server registers, and its size.
inline constexpr std::uint16_t group = 0;
inline constexpr unsigned buffer_count = 256;  // a power of two, above one per connection
/// A buffer ring matched to the connection count: a connection holds one buffer while its echo
/// is being sent and may already receive the next message into another, so two per connection
/// (a power of two, at least buffer_count). With one per connection, receives find the ring
/// empty (ENOBUFS), end their multishot, and are armed again.
inline unsigned buffers_for(const params& p) noexcept {
  unsigned n = buffer_count;
  while (n < 2 * p.connections) n *= 2;
  return n;
}
inline unsigned buffer_size(const params& p) noexcept {
  return p.msg_size < 4096 ? 4096 : p.msg_size;
}
inline unsigned ring_entries(const params& p) noexcept {
  unsigned n = 64;
  while (n < 4 * p.connections) n *= 2;
  return n;
}

/// Page-aligned memory for the buffer ring (16 bytes per entry) followed by the buffers.
class buffer_memory {
 public:
  explicit buffer_memory(const params& p)
      : ring_bytes_(buffer_count * 16),
        buffer_size_(echo::buffer_size(p)),
        size_(ring_bytes_ + std::size_t{buffer_count} * buffer_size_) {
    void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    base_ = m == MAP_FAILED ? nullptr : static_cast<std::byte*>(m);
  }
  buffer_memory(const buffer_memory&) = delete;
  buffer_memory& operator=(const buffer_memory&) = delete;
  ~buffer_memory() {
    if (base_ != nullptr) munmap(base_, size_);
  }
  [[nodiscard]] bool ok() const noexcept { return base_ != nullptr; }
  [[nodiscard]] void* ring() const noexcept { return base_; }
  [[nodiscard]] std::byte* buffer(unsigned bid) const noexcept {
    return base_ + ring_bytes_ + std::size_t{bid} * buffer_size_;
  }
  [[nodiscard]] unsigned buffer_size() const noexcept { return buffer_size_; }

 private:
  std::size_t ring_bytes_;
  unsigned buffer_size_;
  std::size_t size_;
  std::byte* base_ = nullptr;
};

/// The server's state between completions: when to stop, and the first failure.
struct tally {
  explicit tally(unsigned conns) : connections(conns) {}
  unsigned connections;
  unsigned accepted = 0;
  unsigned closed = 0;
  std::uint64_t echoed = 0;
  long long cq_overflows = -1;  ///< an io_uring server's CQ overflows, the kernel's count
  std::string error;
  [[nodiscard]] bool running() const noexcept { return closed < connections && error.empty(); }
  /// A failed completion: remembered, and the loop stops.
  void fail(const char* what, int res) {
    if (error.empty()) error = std::string(what) + " failed: " + std::to_string(res);
  }
  /// The send of `len` bytes completed with `res`: a short send would lose bytes.
  bool sent(std::uint32_t len, int res) {
    if (res < 0 || static_cast<std::uint32_t>(res) != len) {
      fail("send", res);
      return false;
    }
    ++echoed;
    return true;
  }
};

/// Runs a server loop under bench::measure and reports its tally's failure, if any.
template <class Loop>
outcome serve(tally& t, Loop&& loop) {
  outcome out = measure([&] {
    loop();
    return t.echoed;
  });
  out.error = t.error;
  out.cq_overflows = t.cq_overflows;
  return out;
}

/// The load client (echo_client.cpp): `connections` sockets to 127.0.0.1:`port`, each with one
/// message in flight, until `ops` messages have come back intact. Measures the wall time.
outcome run_client(std::uint16_t port, const params& prm);

}  // namespace bench::echo
