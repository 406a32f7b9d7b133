// Every legal policy combination, with the acquire release memory-order strategy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include "combinations.hpp"
import urine;
import urine.test_support;

// The rule the combinations are filtered by, on lists ring<...> must accept and refuse.
static_assert(urine::is_legal<>);
static_assert(urine::is_legal<urine::registered_ring_fd, urine::sqe128, urine::cqe_mixed,
                              urine::iopoll, urine::defer_task_run<true>>);
static_assert(urine::is_legal<urine::sqpoll, urine::single_issuer>);
static_assert(!urine::is_legal<int>);
static_assert(!urine::is_legal<urine::sqe64, urine::sqe128>);
static_assert(!urine::is_legal<urine::sqpoll, urine::coop_task_run<>>);
static_assert(!urine::is_legal<urine::sqpoll, urine::defer_task_run<>>);
static_assert(urine::policy_name<urine::sqpoll> == "sqpoll");
static_assert(urine::policy_name<urine::defer_task_run<true>> == "defer_task_run<true>");

#define URINE_MEMORY_ORDER acquire_release
#define URINE_SUITE ring_combinations_acquire_release
#include "combinations_test.inc"
