// Posting a completion into another thread's ring from a thread that has no ring to post with
// (none running, or an IOPOLL ring, which cannot send MSG_RING): the ring-less register op
// REGISTER_SEND_MSG_RING where the kernel has it (6.13), and before that a MSG_RING SQE (5.18)
// through a small ring of the calling thread's own, made on first use. Cold code: posts across
// threads, and stop requests from other threads.
module;
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <expected>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
export module urine.async:messenger;
import urine.abi;
import urine.ring;
import urine.ops;
import urine.registration;

export namespace urine::async::detail {

/// Whether REGISTER_SEND_MSG_RING is known to be missing: set by its first refusal, process-wide.
inline std::atomic<bool> ringless_send_missing{false};

/// One message through this thread's own small ring: the MSG_RING's own CQE carries its result.
inline result<void> send_by_messenger_ring(int target_fd, std::uint64_t data) {
  thread_local std::optional<ring<>> messenger;
  if (!messenger) {
    auto made = ring<>::create(setup{.entries = 2});
    if (!made)
      return std::unexpected(error(made.error().code(),
                                   "a ring to post MSG_RING from (REGISTER_SEND_MSG_RING needs "
                                   "kernel 6.13): " +
                                       made.error().context()));
    messenger.emplace(std::move(*made));
  }
  if (!messenger->push(ops::msg_ring{.target = target_fd, .data = user_data(data)}))
    return std::unexpected(error(std::make_error_code(std::errc::resource_unavailable_try_again),
                                 "MSG_RING: the posting ring's SQ is full"));
  if (auto s = messenger->submit(); !s)
    return std::unexpected(error(s.error(), "MSG_RING: io_uring_enter"));
  const auto c = messenger->wait_cqe();
  if (!c) return std::unexpected(error(c.error(), "MSG_RING: waiting for its completion"));
  const int res = c->result();
  messenger->cqe_seen(*c);
  if (res < 0) {
    std::string text = "MSG_RING to ring fd " + std::to_string(target_fd);
    if (res == -ENOTSUP || res == -EINVAL || res == -EOPNOTSUPP)
      text += " (MSG_RING needs kernel 5.18)";
    return std::unexpected(error(std::error_code(-res, std::system_category()), std::move(text)));
  }
  return {};
}

/// Post `data` (a CQE's user data, result 0) to the ring `target_fd` from any thread, without
/// blocking on the target. Its CQ may be full for a moment (EOVERFLOW) or its lock taken (EAGAIN):
/// retried a bounded number of times.
inline result<void> send_ringless(int target_fd, std::uint64_t data) noexcept {
  try {
    result<void> sent;
    for (int attempt = 0; attempt < 100000; ++attempt) {
      if (!ringless_send_missing.load(std::memory_order_relaxed)) {
        sent = send_msg_ring(target_fd, user_data(data), 0);
        // EINVAL from a kernel without the register op; a bad target reads the same, and the
        // MSG_RING below then names it.
        if (!sent && sent.error() == std::errc::invalid_argument) {
          ringless_send_missing.store(true, std::memory_order_relaxed);
          sent = send_by_messenger_ring(target_fd, data);
        }
      } else {
        sent = send_by_messenger_ring(target_fd, data);
      }
      if (sent || (sent.error() != std::errc::value_too_large &&
                   sent.error() != std::errc::resource_unavailable_try_again))
        return sent;
      std::this_thread::yield();
    }
    return sent;
  } catch (const std::bad_alloc&) {
    return std::unexpected(error(std::make_error_code(std::errc::not_enough_memory)));
  }
}

}  // namespace urine::async::detail
