// Must not compile, naming the field: a command's number is `.cmd_op`.
import urine;

void use(urine::ring<urine::sqe128>& r, int fd) {
  (void)r.push(urine::ops::uring_cmd80{.file = fd, .op = 1});
}
