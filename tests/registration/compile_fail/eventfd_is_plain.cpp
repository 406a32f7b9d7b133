// Must not compile: the kernel signals an eventfd it looks up as a plain descriptor; a registered
// index is not one.
import urine;

int main() {
  auto ring = urine::ring<>::create(4);
  const urine::fixed_file registered{0};
  return urine::register_eventfd(*ring, registered) ? 0 : 1;
}
