//===- Fixtures.h - Shared fixtures of the KV-cache tests -----------------===//
#ifndef ATTNC_TESTS_UNIT_KVCACHE_FIXTURES_H
#define ATTNC_TESTS_UNIT_KVCACHE_FIXTURES_H

#include "runtime/kvcache/BlockManager.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace attnc::kvcache::test {

/// Every page collides with every other: hits must be decided by tokens.
inline uint64_t constantHash(uint64_t, Span<int32_t>) { return 42; }

/// Ignores the parent: equal pages at different prefixes collide.
inline uint64_t parentBlindHash(uint64_t, Span<int32_t> tokens) {
  uint64_t h = 7;
  for (int32_t token : tokens)
    h = h * 31 + static_cast<uint32_t>(token);
  return h;
}

inline BlockManager makeManager(int32_t numPages, int32_t pageSize,
                                PrefixHashFn hash = defaultPrefixHash,
                                bool prefixCache = true) {
  BlockManagerConfig config;
  config.numPages = numPages;
  config.pageSize = pageSize;
  config.prefixHash = hash;
  config.enablePrefixCache = prefixCache;
  Expected<BlockManager> manager = BlockManager::create(config);
  REQUIRE(manager.ok());
  return manager.takeValue();
}

inline std::vector<int32_t> iota(int32_t count, int32_t first = 0) {
  std::vector<int32_t> tokens(count);
  for (int32_t i = 0; i < count; ++i)
    tokens[i] = first + i;
  return tokens;
}

inline std::vector<int32_t> concat(std::vector<int32_t> a,
                                   const std::vector<int32_t> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline std::vector<PageId> tableOf(const BlockManager &manager, SeqId id) {
  Expected<SequenceView> seq = manager.sequence(id);
  REQUIRE(seq.ok());
  return std::vector<PageId>(seq->blockTable.begin(), seq->blockTable.end());
}

inline std::vector<int32_t> tokensOf(const BlockManager &manager, SeqId id) {
  Expected<SequenceView> seq = manager.sequence(id);
  REQUIRE(seq.ok());
  return std::vector<int32_t>(seq->tokens.begin(), seq->tokens.end());
}

} // namespace attnc::kvcache::test

/// Fails the test with the violated invariant's description.
#define KV_REQUIRE_OK(expr)                                                    \
  do {                                                                         \
    ::attnc::kvcache::Status kvStatus_ = (expr);                               \
    if (!kvStatus_.ok())                                                       \
      FAIL(#expr << ": " << kvStatus_.toString());                             \
  } while (false)

#endif // ATTNC_TESTS_UNIT_KVCACHE_FIXTURES_H
