list(APPEND URINE_MODULE_UNITS
  ring/ring.cppm
  ring/policies.cppm
  ring/config.cppm
  ring/completion.cppm
  ring/setup.cppm
  ring/queues.cppm
  ring/basic_ring.cppm)
list(APPEND URINE_IMPLEMENTATION_UNITS
  ring/setup.cpp
  ring/resize.cpp)
