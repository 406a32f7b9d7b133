// Must not compile: the kernel refuses POLL_ADD on IOPOLL rings.
import urine;

void use(urine::ring<urine::iopoll>& r) { (void)r.push(urine::ops::poll_add{.file = 3}); }
