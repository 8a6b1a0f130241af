//===- PrefixHash.cpp - Chained hash of full pages ------------------------===//

#include "runtime/kvcache/PrefixHash.h"

namespace attnc::kvcache {

namespace {
/// splitmix64's finalizer: every input bit affects every output bit.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}
} // namespace

uint64_t defaultPrefixHash(uint64_t parentHash, Span<int32_t> tokens) {
  uint64_t h = mix(parentHash ^ (0x632be59bd9b4e019ull + tokens.size()));
  for (int32_t token : tokens)
    h = mix(h ^ static_cast<uint32_t>(token));
  return h;
}

} // namespace attnc::kvcache
