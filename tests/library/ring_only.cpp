// A program that creates a ring and submits one NOP, and never resizes: what it links from the
// static library is checked by library.unused_cold_code_stays_out.
import urine.ring;

int main() {
  auto ring = urine::ring<>::create(8);
  if (!ring) return 1;
  auto* sqe = ring->get_sqe();
  *sqe = {};
  sqe->opcode = static_cast<unsigned char>(urine::opcode::nop);
  auto done = ring->submit_and_wait(1);
  return done && ring->for_each_cqe([](auto) {}) == 1 ? 0 : 1;
}
