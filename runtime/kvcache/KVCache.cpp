//===- KVCache.cpp - The paged KV cache: block manager + page storage -----===//

#include "runtime/kvcache/KVCache.h"

namespace attnc::kvcache {

Expected<KVCache> KVCache::create(const KVCacheConfig &config,
                                  std::unique_ptr<PageStorage> storage) {
  if (!storage)
    return Status::error(ErrorCode::InvalidArgument, "no page storage given");
  if (Status status = config.shape.validate(); !status.ok())
    return status;
  BlockManagerConfig blockConfig;
  blockConfig.numPages = config.shape.numPages;
  blockConfig.pageSize = config.shape.pageSize;
  blockConfig.enablePrefixCache = config.enablePrefixCache;
  blockConfig.prefixHash = config.prefixHash;
  Expected<BlockManager> blocks = BlockManager::create(blockConfig);
  if (!blocks)
    return blocks.takeStatus();
  if (Status status = storage->allocate(config.shape); !status.ok())
    return status;
  return KVCache(blocks.takeValue(), std::move(storage));
}

CacheStats KVCache::stats() const {
  CacheStats stats = blocks.stats();
  stats.bytesPerPage = store->shape().bytesPerPage();
  return stats;
}

} // namespace attnc::kvcache
