// An eventfd the kernel signals when completions are posted (REGISTER_EVENTFD,
// REGISTER_EVENTFD_ASYNC, UNREGISTER_EVENTFD): how a ring joins an epoll/poll-based event loop.
module;
#include <cstdint>
export module urine.registration:eventfd;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

enum class eventfd_mode : std::uint8_t {
  every_completion,  ///< signal for every posted completion (REGISTER_EVENTFD)
  async_only,        ///< only for completions of work that went to io-wq (REGISTER_EVENTFD_ASYNC)
};

/// The ring's eventfd registration (the eventfd itself stays the caller's: it is not closed).
/// A ring has at most one; notifications can be paused with ring.set_eventfd_enabled(false).
/// unregister() stops the signalling now (IORING_UNREGISTER_EVENTFD).
class registered_eventfd : public detail::registration<registered_eventfd, int> {
 public:
  using registration::registration;

  [[nodiscard]] int fd() const noexcept { return payload(); }

 private:
  friend registration;
  static constexpr register_opcode unregister_opcode = register_opcode::unregister_eventfd;
  static result<void> unregister_from(ring_ref ring, int fd);
};

[[nodiscard]] result<registered_eventfd> register_eventfd(
    ring_ref ring, int eventfd, eventfd_mode mode = eventfd_mode::every_completion);

}  // namespace urine
