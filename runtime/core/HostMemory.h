//===- HostMemory.h - Refuse host allocations the machine cannot hold -----===//
//
// A huge shape or a sparse 25 GB .npy should end in an error naming the
// tensor, before anything is allocated, not in "out of memory" after the
// process has grown to gigabytes.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CORE_HOSTMEMORY_H
#define ATTNC_RUNTIME_CORE_HOSTMEMORY_H

#include "runtime/core/Status.h"

#include <cstdint>
#include <string>

namespace attnc {

/// The most host memory one allocation of attnc's may take: the
/// ATTNC_MAX_HOST_BYTES environment variable when set (a byte count), else
/// the machine's physical memory.
uint64_t hostMemoryLimit();

/// An error naming `what` when `bytes` exceed hostMemoryLimit().
Status checkHostAllocation(const std::string &what, uint64_t bytes);

} // namespace attnc

#endif // ATTNC_RUNTIME_CORE_HOSTMEMORY_H
