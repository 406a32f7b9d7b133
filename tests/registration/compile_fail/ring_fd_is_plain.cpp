// Must not compile: a ring registers another ring's plain descriptor in its thread's table; an
// index into its registered file table is not one.
import urine;

int main() {
  auto ring = urine::ring<>::create(4);
  return urine::register_ring_fd(*ring, urine::fixed_file{1}) ? 0 : 1;
}
