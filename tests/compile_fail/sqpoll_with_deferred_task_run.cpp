// An incoherent task-run combination: the kernel refuses DEFER_TASKRUN on an SQPOLL ring.
import urine;
using bad = urine::ring<urine::sqpoll, urine::defer_task_run<>>;
int main() { return sizeof(bad); }
