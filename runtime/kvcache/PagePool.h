//===- PagePool.h - Reference counts, free list and LRU of pages ----------===//
//
// Bookkeeping only: which pages are free, which are referenced (and how many
// times), and which are unreferenced but still cached for prefix reuse. No
// memory is touched here, so the lifecycle is testable on its own.
//
//   Free ──allocate──► Used ──release to 0──► Free    (page not cacheable)
//                        ▲  └──release to 0──► Cached  (page in prefix cache)
//                        └──────retain─────────┘  │
//   Free ◄──allocate evicts the least recently cached page when none is free
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_PAGEPOOL_H
#define ATTNC_RUNTIME_KVCACHE_PAGEPOOL_H

#include "runtime/kvcache/Status.h"
#include "runtime/kvcache/Types.h"

#include <vector>

namespace attnc::kvcache {

/// Where a page is in its lifecycle; every page is in exactly one state.
enum class PageState {
  /// On the free list; holds nothing anyone may read.
  Free,
  /// Referenced by at least one block-table entry.
  Used,
  /// Unreferenced, registered in the prefix cache, evictable (LRU).
  Cached,
};

/// Reference counts, the free list and the LRU list of cached pages.
class PagePool {
public:
  explicit PagePool(int32_t numPages);

  int32_t numPages() const { return static_cast<int32_t>(pages.size()); }
  int32_t numFree() const { return static_cast<int32_t>(freeList.size()); }
  int32_t numCached() const { return lruSize; }
  int32_t numUsed() const { return numPages() - numFree() - numCached(); }
  /// Pages an allocation can get: free ones, then evicted cached ones.
  int32_t numAvailable() const { return numFree() + numCached(); }

  PageState state(PageId page) const;
  int32_t refCount(PageId page) const { return pages[page].refCount; }
  /// How many leading slots of the page hold a token.
  int32_t fill(PageId page) const { return pages[page].fill; }
  void setFill(PageId page, int32_t fill) { pages[page].fill = fill; }
  /// Whether the page is registered in the prefix cache, so that it is kept
  /// (Cached) rather than freed when its last reference goes.
  bool isCacheable(PageId page) const { return pages[page].cacheable; }
  void setCacheable(PageId page, bool cacheable);

  /// The result of allocate().
  struct Allocation {
    PageId page = -1;
    /// The page was Cached and has been evicted: the caller must drop it
    /// from the prefix cache.
    bool evicted = false;
  };
  /// Takes a free page, or else evicts the least recently cached one. The
  /// page comes back Used with one reference and fill 0.
  /// Precondition: numAvailable() > 0.
  Allocation allocate();
  /// Adds a reference. A Cached page becomes Used again (a prefix hit).
  void retain(PageId page);
  /// Drops a reference. At zero the page becomes Cached (most recently used)
  /// if it is cacheable, Free otherwise.
  void release(PageId page);

  /// Checks the pool's own invariants: the state partition, the free list
  /// (no duplicates), the LRU links and the counters.
  Status verify() const;

private:
  struct PageInfo {
    int32_t refCount = 0;
    int32_t fill = 0;
    bool cacheable = false;
    bool onFreeList = false;
    bool onLru = false;
    PageId lruPrev = -1;
    PageId lruNext = -1;
  };

  void lruPushBack(PageId page);
  void lruRemove(PageId page);

  std::vector<PageInfo> pages;
  /// A stack: the most recently freed page is reused first (warm in caches).
  std::vector<PageId> freeList;
  /// Least recently cached at the head; eviction takes the head.
  PageId lruHead = -1;
  PageId lruTail = -1;
  int32_t lruSize = 0;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_PAGEPOOL_H
