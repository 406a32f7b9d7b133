// urine.ops — one typed operation per opcode. An operation is a small aggregate holding what the
// user sets (with defaults), and a `prepare(abi::sqe&)` that writes exactly the SQE fields the
// kernel reads for it; ring::push clears the SQE, calls prepare, and adds user data and flags.
//
// Operation traits a ring checks at compile time, where present:
//   needs_sqe128    the operation fills a 128-byte SQE (only ring<sqe128>)
//   needs_big_cqe   the completion is a 32-byte CQE (only cqe32 / cqe_mixed rings)
//   iopoll_capable  whether IOPOLL rings accept the operation: every operation takes it from the
//                   opcode table's iopoll column (accepts_iopoll(code)), never sets it by hand
export module urine.ops;

export import urine.abi;
export import :buffers;
export import :prep;
export import :rw;
export import :file;
export import :path;
export import :xattr;
export import :pipe;
export import :net;
export import :poll;
export import :time;
export import :cancel;
export import :buffers_ops;
export import :msg_ring;
export import :process;
export import :uring_cmd;
export import :nop;
export import :chain;
export import :multishot;
