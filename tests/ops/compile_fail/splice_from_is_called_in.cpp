// Must not compile, naming the field: splice's two ends are `.in` and `.out`.
import urine;

void use(urine::ring<>& r, int pipe_in, int file_out) {
  (void)r.push(urine::ops::splice{.from = pipe_in, .out = file_out, .length = 4096});
}
