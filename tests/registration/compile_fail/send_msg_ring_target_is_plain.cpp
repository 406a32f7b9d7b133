// Must not compile: the ring-less message finds its target ring by a plain descriptor (or a ring
// object); a registered-file index is neither.
import urine;

int main() { return urine::send_msg_ring(urine::fixed_file{0}, 1, 0) ? 0 : 1; }
