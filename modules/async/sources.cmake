list(APPEND URINE_MODULE_UNITS
  async/async.cppm
  async/frame_allocator.cppm
  async/core.cppm
  async/stop.cppm
  async/messenger.cppm
  async/deadline_heap.cppm
  async/sleep_queue.cppm
  async/task.cppm
  async/zero_copy.cppm
  async/runtime.cppm
  async/time.cppm
  async/when.cppm
  async/sequence.cppm
  async/threads.cppm)
