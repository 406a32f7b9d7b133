// A provided-buffer ring cannot be registered on a temporary ring: the ring would close first.
import urine;

int main() {
  auto group = urine::register_buffer_ring(*urine::ring<>::create(4), {.group = 1, .entries = 8});
  return group ? 0 : 1;
}
