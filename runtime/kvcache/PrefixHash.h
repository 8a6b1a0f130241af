//===- PrefixHash.h - Chained hash of full pages --------------------------===//
//
// A full page is named by a hash chained over the token ids of every page up
// to and including it: h(i) = hash(h(i-1), tokens of page i), h(-1) = seed.
// Equal hashes only select candidates; the prefix cache confirms a hit by
// comparing token ids, so a weak or even constant hash costs speed, never
// correctness (tests inject a colliding one to prove it).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_PREFIXHASH_H
#define ATTNC_RUNTIME_KVCACHE_PREFIXHASH_H

#include "runtime/kvcache/Span.h"

#include <cstdint>

namespace attnc::kvcache {

/// Hash of a page given the hash of the page before it and its token ids.
using PrefixHashFn = uint64_t (*)(uint64_t parentHash, Span<int32_t> tokens);

/// The parent hash of a sequence's first page.
inline constexpr uint64_t kRootPrefixHash = 0x9e3779b97f4a7c15ull;

/// The default: a 64-bit multiply-xorshift mix over the parent hash, the
/// token count and each token id. Not cryptographic, and need not be.
uint64_t defaultPrefixHash(uint64_t parentHash, Span<int32_t> tokens);

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_PREFIXHASH_H
