// The running kernel's release, and kernel versions in words (declared in opcodes.cppm): cold
// code, compiled once.
module;
#include <sys/utsname.h>
#include <cstdint>
#include <cstdio>
#include <string>
module urine.abi;

namespace urine {

kernel_version running_kernel() noexcept {
  ::utsname u{};
  unsigned major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%u.%u", &major, &minor) != 2) return {};
  return {static_cast<std::uint8_t>(major), static_cast<std::uint8_t>(minor)};
}

std::string to_string(kernel_version v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

}  // namespace urine
