// Personalities: the credentials of the registering task, saved under an id, so that later
// requests can run as that user (REGISTER_PERSONALITY, UNREGISTER_PERSONALITY).
module;
#include <cstdint>
export module urine.registration:personality;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// Saved credentials. Pass options() (or its id as sqe_options::personality) to push() to run a
/// request with them. Unregisters on destruction.
class personality : public detail::ring_bound {
 public:
  personality(personality&&) noexcept = default;
  personality& operator=(personality&& o) noexcept;
  ~personality();

  [[nodiscard]] std::uint16_t id() const noexcept { return id_; }
  /// SQE options that run a request under these credentials.
  [[nodiscard]] sqe_options options(sqe_flags flags = sqe_flags::none) const noexcept {
    return {flags, id_};
  }
  /// Forget the credentials now (IORING_UNREGISTER_PERSONALITY).
  result<void> unregister();

 private:
  friend result<personality> register_personality(ring_ref);
  personality(ring_ref ring, std::uint16_t id) noexcept : ring_bound(ring), id_(id) {}
  std::uint16_t id_ = 0;
};

/// Save the calling thread's current credentials (IORING_REGISTER_PERSONALITY).
[[nodiscard]] result<personality> register_personality(ring_ref ring);

}  // namespace urine
