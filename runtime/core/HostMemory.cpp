//===- HostMemory.cpp - Refuse host allocations the machine cannot hold ---===//
#include "runtime/core/HostMemory.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

using namespace attnc;

uint64_t attnc::hostMemoryLimit() {
  if (const char *env = std::getenv("ATTNC_MAX_HOST_BYTES"); env && *env) {
    char *end = nullptr;
    unsigned long long value = std::strtoull(env, &end, 10);
    if (end && *end == '\0')
      return value;
  }
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return UINT64_MAX;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize);
}

static std::string gib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB",
                static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

Status attnc::checkHostAllocation(const std::string &what, uint64_t bytes) {
  uint64_t limit = hostMemoryLimit();
  if (bytes <= limit)
    return Status::success();
  return Status::error(ErrorCode::InvalidInput,
                       what + " needs " + gib(bytes) +
                           " of host memory, more "
                           "than the " +
                           gib(limit) +
                           " allowed (this machine's "
                           "memory, or ATTNC_MAX_HOST_BYTES)");
}
