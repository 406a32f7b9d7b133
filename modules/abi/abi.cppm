// urine.abi — the io_uring kernel ABI, vendored: every struct, opcode and flag through kernel
// 6.18 (plus the newer constants known today, marked with their first kernel), the raw system
// calls, and errno → std::error_code. The system's <linux/io_uring.h> is deliberately not used:
// distributions ship old copies that lack a third of today's interface.
export module urine.abi;

export import :bitmask;
export import :opcodes;
export import :constants;
export import :op_flags;
export import :register_constants;
export import :structs;
export import :syscalls;
export import :errors;
export import :handles;
