// Two SQE layouts in one ring: a ring has one SQE size.
import urine;
using bad = urine::ring<urine::sqe64, urine::sqe128>;
int main() { return sizeof(bad); }
