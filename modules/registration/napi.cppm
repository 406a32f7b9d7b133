// NAPI busy polling for a ring's network requests (REGISTER_NAPI, UNREGISTER_NAPI, 6.9): waits
// busy-poll the NIC queues of the sockets the ring serves instead of sleeping on interrupts.
module;
#include <chrono>
#include <cstdint>
export module urine.registration:napi;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

struct napi_settings {
  std::chrono::microseconds busy_poll_timeout{0};
  bool prefer_busy_poll = false;
  friend bool operator==(const napi_settings&, const napi_settings&) = default;
};

/// Busy polling enabled on a ring (dynamic tracking: the queues of the sockets it serves).
/// Unregisters on destruction. A ring has one setting: registering again replaces it (previous()
/// says what was replaced), so keep one handle per ring. unregister() turns busy polling off
/// (IORING_UNREGISTER_NAPI) and returns the settings that were in force.
class registered_napi : public detail::registration<registered_napi, napi_settings, napi_settings> {
 public:
  using registration::registration;

  /// What was in force before registration.
  [[nodiscard]] const napi_settings& previous() const noexcept { return payload(); }

 private:
  friend registration;
  static constexpr register_opcode unregister_opcode = register_opcode::unregister_napi;
  static result<napi_settings> unregister_from(ring_ref ring, const napi_settings& previous);
};

[[nodiscard]] result<registered_napi> register_napi(ring_ref ring, napi_settings settings);

}  // namespace urine
