// A registration cannot be made on a temporary ring: the ring would close before the handle.
import urine;

int main() {
  const int fds[1] = {0};
  auto files = urine::register_files(urine::ring<>::create(4).value(), fds);
  return files ? 0 : 1;
}
