list(APPEND URINE_MODULE_UNITS
  abi/abi.cppm
  abi/bitmask.cppm
  abi/opcodes.cppm
  abi/constants.cppm
  abi/op_flags.cppm
  abi/register_constants.cppm
  abi/structs.cppm
  abi/syscalls.cppm
  abi/errors.cppm
  abi/handles.cppm)
list(APPEND URINE_IMPLEMENTATION_UNITS
  abi/errors.cpp
  abi/kernel_version.cpp)
