//===- MemoryCheck.cpp - Checked mode's bound checks ----------------------===//
//
// Global accesses must fall inside a buffer registered for the launch;
// shared ones inside the block's dynamic shared memory. A violation fails
// the launch with the access, its address, and where that lies relative to
// the nearest buffer. Shared accesses within bounds then go to the race
// detector (RaceCheck.h).
//
//===----------------------------------------------------------------------===//

#include "BlockRunner.h"
#include "Counters.h"

#include <algorithm>
#include <cstdio>

namespace attnc::sim {

namespace detail {

bool checkedMode = false;

bool inSharedMemory(const void *p, size_t bytes) {
  BlockRunner &r = runner();
  auto a = reinterpret_cast<uintptr_t>(p);
  auto base = reinterpret_cast<uintptr_t>(r.smem);
  return a >= base && a + bytes <= base + r.smemBytes && a + bytes >= a;
}

std::string describeSharedAddress(const void *p) {
  BlockRunner &r = runner();
  auto offset = static_cast<long long>(reinterpret_cast<uintptr_t>(p) -
                                       reinterpret_cast<uintptr_t>(r.smem));
  std::string size = "the block has " + std::to_string(r.smemBytes) +
                     " bytes of dynamic shared memory";
  if (offset > -(1ll << 20) &&
      offset < (1ll << 20) + static_cast<long long>(r.smemBytes))
    return "shared offset " + std::to_string(offset) + " (" + size + ")";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%p", p);
  return std::string(buf) + ", not in the block's shared memory (" + size +
         "; static __shared__ arrays are not checked memory)";
}

void checkBounds(const void *p, size_t bytes, size_t align, Access kind) {
  const char *what = kind == Access::GlobalRead    ? "global read"
                     : kind == Access::GlobalWrite ? "global write"
                     : kind == Access::SharedRead  ? "shared read"
                                                   : "shared write";
  if (align > 1 && reinterpret_cast<uintptr_t>(p) % align) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%p", p);
    runner().fail(LaunchError::Misaligned,
                  std::string("misaligned ") + what + " of " +
                      std::to_string(bytes) + " bytes at " + buf + " (needs " +
                      std::to_string(align) + "-byte alignment)");
  }
  if (kind == Access::SharedRead || kind == Access::SharedWrite) {
    if (inSharedMemory(p, bytes))
      return;
    runner().fail(LaunchError::MemoryViolation,
                  std::string("out-of-bounds ") + what + " of " +
                      std::to_string(bytes) + " bytes at " +
                      describeSharedAddress(p));
  }
  LaunchState &l = runner().launchState();
  auto a = reinterpret_cast<uintptr_t>(p);
  if (const BufferInfo *buffer = findBuffer(l.buffers, a, bytes)) {
    if (kind == Access::GlobalRead &&
        (buffer->name == "k" || buffer->name == "v" ||
         buffer->name == "k_cache" || buffer->name == "v_cache"))
      countKVBytesRead(static_cast<int64_t>(bytes));
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%p", p);
  runner().fail(LaunchError::MemoryViolation,
                std::string("out-of-bounds ") + what + " of " +
                    std::to_string(bytes) + " bytes at " + buf + " = " +
                    describeGlobalAddress(l.buffers, a));
}

void checkAccessSlow(const void *p, size_t bytes, size_t align, Access kind) {
  checkBounds(p, bytes, align, kind);
  if (kind != Access::SharedRead && kind != Access::SharedWrite)
    return;
  BlockRunner &r = runner();
  if (!r.raceCheck)
    return;
  // Only loadShared / storeShared come here; cp.async and ldmatrix call the
  // detector themselves.
  if (kind == Access::SharedRead)
    r.race.read(r.smemOffset(p), bytes, r.current().linear, SmemOp::LoadShared);
  else
    r.race.write(r.smemOffset(p), bytes, r.current().linear,
                 SmemOp::StoreShared);
}

} // namespace detail

const BufferInfo *findBuffer(const std::vector<BufferInfo> &buffers,
                             uintptr_t p, size_t bytes) {
  auto contains = [&](const BufferInfo &b) {
    return p >= b.begin && p - b.begin <= b.bytes &&
           bytes <= b.bytes - (p - b.begin);
  };
  // The buffer starting at or before p is the usual answer; buffers may
  // overlap (views of one allocation), so fall back to a scan.
  auto it = std::upper_bound(
      buffers.begin(), buffers.end(), p,
      [](uintptr_t v, const BufferInfo &b) { return v < b.begin; });
  if (it != buffers.begin() && contains(*std::prev(it)))
    return &*std::prev(it);
  for (const BufferInfo &b : buffers)
    if (contains(b))
      return &b;
  return nullptr;
}

std::string describeGlobalAddress(const std::vector<BufferInfo> &buffers,
                                  uintptr_t p) {
  if (buffers.empty())
    return "no global buffer is registered (attnc::sim::registerBuffer)";
  const BufferInfo *nearest = nullptr;
  uintptr_t bestDistance = ~uintptr_t(0);
  for (const BufferInfo &b : buffers) {
    uintptr_t d = p < b.begin              ? b.begin - p
                  : p >= b.begin + b.bytes ? p - (b.begin + b.bytes) + 1
                                           : 0;
    if (d < bestDistance) {
      bestDistance = d;
      nearest = &b;
    }
  }
  long long offset = static_cast<long long>(p - nearest->begin);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "'%s' %s %lld (buffer '%s' is %zu bytes)",
                nearest->name.c_str(), offset < 0 ? "-" : "+",
                offset < 0 ? -offset : offset, nearest->name.c_str(),
                nearest->bytes);
  return buf;
}

} // namespace attnc::sim
