// A registered buffer table cannot be made on a moved-from ring expression: it is refused like a
// temporary, as nothing keeps the ring alive for the handle.
#include <sys/uio.h>
#include <utility>
import urine;

int main() {
  auto ring = urine::ring<>::create(4);
  static char memory[4096];
  const ::iovec table[1] = {{memory, sizeof memory}};
  auto buffers = urine::register_buffers(std::move(*ring), table);
  return buffers ? 0 : 1;
}
