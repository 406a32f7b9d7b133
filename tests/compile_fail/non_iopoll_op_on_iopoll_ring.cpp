// FSYNC on an IOPOLL ring: the kernel refuses it there, so urine does not compile it.
import urine;
int main() {
  auto r = urine::ring<urine::iopoll>::create(4);
  return r->push(urine::ops::fsync{3}) ? 0 : 1;
}
