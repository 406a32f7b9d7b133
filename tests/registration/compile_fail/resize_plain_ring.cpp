// The kernel resizes only DEFER_TASKRUN rings: asking on another ring type does not compile.
import urine;

int main() {
  auto ring = urine::ring<>::create(4);
  return urine::resize_rings(*ring, 8).has_value() ? 0 : 1;
}
