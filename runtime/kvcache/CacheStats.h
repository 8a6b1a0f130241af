//===- CacheStats.h - Memory accounting of the paged KV cache -------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_CACHESTATS_H
#define ATTNC_RUNTIME_KVCACHE_CACHESTATS_H

#include <cstdint>

namespace attnc::kvcache {

/// A snapshot of the pool. Page counts partition the pool:
/// totalPages == freePages + usedPages + cachedPages.
struct CacheStats {
  int32_t pageSize = 0;
  int32_t totalPages = 0;
  /// On the free list.
  int32_t freePages = 0;
  /// Referenced by at least one sequence.
  int32_t usedPages = 0;
  /// Referenced by more than one block-table entry (a subset of used).
  int32_t sharedPages = 0;
  /// Unreferenced but kept for prefix reuse; evicted LRU when needed.
  int32_t cachedPages = 0;
  /// Pages registered in the prefix cache, used or not.
  int32_t registeredPages = 0;

  int32_t sequences = 0;
  /// Sum of the sequences' lengths.
  int64_t tokens = 0;
  /// Pages the live sequences would need if no page were shared:
  /// the sum of ceil(length / pageSize).
  int64_t unsharedPages = 0;
  /// Slots of used pages that hold no token (only last pages are partial).
  int64_t wastedSlots = 0;

  /// Cumulative counters since construction.
  int64_t prefixHitTokens = 0;
  int64_t copyOnWrites = 0;
  int64_t evictions = 0;

  /// K and V bytes of one page over all layers; 0 for a block manager with
  /// no storage behind it.
  int64_t bytesPerPage = 0;

  int64_t usedBytes() const { return usedPages * bytesPerPage; }
  int64_t unsharedBytes() const { return unsharedPages * bytesPerPage; }
  int64_t wastedBytes() const {
    return pageSize ? wastedSlots * (bytesPerPage / pageSize) : 0;
  }
  /// Fraction of used slots holding no token.
  double wasteFraction() const {
    int64_t slots = static_cast<int64_t>(usedPages) * pageSize;
    return slots ? static_cast<double>(wastedSlots) / slots : 0.0;
  }
  /// Memory saved by sharing: 1 - used / unshared.
  double sharingSaving() const {
    return unsharedPages ? 1.0 - static_cast<double>(usedPages) / unsharedPages
                         : 0.0;
  }
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_CACHESTATS_H
