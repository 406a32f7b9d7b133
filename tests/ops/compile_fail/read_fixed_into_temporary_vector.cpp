// Must not compile: a registered-buffer read takes a plain buffer, which refuses temporaries too.
#include <vector>
import urine;

void use(urine::ring<>& r, int fd) {
  (void)r.push(urine::ops::read_fixed{fd, std::vector<char>(4)});
}
