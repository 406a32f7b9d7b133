// Every legal policy combination, with the sequentially consistent memory-order strategy.
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

#define URINE_MEMORY_ORDER sequentially_consistent
#define URINE_SUITE ring_combinations_sequentially_consistent
#include "combinations_test.inc"
