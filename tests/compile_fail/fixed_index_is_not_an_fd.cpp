// A registered-file index is not a descriptor: wherever a plain descriptor (an int) is taken,
// in urine or in the caller's own code, a fixed_file is refused with what to pass instead.
import urine;
void take_fd(int);
int main() {
  urine::fixed_file f{3};
  take_fd(f);
}
