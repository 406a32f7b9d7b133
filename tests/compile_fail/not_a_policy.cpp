// Something that is not a ring policy.
import urine;
using bad = urine::ring<int>;
int main() { return sizeof(bad); }
