// Must not compile: a temporary std::array is as short-lived as a temporary string.
#include <array>
import urine;

void use(urine::ring<>& r, int fd) {
  (void)r.push(urine::ops::send{fd, std::array<char, 2>{'o', 'k'}});
}
