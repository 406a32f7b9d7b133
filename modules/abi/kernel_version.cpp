// The running kernel's release (declared in opcodes.cppm): cold code, compiled once.
module;
#include <sys/utsname.h>
#include <cstdint>
#include <cstdio>
module urine.abi;

namespace urine {

kernel_version running_kernel() noexcept {
  ::utsname u{};
  unsigned major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%u.%u", &major, &minor) != 2) return {};
  return {static_cast<std::uint8_t>(major), static_cast<std::uint8_t>(minor)};
}

}  // namespace urine
