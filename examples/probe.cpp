// urine-probe: what the running kernel's io_uring supports, as a readable table — every request
// opcode, setup flag, feature, enter flag, SQE flag and register opcode, with the kernel that
// introduced it and whether this one has it. Built on urine.registration's capability report
// (REGISTER_PROBE, and REGISTER_QUERY where the kernel has it).
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
import urine;

namespace {

constexpr const char* usage =
    "Usage: urine-probe [--help]\n"
    "Print what this kernel's io_uring supports: request opcodes, setup flags, features,\n"
    "enter flags, SQE flags and register opcodes, each with the kernel that introduced it.\n"
    "\"?\" marks what the kernel cannot be asked about (before 6.18's IORING_REGISTER_QUERY).\n";

std::string since(urine::kernel_version v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

// One table: a title, then a row per entry with its name, first kernel and answer.
template <class Table, class Name, class Answer>
void print_table(const char* title, const char* prefix, const Table& table, Name&& name_of,
                 Answer&& answer) {
  std::printf("\n%s\n", title);
  std::printf("  %-36s %-7s %s\n", "name", "since", "here");
  unsigned yes = 0;
  for (const auto& entry : table) {
    const char* a = answer(entry);
    yes += std::strcmp(a, "yes") == 0;
    std::printf("  %s%-*s %-7s %s\n", prefix, static_cast<int>(36 - std::strlen(prefix)),
                std::string(name_of(entry)).c_str(), since(entry.since).c_str(), a);
  }
  std::printf("  (%u of %zu supported)\n", yes, table.size());
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(usage, stdout);
      return 0;
    }
    std::fprintf(stderr, "urine-probe: unknown argument '%s'\n%s", argv[i], usage);
    return 2;
  }

  const auto report = urine::capabilities();
  if (!report) {
    std::fprintf(stderr, "urine-probe: %s\n", report.error().message().c_str());
    return 1;
  }
  const auto& r = *report;
  std::printf("io_uring on Linux %s — REGISTER_QUERY %s\n", r.kernel_release.c_str(),
              r.queried ? "answered" : "not available (kernel before 6.18): some rows are \"?\"");

  print_table(
      "Request opcodes", "IORING_OP_", urine::opcodes,
      [](const urine::opcode_info& o) { return o.name; },
      [&](const urine::opcode_info& o) { return yes_no(r.supports(o.op)); });

  print_table(
      "Setup flags", "IORING_SETUP_", urine::setup_flag_table, [](const auto& f) { return f.name; },
      [&](const auto& f) {
        if (r.supports(f.value)) return "yes";
        // Without QUERY these were not tried (they need resources to pass validation).
        const bool untried = f.value == urine::setup_flags::attach_wq ||
                             f.value == urine::setup_flags::no_mmap ||
                             f.value == urine::setup_flags::registered_fd_only;
        return !r.queried && untried ? "?" : "no";
      });

  print_table(
      "Features (reported by a new ring)", "IORING_FEAT_", urine::feature_table,
      [](const auto& f) { return f.name; },
      [&](const auto& f) { return yes_no(r.supports(f.value)); });

  print_table(
      "Enter flags", "IORING_ENTER_", urine::enter_flag_table, [](const auto& f) { return f.name; },
      [&](const auto& f) { return r.queried ? yes_no(urine::has(r.enter, f.value)) : "?"; });

  print_table(
      "SQE flags", "IOSQE_", urine::sqe_flag_table, [](const auto& f) { return f.name; },
      [&](const auto& f) { return r.queried ? yes_no(urine::has(r.sqe, f.value)) : "?"; });

  print_table(
      "Register opcodes", "IORING_", urine::register_opcode_table,
      [](const auto& f) { return f.name; },
      [&](const auto& f) { return r.queried ? yes_no(r.supports(f.value)) : "?"; });
  return 0;
}
