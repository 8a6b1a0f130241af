//===- BlockManager.h - Sequences, block tables, sharing, prefix reuse ----===//
//
// The bookkeeping half of the paged KV cache; it never touches K/V memory.
// Each sequence has a block table (logical page i -> physical page). Pages
// are shared by reference counting:
//
//  * fork: the child maps every page of the parent (parallel sampling, beam
//    search). Full pages are immutable, so sharing them is free forever.
//  * copy-on-write: appending into a last page that is partly filled and
//    shared first moves the appender onto a private copy of it; the copy is
//    delegated to a PageCopier (the storage backend).
//  * prefix reuse: when a page fills up it is registered in the PrefixCache;
//    a later sequence whose prompt starts with the same tokens maps those
//    pages instead of recomputing them. Unreferenced registered pages stay
//    cached until an allocation finds no free page and evicts them (LRU).
//
// Every operation either succeeds or returns an error and changes nothing.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_BLOCKMANAGER_H
#define ATTNC_RUNTIME_KVCACHE_BLOCKMANAGER_H

#include "runtime/kvcache/CacheStats.h"
#include "runtime/kvcache/PageCopier.h"
#include "runtime/kvcache/PagePool.h"
#include "runtime/kvcache/PrefixCache.h"
#include "runtime/kvcache/Span.h"
#include "runtime/kvcache/Status.h"
#include "runtime/kvcache/Types.h"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace attnc::kvcache {

struct BlockManagerConfig {
  int32_t numPages = 0;
  /// Tokens per page (P in the tensor contract).
  int32_t pageSize = 16;
  /// Register full pages for reuse by later prompts with the same prefix.
  bool enablePrefixCache = true;
  /// Chained page hash; tests inject a colliding one. Null means default.
  PrefixHashFn prefixHash = defaultPrefixHash;
};

/// The result of addSequence().
struct AddedSequence {
  SeqId id = 0;
  /// Leading prompt tokens whose K/V were found in the prefix cache: the
  /// caller computes and writes K/V only for prompt[reusedTokens:].
  int32_t reusedTokens = 0;
  /// Where to write K/V of prompt[reusedTokens + i].
  std::vector<Slot> slots;
};

/// The result of append().
struct Appended {
  /// Where to write K/V of tokens[i].
  std::vector<Slot> slots;
  /// The copy-on-write this append did, if any. Already executed when a
  /// PageCopier was passed; otherwise the caller must copy before writing.
  std::optional<PageCopy> copy;
};

/// A read-only view of one sequence, valid until the next mutation.
struct SequenceView {
  /// The sequence's logical token ids (its length is the KV length).
  Span<int32_t> tokens;
  /// Physical page of each logical page: ceil(length / pageSize) entries.
  Span<PageId> blockTable;
  int32_t length() const { return static_cast<int32_t>(tokens.size()); }
};

/// Block tables, reference counts, copy-on-write and prefix reuse.
class BlockManager {
public:
  /// Validates the configuration (positive sizes, slot indices within int32).
  static Expected<BlockManager> create(const BlockManagerConfig &config);

  /// Starts a sequence holding `prompt`. Leading full pages found in the
  /// prefix cache are mapped, not allocated; the last prompt token is never
  /// reused, since the caller needs its query to start decoding.
  /// Fails with PoolExhausted when the pages do not fit.
  Expected<AddedSequence> addSequence(Span<int32_t> prompt);

  /// Appends `tokens` to sequence `id`, allocating pages at page boundaries
  /// and copying a shared, partly filled last page first (with `copier`, or
  /// by the caller if it is null; see Appended::copy).
  Expected<Appended> append(SeqId id, Span<int32_t> tokens,
                            PageCopier *copier = nullptr);

  /// A new sequence sharing every page of `id`. Never allocates a page.
  Expected<SeqId> fork(SeqId id);

  /// Drops the sequence; its pages are freed, or kept cached for prefix
  /// reuse, when their last reference goes.
  Status freeSequence(SeqId id);

  /// The sequence's tokens and block table, or UnknownSequence.
  Expected<SequenceView> sequence(SeqId id) const;
  bool contains(SeqId id) const { return sequences.count(id) != 0; }
  /// Live sequence ids, ascending.
  std::vector<SeqId> sequenceIds() const;
  int32_t numSequences() const {
    return static_cast<int32_t>(sequences.size());
  }

  int32_t pageSize() const { return config.pageSize; }
  int32_t numPages() const { return config.numPages; }
  const PagePool &pool() const { return pages; }
  const PrefixCache &prefixCache() const { return prefixes; }

  /// Page counts, waste and counters (bytesPerPage left 0).
  CacheStats stats() const;

  /// Checks every invariant against the sequences: the pool partition,
  /// reference count == number of block-table entries naming the page, fills
  /// matching lengths, prefix-cache registrations matching tokens. Linear in
  /// pages plus tokens; meant for tests and debugging.
  Status verify() const;

private:
  struct Sequence {
    std::vector<int32_t> tokens;
    std::vector<PageId> blockTable;
    /// Chained hash and content id of the last full page: the parent of
    /// the next page to be registered.
    uint64_t chainHash = kRootPrefixHash;
    uint64_t chainId = kEmptyPrefixId;
  };

  explicit BlockManager(const BlockManagerConfig &config);

  Sequence *find(SeqId id);
  const Sequence *find(SeqId id) const;
  static Status unknownSequence(SeqId id);
  PageId allocatePage();
  /// Appends tokens to `seq`, allocating pages as needed; the caller has
  /// checked that enough pages are available.
  void writeTokens(Sequence &seq, Span<int32_t> tokens,
                   std::vector<Slot> &slots);
  /// Registers the just-filled last page of `seq` in the prefix cache, or
  /// adopts the content id of an identical registered page.
  void registerFullPage(Sequence &seq);
  Status exhausted(const std::string &what, int64_t needed,
                   int64_t available) const;

  BlockManagerConfig config;
  PagePool pages;
  PrefixCache prefixes;
  std::unordered_map<SeqId, Sequence> sequences;
  SeqId nextSeqId = 1;
  int64_t prefixHitTokens = 0;
  int64_t copyOnWrites = 0;
  int64_t evictions = 0;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_BLOCKMANAGER_H
