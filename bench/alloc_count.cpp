// Counts heap allocations per thread, so the bench can print allocations per operation. malloc,
// calloc and realloc defined in the executable take precedence over libc's for every library in
// the process (operator new included: libstdc++'s calls malloc); each forwards to glibc's own
// allocator through its exported __libc_* entry points.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t n, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
}

namespace {
// Initial-exec TLS in the executable: reading it never allocates, so the hooks cannot recurse.
thread_local std::uint64_t allocation_count = 0;
}  // namespace

extern "C" {
void* malloc(std::size_t size) {
  ++allocation_count;
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  ++allocation_count;
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  ++allocation_count;
  return __libc_realloc(p, size);
}
}

std::uint64_t bench::allocations() noexcept { return allocation_count; }
