// A registered-file index is not a descriptor: an operation that takes only a plain fd refuses it.
import urine;
void take_fd(int);
int main() {
  urine::fixed_file f{3};
  take_fd(f);
}
