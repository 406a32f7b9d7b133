// An operation posting a 32-byte CQE, pushed through a reservation on a ring of 16-byte CQEs.
import urine;
int main() {
  auto r = urine::ring<>::create(4);
  auto sq = r->reserve(1);
  sq->push(urine::ops::nop32{});
  return 0;
}
