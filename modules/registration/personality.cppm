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
/// request with them. Unregisters on destruction; unregister() forgets the credentials now
/// (IORING_UNREGISTER_PERSONALITY).
class personality : public detail::registration<personality, std::uint16_t> {
 public:
  using registration::registration;

  [[nodiscard]] std::uint16_t id() const noexcept { return payload(); }
  /// SQE options that run a request under these credentials.
  [[nodiscard]] sqe_options options(sqe_flags flags = sqe_flags::none) const noexcept {
    return {flags, id()};
  }

 private:
  friend registration;
  static constexpr register_opcode unregister_opcode = register_opcode::unregister_personality;
  static result<void> unregister_from(ring_ref ring, std::uint16_t id);
};

/// Save the calling thread's current credentials (IORING_REGISTER_PERSONALITY).
[[nodiscard]] result<personality> register_personality(ring_ref ring);

}  // namespace urine
