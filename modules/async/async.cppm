// urine.async — coroutines over any operation: a runtime owning one ring per thread, lazy tasks
// and scopes, awaitable operations (state in the frame, no allocation), cancellation, timeouts,
// when_all/when_any, multishot sequences, zero-copy sends that resume before their notification,
// cross-ring posting by MSG_RING.
export module urine.async;

export import :frame_allocator;
export import :core;
export import :stop;
export import :messenger;
export import :deadline_heap;
export import :sleep_queue;
export import :task;
export import :zero_copy;
export import :runtime;
export import :time;
export import :when;
export import :sequence;
export import :threads;
