list(APPEND URINE_MODULE_UNITS
  registration/registration.cppm
  registration/core.cppm
  registration/buffers.cppm
  registration/files.cppm
  registration/eventfd.cppm
  registration/probe.cppm
  registration/personality.cppm
  registration/restrictions.cppm
  registration/iowq.cppm
  registration/ring_fds.cppm
  registration/buf_ring.cppm
  registration/sync_cancel.cppm
  registration/clock.cppm
  registration/send_msg_ring.cppm
  registration/resize.cppm
  registration/mem_region.cppm
  registration/napi.cppm
  registration/zcrx.cppm)
list(APPEND URINE_IMPLEMENTATION_UNITS
  registration/tables.cpp
  registration/control.cpp
  registration/memory.cpp)
