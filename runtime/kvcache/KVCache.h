//===- KVCache.h - The paged KV cache: block manager + page storage -------===//
//
// What a runtime holds per model: the page pool on its backend and the block
// manager deciding which page each token goes to. Typical decode step:
//
//   auto added = cache.addSequence(prompt);       // or append() / fork()
//   write K/V rows of the new tokens at added->slots (prefill kernel)
//   auto tables = cache.exportBatchTables(batch, /*padValue=*/0);
//   launch attention over keyCache(l), valueCache(l), tables
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_KVCACHE_H
#define ATTNC_RUNTIME_KVCACHE_KVCACHE_H

#include "runtime/kvcache/BatchTables.h"
#include "runtime/kvcache/BlockManager.h"
#include "runtime/kvcache/CacheShape.h"
#include "runtime/kvcache/CacheStats.h"
#include "runtime/kvcache/PageStorage.h"
#include "runtime/kvcache/PrefixHash.h"

#include <memory>

namespace attnc::kvcache {

struct KVCacheConfig {
  CacheShape shape;
  bool enablePrefixCache = true;
  /// Null means defaultPrefixHash.
  PrefixHashFn prefixHash = defaultPrefixHash;
};

/// A block manager over a page storage. Operations have the semantics of
/// BlockManager's; copy-on-write is executed by the storage.
class KVCache {
public:
  /// Allocates the pool in `storage` and sets up an empty cache.
  static Expected<KVCache> create(const KVCacheConfig &config,
                                  std::unique_ptr<PageStorage> storage);

  Expected<AddedSequence> addSequence(Span<int32_t> prompt) {
    return blocks.addSequence(prompt);
  }
  /// Appends; a copy-on-write is done by the storage before this returns
  /// (or queued on its stream, ahead of any later kernel).
  Expected<Appended> append(SeqId id, Span<int32_t> tokens) {
    return blocks.append(id, tokens, store.get());
  }
  Expected<SeqId> fork(SeqId id) { return blocks.fork(id); }
  Status freeSequence(SeqId id) { return blocks.freeSequence(id); }

  Expected<BatchTables>
  exportBatchTables(Span<SeqId> seqs, int32_t padValue,
                    int32_t maxPages = kFitMaxPages) const {
    return kvcache::exportBatchTables(blocks, seqs, padValue, maxPages);
  }

  /// Block-manager statistics plus byte sizes.
  CacheStats stats() const;

  const CacheShape &shape() const { return store->shape(); }
  PageStorage &storage() const { return *store; }
  const BlockManager &blockManager() const { return blocks; }

private:
  KVCache(BlockManager blocks, std::unique_ptr<PageStorage> storage)
      : blocks(std::move(blocks)), store(std::move(storage)) {}

  BlockManager blocks;
  std::unique_ptr<PageStorage> store;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_KVCACHE_H
