// Must not compile: the kernel would write into a vector destroyed when the statement ends.
#include <vector>
import urine;

void use(urine::ring<>& r, int fd) { (void)r.push(urine::ops::read{fd, std::vector<char>(4)}); }
