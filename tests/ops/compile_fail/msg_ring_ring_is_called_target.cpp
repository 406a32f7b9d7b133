// Must not compile, naming the field: the ring a message goes to is `.target`.
import urine;

void use(urine::ring<>& r, int other_ring) {
  (void)r.push(urine::ops::msg_ring{.ring = other_ring, .value = 1});
}
