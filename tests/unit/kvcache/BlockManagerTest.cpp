//===- BlockManagerTest.cpp - Block tables, sharing, errors ---------------===//

#include "Fixtures.h"

#include <utility>

using namespace attnc::kvcache;
using namespace attnc::kvcache::test;

namespace {
/// Records the copies it is asked for; fails on demand.
struct RecordingCopier : PageCopier {
  std::vector<std::pair<PageId, PageId>> copies;
  bool fail = false;
  Status copyPage(PageId src, PageId dst) override {
    if (fail)
      return Status::error(ErrorCode::BackendError, "injected copy failure");
    copies.emplace_back(src, dst);
    return Status::success();
  }
};

std::vector<Slot> slots(std::initializer_list<std::pair<PageId, int32_t>> l) {
  std::vector<Slot> result;
  for (auto [page, offset] : l)
    result.push_back(Slot{page, offset});
  return result;
}
} // namespace

TEST_CASE("create rejects bad configurations", "[kvcache][blocks]") {
  BlockManagerConfig config;
  config.numPages = 0;
  CHECK(BlockManager::create(config).status().code() ==
        ErrorCode::InvalidArgument);
  config.numPages = 4;
  config.pageSize = 0;
  CHECK(BlockManager::create(config).status().code() ==
        ErrorCode::InvalidArgument);
  config.numPages = 1 << 20;
  config.pageSize = 1 << 12; // 2^32 slots: flat slot ids would overflow
  CHECK(BlockManager::create(config).status().code() ==
        ErrorCode::InvalidArgument);
}

