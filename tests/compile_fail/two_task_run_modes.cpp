// Two task-run modes in one ring.
import urine;
using bad = urine::ring<urine::coop_task_run<>, urine::defer_task_run<>>;
int main() { return sizeof(bad); }
