// Must not compile: a path built from a temporary string would dangle before the kernel reads it.
#include <string>
import urine;

void use(urine::ring<>& r) { (void)r.push(urine::ops::unlinkat{.path = std::string("gone")}); }
