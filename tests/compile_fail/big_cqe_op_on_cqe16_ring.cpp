// An operation whose completion is a 32-byte CQE, pushed on a ring of 16-byte CQEs.
import urine;
int main() {
  auto r = urine::ring<>::create(4);
  return r->push(urine::ops::nop32{}) ? 0 : 1;
}
