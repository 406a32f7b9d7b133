// Helpers of the registration tests: raw SQEs for operations whose typed form is not the point
// of a test (or lives in another module), reaping into copies, connected socket pairs, and a
// temporary directory another user can reach.
module;
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>
export module urine.registration_test_helpers;
import urine;
import urine.test_support;

export namespace urine::test {

/// Fill the next SQE by hand (cleared first); throws when the SQ is full.
template <class Ring, class Fill>
void raw_sqe(Ring& ring, std::uint64_t user_data, Fill&& fill) {
  auto* s = ring.get_sqe();
  if (s == nullptr) throw std::runtime_error("SQ full");
  if constexpr (sizeof(*s) == sizeof(abi::sqe)) {
    *s = abi::sqe{};
    fill(*s);
    s->user_data = user_data;
  } else {
    *s = {};
    fill(s->base);
    s->base.user_data = user_data;
  }
}

inline void prep_nop(abi::sqe& s) { s.opcode = static_cast<std::uint8_t>(opcode::nop); }

/// A multishot receive that selects buffers from `group`.
inline void prep_recv_multishot(abi::sqe& s, int fd, std::uint16_t group) {
  s.opcode = static_cast<std::uint8_t>(opcode::recv);
  s.fd = fd;
  s.ioprio = bits(recvsend_flags::recv_multishot);
  s.flags = bits(sqe_flags::buffer_select);
  s.buf_group = group;
}

/// Copy every ready completion out (waiting for at least `n`, each for 10 s at most), consuming
/// them; throws when a wait fails or times out.
template <class Ring>
std::vector<abi::cqe> reap(Ring& ring, unsigned n) {
  std::vector<abi::cqe> out;
  while (out.size() < n) {
    auto w = ring.wait_for(1, std::chrono::seconds(10));
    if (!w) throw std::runtime_error("wait: " + w.error().message());
    ring.for_each_cqe([&](auto c) {
      out.push_back(
          {c.user_data().value(), c.result(), static_cast<std::uint32_t>(bits(c.flags()))});
    });
  }
  return out;
}

/// Submit what is prepared, then reap exactly until `n` completions arrived. A request that
/// fails as it is submitted (a fixed file missing, on kernels before 6.13) ends the kernel's
/// batch, so submitting goes on until the SQ is empty.
template <class Ring>
std::vector<abi::cqe> submit_and_reap(Ring& ring, unsigned n) {
  while (ring.sq_ready() > 0) {
    const auto s = ring.submit();
    if (!s) throw std::runtime_error("submit: " + s.error().message());
    if (*s == 0) throw std::runtime_error("submit: the kernel took none of the prepared requests");
  }
  return reap(ring, n);
}

/// Send all of `data` (blocking).
inline void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// A completion with `user_data` among `cqes`, or nullptr.
inline const abi::cqe* find(const std::vector<abi::cqe>& cqes, std::uint64_t user_data) {
  auto it = std::find_if(cqes.begin(), cqes.end(),
                         [&](const abi::cqe& c) { return c.user_data == user_data; });
  return it == cqes.end() ? nullptr : &*it;
}

}  // namespace urine::test
