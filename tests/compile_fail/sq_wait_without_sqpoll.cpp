// Waiting for SQ space is an SQPOLL facility: an interrupt-driven ring has no SQ thread.
import urine;
int main() {
  auto r = urine::ring<>::create(4);
  return r->wait_for_sq_space() ? 0 : 1;
}
