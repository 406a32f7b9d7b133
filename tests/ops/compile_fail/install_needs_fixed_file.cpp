// Must not compile: FIXED_FD_INSTALL takes a registered file only, never a plain descriptor.
import urine;

void use(urine::ring<>& r) { (void)r.push(urine::ops::fixed_fd_install{.file = 3}); }
