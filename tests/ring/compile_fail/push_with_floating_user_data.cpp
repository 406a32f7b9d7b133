// User data travels as 64 bits: an integer, a pointer or a urine::user_data, never a double.
import urine;
int main() {
  auto r = urine::ring<>::create(4);
  return r->push(urine::ops::nop{}, 1.5) ? 0 : 1;
}
