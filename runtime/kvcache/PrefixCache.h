//===- PrefixCache.h - Full pages looked up by their token prefix ---------===//
//
// Maps a full page's chained hash to the physical pages registered under it.
// A hash only selects candidates: a hit also needs the page's own token ids
// and the identity of the prefix before it to be equal.
//
// That prefix identity is a *content id*: a number given to a page when it is
// registered, standing for the exact token sequence from position 0 to the
// end of that page. A page is registered as (parent content id, its tokens),
// so by induction equal content ids mean equal token prefixes, whatever the
// hash function does. Content ids are never reused, so a page that is evicted
// and refilled cannot be mistaken for its former content.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_PREFIXCACHE_H
#define ATTNC_RUNTIME_KVCACHE_PREFIXCACHE_H

#include "runtime/kvcache/PrefixHash.h"
#include "runtime/kvcache/Span.h"
#include "runtime/kvcache/Status.h"
#include "runtime/kvcache/Types.h"

#include <unordered_map>
#include <vector>

namespace attnc::kvcache {

/// Content id of the empty prefix (the parent of a sequence's first page).
inline constexpr uint64_t kEmptyPrefixId = 0;

/// Registered full pages, keyed by chained hash and confirmed by token ids.
class PrefixCache {
public:
  PrefixCache(int32_t numPages, int32_t pageSize, PrefixHashFn hash);

  /// The chained hash of a page holding `tokens` after a page hashed
  /// `parentHash`.
  uint64_t hash(uint64_t parentHash, Span<int32_t> tokens) const {
    return hashFn(parentHash, tokens);
  }

  /// A registered page holding exactly `tokens` right after the prefix
  /// `parentId`, or -1. `hash` must be the chained hash of that prefix.
  PageId find(uint64_t hash, uint64_t parentId, Span<int32_t> tokens) const;

  /// Registers a full `page` holding `tokens` after prefix `parentId`, and
  /// returns its new content id. Precondition: `page` is not registered.
  uint64_t insert(PageId page, uint64_t hash, uint64_t parentId,
                  Span<int32_t> tokens);
  /// Forgets `page` (it is being evicted). Precondition: it is registered.
  void erase(PageId page);

  bool contains(PageId page) const { return entries[page].registered; }
  uint64_t contentId(PageId page) const { return entries[page].id; }
  /// The page's registered token ids (pageSize of them).
  Span<int32_t> tokens(PageId page) const {
    return Span<int32_t>(pageTokens.data() + offsetOf(page), pageSize);
  }
  int32_t size() const { return static_cast<int32_t>(table.size()); }

  /// Checks that the table and the per-page entries agree: each registered
  /// page appears exactly once, under its own hash.
  Status verify() const;

private:
  struct Entry {
    bool registered = false;
    uint64_t hash = 0;
    uint64_t parentId = kEmptyPrefixId;
    uint64_t id = kEmptyPrefixId;
  };

  size_t offsetOf(PageId page) const {
    return static_cast<size_t>(page) * pageSize;
  }

  int32_t pageSize;
  PrefixHashFn hashFn;
  std::vector<Entry> entries;
  /// Token ids of registered pages, pageSize per page, indexed by page.
  std::vector<int32_t> pageTokens;
  std::unordered_multimap<uint64_t, PageId> table;
  uint64_t nextId = kEmptyPrefixId + 1;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_PREFIXCACHE_H
