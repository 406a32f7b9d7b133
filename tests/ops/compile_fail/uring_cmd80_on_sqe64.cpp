// Must not compile: an 80-byte URING_CMD payload needs a ring<sqe128>.
import urine;

void use(urine::ring<>& r) { (void)r.push(urine::ops::uring_cmd80{.file = 3, .cmd_op = 0}); }
