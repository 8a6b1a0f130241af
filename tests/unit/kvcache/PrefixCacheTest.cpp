//===- PrefixCacheTest.cpp - Prefix hits need equal tokens ----------------===//
//
// Hashes only pick candidates. These tests inject hash functions that collide
// on purpose and check that a hit still needs the same token ids all the way
// from the start of the prompt.
//
//===----------------------------------------------------------------------===//

#include "Fixtures.h"

#include "runtime/kvcache/PrefixCache.h"

using namespace attnc::kvcache;
using namespace attnc::kvcache::test;

TEST_CASE("PrefixCache finds a page only with equal tokens and parent",
          "[kvcache][prefix]") {
  PrefixCache cache(4, 2, constantHash);
  uint64_t h = cache.hash(kRootPrefixHash, {1, 2});
  CHECK(h == 42);
  uint64_t id = cache.insert(3, h, kEmptyPrefixId, {1, 2});
  CHECK(cache.contains(3));
  CHECK(cache.find(42, kEmptyPrefixId, {1, 2}) == 3);
  CHECK(cache.find(42, kEmptyPrefixId, {1, 3}) == -1); // same hash
  CHECK(cache.find(42, id, {1, 2}) == -1);             // other parent
  CHECK(cache.find(7, kEmptyPrefixId, {1, 2}) == -1);  // other bucket

  uint64_t child = cache.insert(1, 42, id, {1, 2});
  CHECK(child > id);
  CHECK(cache.find(42, id, {1, 2}) == 1);
  CHECK(cache.size() == 2);
  KV_REQUIRE_OK(cache.verify());
  cache.erase(3);
  CHECK_FALSE(cache.contains(3));
  CHECK(cache.find(42, kEmptyPrefixId, {1, 2}) == -1);
  CHECK(cache.find(42, id, {1, 2}) == 1);
  KV_REQUIRE_OK(cache.verify());
}

TEST_CASE("a constant hash never turns different tokens into a hit",
          "[kvcache][prefix]") {
  BlockManager m = makeManager(32, 4, constantHash);
  SeqId a = m.addSequence(iota(8, 0))->id;
  SeqId b = m.addSequence(iota(8, 100))->id;
  CHECK(m.stats().registeredPages == 4); // all under hash 42

  Expected<AddedSequence> c = m.addSequence(concat(iota(8, 100), {1}));
  REQUIRE(c.ok());
  CHECK(c->reusedTokens == 8);
  std::vector<PageId> cTable = tableOf(m, c->id);
  CHECK(std::vector<PageId>(cTable.begin(), cTable.begin() + 2) ==
        tableOf(m, b));

  // Same hash, last token of the first page differs: no hit at all.
  Expected<AddedSequence> d = m.addSequence({0, 1, 2, 99, 4, 5, 6, 7, 8});
  REQUIRE(d.ok());
  CHECK(d->reusedTokens == 0);
  KV_REQUIRE_OK(m.verify());
  (void)a;
}

TEST_CASE("equal pages after different prefixes are not confused",
          "[kvcache][prefix]") {
  auto hash = GENERATE(as<PrefixHashFn>{}, constantHash, parentBlindHash,
                       defaultPrefixHash);
  BlockManager m = makeManager(32, 4, hash);
  std::vector<int32_t> x = {1, 1, 1, 1}, x2 = {2, 2, 2, 2}, y = {5, 6, 7, 8};
  SeqId a = m.addSequence(concat(x, y))->id;
  SeqId b = m.addSequence(concat(x2, y))->id;
  // Both second pages hold y; only b's follows x2.
  Expected<AddedSequence> c = m.addSequence(concat(concat(x2, y), {0}));
  REQUIRE(c.ok());
  CHECK(c->reusedTokens == 8);
  CHECK(tableOf(m, c->id)[0] == tableOf(m, b)[0]);
  CHECK(tableOf(m, c->id)[1] == tableOf(m, b)[1]);
  CHECK(tableOf(m, c->id)[1] != tableOf(m, a)[1]);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("an evicted and refilled page does not revive its old children",
          "[kvcache][prefix]") {
  auto hash = GENERATE(as<PrefixHashFn>{}, constantHash, parentBlindHash,
                       defaultPrefixHash);
  BlockManager m = makeManager(5, 4, hash);
  std::vector<int32_t> x = {1, 1, 1, 1}, y = {5, 6, 7, 8}, z = {3, 3, 3, 3};
  SeqId s1 = m.addSequence(x)->id; // page 0, registered
  SeqId s3 = m.addSequence(x)->id; // page 1: a twin, chains through page 0
  REQUIRE(m.append(s3, y).ok());   // page 2: y registered after x
  SeqId filler = m.addSequence(iota(8, 50))->id; // pages 3, 4
  KV_REQUIRE_OK(m.freeSequence(s1));             // page 0 cached
  Expected<AddedSequence> s4 = m.addSequence(z); // evicts page 0, holds z
  REQUIRE(s4.ok());
  REQUIRE(tableOf(m, s4->id) == std::vector<PageId>{0});
  KV_REQUIRE_OK(m.freeSequence(filler));

  // Page 0 now holds z and page 2 (y) was registered after page 0's old
  // content x: z + y must not reuse page 2.
  Expected<AddedSequence> c = m.addSequence(concat(concat(z, y), {0}));
  REQUIRE(c.ok());
  CHECK(c->reusedTokens == 4);
  CHECK(tableOf(m, c->id)[0] == 0);
  CHECK(tableOf(m, c->id)[1] != 2);
  KV_REQUIRE_OK(m.verify());
}
