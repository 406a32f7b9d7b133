// Must not compile: the directory of an *at operation is a plain descriptor; the kernel refuses a
// registered file there.
import urine;

void use(urine::ring<>& r) {
  (void)r.push(urine::ops::openat{.dir = urine::fixed_file{0}, .path = "x"});
}
