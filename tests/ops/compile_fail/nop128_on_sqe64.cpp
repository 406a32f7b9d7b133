// Must not compile: NOP128 fills a 128-byte SQE, and ring<> has 64-byte SQEs.
import urine;

void use(urine::ring<>& r) { (void)r.push(urine::ops::nop128{}); }
