// Must not compile: every directory of the *at family is a plain descriptor (here RENAMEAT's
// second one); the kernel refuses a registered file there.
import urine;

void use(urine::ring<>& r, int dir, urine::fixed_file registered_dir) {
  (void)r.push(urine::ops::renameat{
      .old_dir = dir, .old_path = "a", .new_dir = registered_dir, .new_path = "b"});
}
