// Must not compile, naming the field: an operation's descriptor is `.file`, not `.fd`.
import urine;

void use(urine::ring<>& r, int fd, char (&into)[16]) {
  (void)r.push(urine::ops::read{.fd = fd, .into = into});
}
