// Must not compile: the string dies at the end of the statement, before the kernel reads it.
#include <string>
import urine;

void use(urine::ring<>& r, int fd) { (void)r.push(urine::ops::write{fd, std::string("x")}); }
