// Must not compile: EPOLL_CTL reads both its epoll instance and its target as plain descriptors;
// a registered index there would name whatever descriptor has that number.
import urine;

void use(urine::ring<>& r, int epoll, urine::fixed_file registered) {
  (void)r.push(
      urine::ops::epoll_ctl{.epoll = epoll, .op = urine::epoll_op::add, .target = registered});
}
