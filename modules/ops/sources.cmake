list(APPEND URINE_MODULE_UNITS
  ops/ops.cppm
  ops/buffers.cppm
  ops/prep.cppm
  ops/rw.cppm
  ops/file.cppm
  ops/nop.cppm)