TEST_CASE("add and append hand out slots page by page", "[kvcache][blocks]") {
  BlockManager m = makeManager(16, 4);
  Expected<AddedSequence> a = m.addSequence(iota(6));
  REQUIRE(a.ok());
  CHECK(a->reusedTokens == 0);
  CHECK(a->slots == slots({{0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {1, 1}}));
  CHECK(tableOf(m, a->id) == std::vector<PageId>{0, 1});
  CHECK(a->slots[5].flat(4) == 5);

  Expected<Appended> more = m.append(a->id, {100, 101, 102});
  REQUIRE(more.ok());
  CHECK_FALSE(more->copy.has_value());
  CHECK(more->slots == slots({{1, 2}, {1, 3}, {2, 0}}));
  CHECK(tokensOf(m, a->id) == concat(iota(6), {100, 101, 102}));

  CacheStats stats = m.stats();
  CHECK(stats.usedPages == 3);
  CHECK(stats.freePages == 13);
  CHECK(stats.tokens == 9);
  CHECK(stats.wastedSlots == 3); // only the last page is partly empty
  CHECK(stats.unsharedPages == 3);
  CHECK(m.append(a->id, {})->slots.empty());
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("an empty prompt maps no page", "[kvcache][blocks]") {
  BlockManager m = makeManager(4, 4);
  Expected<AddedSequence> a = m.addSequence({});
  REQUIRE(a.ok());
  CHECK(tableOf(m, a->id).empty());
  CHECK(m.stats().usedPages == 0);
  REQUIRE(m.append(a->id, {9}).ok());
  CHECK(tableOf(m, a->id).size() == 1);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("fork shares every page and copies on write", "[kvcache][blocks]") {
  BlockManager m = makeManager(16, 4);
  RecordingCopier copier;
  SeqId parent = m.addSequence(iota(6))->id;
  Expected<SeqId> child = m.fork(parent);
  REQUIRE(child.ok());
  CHECK(tableOf(m, *child) == tableOf(m, parent));
  CHECK(m.pool().refCount(0) == 2);
  CHECK(m.pool().refCount(1) == 2);
  CHECK(m.stats().usedPages == 2);
  CHECK(m.stats().sharedPages == 2);
  CHECK(m.stats().unsharedPages == 4);
  KV_REQUIRE_OK(m.verify());

  // The shared last page is partly filled: the writer moves to a copy.
  Expected<Appended> p = m.append(parent, {50}, &copier);
  REQUIRE(p.ok());
  REQUIRE(p->copy.has_value());
  CHECK(p->copy->src == 1);
  CHECK(p->copy->dst == 2);
  CHECK(copier.copies == std::vector<std::pair<PageId, PageId>>{{1, 2}});
  CHECK(p->slots == slots({{2, 2}}));
  CHECK(tableOf(m, parent) == std::vector<PageId>{0, 2});
  CHECK(tableOf(m, *child) == std::vector<PageId>{0, 1});
  CHECK(m.pool().refCount(1) == 1);
  CHECK(m.stats().copyOnWrites == 1);

  // The child is now the only owner of page 1: no copy.
  Expected<Appended> c = m.append(*child, {60, 61, 62}, &copier);
  REQUIRE(c.ok());
  CHECK_FALSE(c->copy.has_value());
  CHECK(c->slots == slots({{1, 2}, {1, 3}, {3, 0}}));
  CHECK(copier.copies.size() == 1);
  CHECK(tokensOf(m, parent) == concat(iota(6), {50}));
  CHECK(tokensOf(m, *child) == concat(iota(6), {60, 61, 62}));
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("a shared full last page needs no copy", "[kvcache][blocks]") {
  BlockManager m = makeManager(8, 4);
  SeqId a = m.addSequence(iota(8))->id;
  SeqId b = *m.fork(a);
  Expected<Appended> r = m.append(a, {1});
  REQUIRE(r.ok());
  CHECK_FALSE(r->copy.has_value());
  CHECK(tableOf(m, a) == std::vector<PageId>{0, 1, 2});
  CHECK(tableOf(m, b) == std::vector<PageId>{0, 1});
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("without a copier the caller is told what to copy",
          "[kvcache][blocks]") {
  BlockManager m = makeManager(8, 4);
  SeqId a = m.addSequence(iota(3))->id;
  REQUIRE(m.fork(a).ok());
  Expected<Appended> r = m.append(a, {7});
  REQUIRE(r.ok());
  REQUIRE(r->copy.has_value());
  CHECK(r->copy->src == 0);
  CHECK(r->copy->dst == 1);
}

TEST_CASE("free drops references and returns pages", "[kvcache][blocks]") {
  BlockManager m = makeManager(8, 4, defaultPrefixHash, /*prefixCache=*/false);
  SeqId a = m.addSequence(iota(10))->id;
  SeqId b = *m.fork(a);
  KV_REQUIRE_OK(m.freeSequence(a));
  CHECK(m.stats().usedPages == 3);
  CHECK(m.pool().refCount(0) == 1);
  KV_REQUIRE_OK(m.freeSequence(b));
  CacheStats stats = m.stats();
  CHECK(stats.usedPages == 0);
  CHECK(stats.freePages == 8);
  CHECK(stats.cachedPages == 0);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("unknown and freed sequences are errors", "[kvcache][blocks]") {
  BlockManager m = makeManager(8, 4);
  SeqId a = m.addSequence(iota(5))->id;
  KV_REQUIRE_OK(m.freeSequence(a));
  for (SeqId id : {a, SeqId(12345), SeqId(0)}) {
    CHECK(m.append(id, {1}).status().code() == ErrorCode::UnknownSequence);
    CHECK(m.fork(id).status().code() == ErrorCode::UnknownSequence);
    CHECK(m.freeSequence(id).code() == ErrorCode::UnknownSequence);
    CHECK(m.sequence(id).status().code() == ErrorCode::UnknownSequence);
  }
  // Ids are never reused, so the stale handle stays invalid.
  SeqId b = m.addSequence(iota(5))->id;
  CHECK(b != a);
  CHECK(m.append(a, {1}).status().code() == ErrorCode::UnknownSequence);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("an exhausted pool fails cleanly and changes nothing",
          "[kvcache][blocks]") {
  BlockManager m = makeManager(4, 4);
  RecordingCopier copier;
  SeqId a = m.addSequence(iota(10))->id; // pages 0, 1, 2 (half full)
  SeqId b = *m.fork(a);
  CacheStats before = m.stats();
  auto same = [&] {
    CacheStats now = m.stats();
    CHECK(now.usedPages == before.usedPages);
    CHECK(now.freePages == before.freePages);
    CHECK(now.cachedPages == before.cachedPages);
    CHECK(now.sequences == before.sequences);
    CHECK(tableOf(m, a) == std::vector<PageId>{0, 1, 2});
    CHECK(tableOf(m, b) == std::vector<PageId>{0, 1, 2});
    CHECK(tokensOf(m, a) == iota(10));
    KV_REQUIRE_OK(m.verify());
  };

  Expected<AddedSequence> big = m.addSequence(iota(5, 1000));
  CHECK(big.status().code() == ErrorCode::PoolExhausted);
  CHECK_THAT(big.status().message(), Catch::Contains("needs 2 new page(s)"));
  same();
  // The copy of page 2 plus one new page do not fit in the one free page.
  Expected<Appended> tooMuch = m.append(a, iota(3), &copier);
  CHECK(tooMuch.status().code() == ErrorCode::PoolExhausted);
  CHECK(copier.copies.empty());
  same();
  // The copy alone fits.
  REQUIRE(m.append(a, iota(2), &copier).ok());
  CHECK(m.stats().freePages == 0);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("a failed copy-on-write changes nothing", "[kvcache][blocks]") {
  BlockManager m = makeManager(4, 4);
  RecordingCopier copier;
  SeqId a = m.addSequence(iota(6))->id;
  SeqId b = *m.fork(a);
  copier.fail = true;
  Expected<Appended> r = m.append(a, {1, 2, 3, 4}, &copier);
  CHECK(r.status().code() == ErrorCode::BackendError);
  CHECK(m.stats().freePages == 2);
  CHECK(tableOf(m, a) == tableOf(m, b));
  CHECK(tokensOf(m, a) == iota(6));
  KV_REQUIRE_OK(m.verify());
  copier.fail = false;
  REQUIRE(m.append(a, {1, 2, 3, 4}, &copier).ok());
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("a known prompt prefix maps the cached pages",
          "[kvcache][blocks][prefix]") {
  BlockManager m = makeManager(16, 4);
  std::vector<int32_t> prompt = iota(10);
  SeqId a = m.addSequence(prompt)->id; // pages 0, 1 full; 2 partial
  CHECK(m.stats().registeredPages == 2);

  // Same 8 tokens then different ones: both full pages are reused.
  Expected<AddedSequence> b = m.addSequence(concat(iota(8), {77, 78, 79}));
  REQUIRE(b.ok());
  CHECK(b->reusedTokens == 8);
  CHECK(b->slots == slots({{3, 0}, {3, 1}, {3, 2}}));
  CHECK(tableOf(m, b->id) == std::vector<PageId>{0, 1, 3});
  CHECK(m.pool().refCount(0) == 2);

  // Diverging inside page 1: only page 0 is reused.
  Expected<AddedSequence> c = m.addSequence(concat(iota(6), {99, 99, 99}));
  REQUIRE(c.ok());
  CHECK(c->reusedTokens == 4);
  CHECK(tableOf(m, c->id)[0] == 0);

  // The whole prompt is cached: the last token is still left to compute,
  // so the last full page is recomputed (and not registered twice).
  Expected<AddedSequence> d = m.addSequence(iota(8));
  REQUIRE(d.ok());
  CHECK(d->reusedTokens == 4);
  CHECK(d->slots.size() == 4);
  CHECK(m.stats().prefixHitTokens == 16);

  // A different first page: nothing is reused.
  Expected<AddedSequence> e = m.addSequence(iota(10, 1));
  REQUIRE(e.ok());
  CHECK(e->reusedTokens == 0);
  KV_REQUIRE_OK(m.verify());
  (void)a;
}

TEST_CASE("freed full pages stay cached and are revived by a hit",
          "[kvcache][blocks][prefix]") {
  BlockManager m = makeManager(8, 4);
  SeqId a = m.addSequence(iota(10))->id;
  KV_REQUIRE_OK(m.freeSequence(a));
  CacheStats stats = m.stats();
  CHECK(stats.cachedPages == 2); // the partial page went back to the pool
  CHECK(stats.freePages == 6);
  CHECK(stats.usedPages == 0);

  Expected<AddedSequence> b = m.addSequence(iota(9));
  REQUIRE(b.ok());
  CHECK(b->reusedTokens == 8);
  CHECK(m.stats().cachedPages == 0);
  CHECK(m.stats().usedPages == 3);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("cached pages are evicted least recently used first",
          "[kvcache][blocks][prefix]") {
  BlockManager m = makeManager(4, 4);
  SeqId a = m.addSequence(iota(8, 0))->id;   // pages 0, 1
  SeqId b = m.addSequence(iota(8, 100))->id; // pages 2, 3
  KV_REQUIRE_OK(m.freeSequence(a));          // LRU: 1, 0 (tail page first)
  KV_REQUIRE_OK(m.freeSequence(b));          // LRU: 1, 0, 3, 2
  CHECK(m.stats().cachedPages == 4);
  CHECK(m.stats().freePages == 0);

  // A fresh one-page sequence evicts page 1 (a's tail).
  Expected<AddedSequence> c = m.addSequence({500});
  REQUIRE(c.ok());
  CHECK(tableOf(m, c->id) == std::vector<PageId>{1});
  CHECK(m.stats().evictions == 1);
  // a's head page is still found; its tail is gone.
  Expected<AddedSequence> d = m.addSequence(concat(iota(8), {1}));
  REQUIRE(d.ok());
  CHECK(d->reusedTokens == 4);
  // d took page 0 by the hit and evicted 3 then 2 for its two new pages.
  CHECK(tableOf(m, d->id) == std::vector<PageId>{0, 3, 2});
  CHECK(m.stats().evictions == 3);
  CHECK(m.addSequence(concat(iota(8, 100), {1})).status().code() ==
        ErrorCode::PoolExhausted);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("a hit on cached pages counts them as no longer evictable",
          "[kvcache][blocks][prefix]") {
  BlockManager m = makeManager(3, 4);
  SeqId a = m.addSequence(iota(8))->id; // pages 0, 1
  KV_REQUIRE_OK(m.freeSequence(a));     // both cached; one page free
  // 8 reused + 4 new tokens need 1 new page: fits.
  Expected<AddedSequence> b = m.addSequence(iota(12));
  REQUIRE(b.ok());
  CHECK(b->reusedTokens == 8);
  KV_REQUIRE_OK(m.freeSequence(b->id));
  // All three cached now. 8 reused + 8 new need 2 new pages, but the only
  // evictable page left after the hit is page 2 (the third one).
  Expected<AddedSequence> c = m.addSequence(concat(iota(8), iota(8, 50)));
  CHECK(c.status().code() == ErrorCode::PoolExhausted);
  CHECK(m.stats().cachedPages == 3);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("prefix caching can be turned off", "[kvcache][blocks][prefix]") {
  BlockManager m = makeManager(8, 4, defaultPrefixHash, false);
  SeqId a = m.addSequence(iota(10))->id;
  CHECK(m.stats().registeredPages == 0);
  Expected<AddedSequence> b = m.addSequence(iota(10));
  REQUIRE(b.ok());
  CHECK(b->reusedTokens == 0);
  KV_REQUIRE_OK(m.freeSequence(a));
  CHECK(m.stats().cachedPages == 0);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("pages computed twice chain through the first registration",
          "[kvcache][blocks][prefix]") {
  BlockManager m = makeManager(16, 4);
  // Both start before either page is full, so neither can reuse the other.
  SeqId a = m.addSequence(iota(3))->id;
  SeqId b = m.addSequence(iota(3))->id;
  REQUIRE(m.append(a, {3}).ok()); // a's page 0 registered
  REQUIRE(m.append(b, {3}).ok()); // b's page 1 is a twin: not registered
  CHECK(m.stats().registeredPages == 1);
  REQUIRE(m.append(b, iota(4, 4)).ok()); // b's second page registered
  CHECK(m.stats().registeredPages == 2);
  // A third prompt finds a's first page and then b's second page.
  Expected<AddedSequence> c = m.addSequence(iota(9));
  REQUIRE(c.ok());
  CHECK(c->reusedTokens == 8);
  CHECK(tableOf(m, c->id)[0] == tableOf(m, a)[0]);
  CHECK(tableOf(m, c->id)[1] == tableOf(m, b)[1]);
  KV_REQUIRE_OK(m.verify());
}

TEST_CASE("stats count shared, cached and wasted slots", "[kvcache][blocks]") {
  BlockManager m = makeManager(32, 8);
  SeqId a = m.addSequence(iota(20))->id; // 3 pages, 4 empty slots
  for (int i = 0; i < 3; ++i)
    REQUIRE(m.fork(a).ok());
  CacheStats stats = m.stats();
  CHECK(stats.usedPages == 3);
  CHECK(stats.sharedPages == 3);
  CHECK(stats.unsharedPages == 12);
  CHECK(stats.wastedSlots == 4);
  CHECK(stats.tokens == 80);
  CHECK(stats.sharingSaving() == Approx(0.75));
  CHECK(stats.wasteFraction() == Approx(4.0 / 24));
  CHECK(stats.usedPages + stats.freePages + stats.cachedPages ==
        stats.totalPages);
}
