// urine.ring — ring<Policies...>: setup, mapping, SQ and CQ, submit, wait, reap; the policy
// vocabulary and its concepts.
export module urine.ring;

export import urine.abi;
export import :policies;
export import :config;
export import :completion;
export import :setup;
export import :queues;
export import :basic_ring;
