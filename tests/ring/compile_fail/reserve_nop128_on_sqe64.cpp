// A 128-byte NOP pushed through a reservation on a ring of 64-byte SQEs.
import urine;
int main() {
  auto r = urine::ring<>::create(4);
  auto sq = r->reserve(1);
  sq->push(urine::ops::nop128{});
  return 0;
}
