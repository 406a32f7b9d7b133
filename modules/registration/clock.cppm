// The clock of a ring's wait timeouts (REGISTER_CLOCK, 6.12): CLOCK_MONOTONIC (the default) or
// CLOCK_BOOTTIME, which keeps counting while the machine is suspended.
module;
#include <cstdint>
export module urine.registration:clock;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

enum class wait_clock : std::uint8_t { monotonic, boottime };

/// Measure this ring's wait timeouts (and absolute ones, IORING_ENTER_ABS_TIMER) on `clock`.
result<void> set_wait_clock(ring_ref ring, wait_clock clock);

}  // namespace urine
