// Must not compile: ATTACH_WQ names the ring whose workers are shared by its plain descriptor.
import urine;

int main() {
  return urine::ring<>::create({.entries = 4, .attach_wq = urine::fixed_file{0}}) ? 0 : 1;
}
