// Must not compile, naming the field: multishot accept is a mode (.mode =
// accept_flags::multishot), not a field of its own.
import urine;

void use(urine::ring<>& r, int listener) {
  (void)r.push(urine::ops::accept{.file = listener, .multishot = true});
}
