// urine.registration — everything of io_uring_register(2), typed: registered buffers and files,
// eventfd, probing and QUERY, personalities, restrictions, io-wq, registered ring fds,
// provided-buffer rings, synchronous cancel, the wait clock, ring-less messages, ring resizing,
// memory regions with registered wait arguments, NAPI and zero-copy receive queues.
//
// Resources with a lifetime in the kernel are move-only handles that unregister on destruction;
// each refers to its ring by fd, survives the ring object moving, and must not outlive the fd
// (see :core). Failures are urine::result values whose message names what was asked; what the
// library can know (an index out of range, a table too large) is refused before the kernel is
// asked.
export module urine.registration;

export import urine.abi;
export import urine.ring;
export import :core;
export import :buffers;
export import :files;
export import :eventfd;
export import :probe;
export import :personality;
export import :restrictions;
export import :iowq;
export import :ring_fds;
export import :buf_ring;
export import :sync_cancel;
export import :clock;
export import :send_msg_ring;
export import :resize;
export import :mem_region;
export import :napi;
export import :zcrx;
