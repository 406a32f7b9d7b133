// The 32-byte CQE extras read on a ring of 16-byte CQEs.
import urine;
int main() {
  auto r = urine::ring<>::create(4);
  auto c = r->peek_cqe();
  return static_cast<int>(c.extra()[0]);
}
