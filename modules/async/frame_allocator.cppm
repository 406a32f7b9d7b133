// A per-thread recycling allocator for coroutine frames. A server spawns a task per connection
// and awaits a task per request: with the global allocator that is a malloc and a free each
// time. Here a freed frame goes onto a free list of its size class on the freeing thread and the
// next frame of that class takes it back, so after warm-up a steady stream of tasks allocates
// nothing. Frames above the largest class go to the global allocator directly.
module;
#include <cstddef>
#include <new>
#include <utility>
export module urine.async:frame_allocator;

namespace urine::async::detail {

struct free_frame {
  free_frame* next;
};

/// This thread's free lists. Trivially destructible, so it stays readable while other
/// thread-local objects are destroyed at thread exit; frame_cache_reaper empties it then.
struct frame_cache {
  static constexpr std::size_t granule = 64;
  static constexpr std::size_t classes = 64;  // frames up to 4 KiB are recycled
  free_frame* heads[classes];
  bool closed;  // the thread is exiting: give frames back to the global allocator
};

inline thread_local constinit frame_cache this_thread_frames{};

/// Frees the cached frames when the thread ends.
struct frame_cache_reaper {
  inline ~frame_cache_reaper() {
    frame_cache& c = this_thread_frames;
    c.closed = true;
    for (free_frame*& head : c.heads)
      while (head != nullptr) ::operator delete(std::exchange(head, head->next));
  }
};

}  // namespace urine::async::detail

export namespace urine::async {

/// The allocator behind every task frame (task<T>'s promise operator new and delete).
struct frame_allocator {
  [[nodiscard]] static inline void* allocate(std::size_t n) {
    using detail::frame_cache;
    const std::size_t c = (n + frame_cache::granule - 1) / frame_cache::granule;
    if (c < frame_cache::classes) {
      frame_cache& cache = detail::this_thread_frames;
      if (detail::free_frame* f = cache.heads[c]) [[likely]] {
        cache.heads[c] = f->next;
        return f;
      }
      // The first frame of a class on this thread: arrange for the cache to be emptied at exit.
      static thread_local detail::frame_cache_reaper reaper;
      (void)reaper;
      return ::operator new(c * frame_cache::granule);
    }
    return ::operator new(n);
  }

  static inline void deallocate(void* p, std::size_t n) noexcept {
    using detail::frame_cache;
    const std::size_t c = (n + frame_cache::granule - 1) / frame_cache::granule;
    frame_cache& cache = detail::this_thread_frames;
    if (c < frame_cache::classes && !cache.closed) [[likely]] {
      cache.heads[c] = ::new (p) detail::free_frame{cache.heads[c]};
      return;
    }
    ::operator delete(p);
  }
};

}  // namespace urine::async
