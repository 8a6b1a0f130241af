//===- CascadeTablesTest.cpp - Shared/unshared split of block tables ------===//

#include "Fixtures.h"

#include "runtime/kvcache/CascadeTables.h"

#include <algorithm>
#include <random>

using namespace attnc::kvcache;
using namespace attnc::kvcache::test;

using Ints = std::vector<int32_t>;

namespace {
CascadeTables cascade(const BlockManager &m, const std::vector<SeqId> &batch,
                      int32_t minSharedPages = 1) {
  Expected<CascadeTables> t =
      exportCascadeTables(m, batch, /*padValue=*/-1, minSharedPages);
  REQUIRE(t.ok());
  return t.takeValue();
}

/// Checks the group boundaries, prefix rows and lengths, kvStart and the
/// shared/unshared row counts; plainRows and `full` follow from the batch.
void checkTables(const BlockManager &m, const std::vector<SeqId> &batch,
                 const CascadeTables &t, const Ints &indptr, int32_t maxPages,
                 const Ints &prefixTable, const Ints &prefixLens,
                 const Ints &kvStart, int64_t shared, int64_t unshared) {
  CHECK(t.groupIndptr == indptr);
  CHECK(t.prefix.batch == static_cast<int32_t>(indptr.size() - 1));
  CHECK(t.prefix.maxPages == maxPages);
  CHECK(t.prefix.blockTable == prefixTable);
  CHECK(t.prefix.kvLens == prefixLens);
  CHECK(t.kvStart == kvStart);
  CHECK(t.sharedRows == shared);
  CHECK(t.unsharedRows == unshared);
  Expected<BatchTables> plain = exportBatchTables(m, batch, -1);
  REQUIRE(plain.ok());
  CHECK(t.full.blockTable == plain->blockTable);
  CHECK(t.full.kvLens == plain->kvLens);
  int64_t rows = 0;
  for (int32_t len : plain->kvLens)
    rows += len;
  CHECK(t.plainRows == rows);
}
} // namespace

TEST_CASE("cascade: forks of a whole-page prompt", "[kvcache][cascade]") {
  BlockManager m = makeManager(32, 4);
  SeqId p = m.addSequence(iota(8))->id; // pages 0, 1 (full)
  SeqId c1 = *m.fork(p), c2 = *m.fork(p);
  std::vector<SeqId> batch = {p, c1, c2};
  checkTables(m, batch, cascade(m, batch), {0, 3}, 2, {0, 1}, {8}, {8, 8, 8}, 8,
              0);

  for (SeqId id : batch)
    REQUIRE(m.append(id, {7, 7}).ok()); // a new page each, no copy
  CHECK(m.stats().copyOnWrites == 0);
  checkTables(m, batch, cascade(m, batch), {0, 3}, 2, {0, 1}, {8}, {8, 8, 8}, 8,
              6);
}

TEST_CASE("cascade: forks of a prompt ending in a partial page",
          "[kvcache][cascade]") {
  BlockManager m = makeManager(32, 4);
  SeqId p = m.addSequence(iota(6))->id; // page 0, page 1 holding 2 tokens
  SeqId c1 = *m.fork(p), c2 = *m.fork(p);
  std::vector<SeqId> batch = {p, c1, c2};
  // The partly filled page is still shared: all 6 tokens are shared.
  checkTables(m, batch, cascade(m, batch), {0, 3}, 2, {0, 1}, {6}, {6, 6, 6}, 6,
              0);

  // c1 moves onto a copy (page 2): the group now shares page 0 only...
  REQUIRE(m.append(c1, {9})->copy.has_value());
  REQUIRE(tableOf(m, c1) == std::vector<PageId>{0, 2});
  checkTables(m, batch, cascade(m, batch), {0, 3}, 1, {0}, {4}, {4, 4, 4}, 4,
              7);
  // ...while p and c2 still share the partial page 1.
  std::vector<SeqId> pair = {p, c2};
  checkTables(m, pair, cascade(m, pair), {0, 2}, 2, {0, 1}, {6}, {6, 6}, 6, 0);

  // After everyone appended, only the full page 0 is shared.
  REQUIRE(m.append(p, {9}).ok());
  REQUIRE(m.append(c2, {9}).ok());
  CHECK(m.stats().copyOnWrites == 2);
  checkTables(m, batch, cascade(m, batch), {0, 3}, 1, {0}, {4}, {4, 4, 4}, 4,
              9);
}

TEST_CASE("cascade: independent prompts, singletons, empty sequences",
          "[kvcache][cascade]") {
  BlockManager m = makeManager(32, 4);
  SeqId a = m.addSequence(iota(9))->id;      // pages 0, 1, 2
  SeqId b = m.addSequence(iota(5, 100))->id; // pages 3, 4
  SeqId a1 = *m.fork(a), b1 = *m.fork(b);
  SeqId e = m.addSequence({})->id, e1 = *m.fork(e);

  std::vector<SeqId> two = {a, a1, b, b1};
  checkTables(m, two, cascade(m, two), {0, 2, 4}, 3, {0, 1, 2, 3, 4, -1},
              {9, 5}, {9, 9, 5, 5}, 14, 0);

  // Sharers that are not consecutive are not grouped.
  std::vector<SeqId> apart = {a, b, a1};
  checkTables(m, apart, cascade(m, apart), {0, 1, 2, 3}, 1, {-1, -1, -1},
              {0, 0, 0}, {0, 0, 0}, 0, 23);

  std::vector<SeqId> single = {b};
  checkTables(m, single, cascade(m, single), {0, 1}, 1, {-1}, {0}, {0}, 0, 5);

  // Empty sequences are groups of their own, even when forked.
  std::vector<SeqId> empty = {e, e1, b};
  checkTables(m, empty, cascade(m, empty), {0, 1, 2, 3}, 1, {-1, -1, -1},
              {0, 0, 0}, {0, 0, 0}, 0, 5);

  // A repeated id shares everything with its copy.
  std::vector<SeqId> twice = {b, b};
  checkTables(m, twice, cascade(m, twice), {0, 2}, 2, {3, 4}, {5}, {5, 5}, 5,
              0);

  Expected<CascadeTables> none = exportCascadeTables(m, {}, -1);
  REQUIRE(none.ok());
  CHECK(none->groupIndptr == Ints{0});
  CHECK(none->prefix.batch == 0);
  CHECK(none->full.batch == 0);
}

TEST_CASE("cascade: minSharedPages splits short prefixes",
          "[kvcache][cascade]") {
  BlockManager m = makeManager(32, 4);
  SeqId p = m.addSequence(iota(8))->id;
  SeqId c = *m.fork(p);
  REQUIRE(m.append(c, {1}).ok());
  std::vector<SeqId> batch = {p, c};
  checkTables(m, batch, cascade(m, batch, 2), {0, 2}, 2, {0, 1}, {8}, {8, 8}, 8,
              1);
  checkTables(m, batch, cascade(m, batch, 3), {0, 1, 2}, 1, {-1, -1}, {0, 0},
              {0, 0}, 0, 17);

  // A prompt shorter than a page: 3 shared tokens are below one page...
  SeqId q = m.addSequence(iota(3, 50))->id;
  SeqId q1 = *m.fork(q);
  std::vector<SeqId> shortPair = {q, q1};
  checkTables(m, shortPair, cascade(m, shortPair), {0, 1, 2}, 1, {-1, -1},
              {0, 0}, {0, 0}, 0, 6);
  // ...but are shared when no minimum is asked for.
  checkTables(m, shortPair, cascade(m, shortPair, 0), {0, 2}, 1, {3}, {3},
              {3, 3}, 3, 0);
}

TEST_CASE("cascade: errors return nothing", "[kvcache][cascade]") {
  BlockManager m = makeManager(32, 4);
  SeqId a = m.addSequence(iota(9))->id; // 3 pages
  SeqId a1 = *m.fork(a);
  Expected<CascadeTables> narrow =
      exportCascadeTables(m, {a, a1}, -1, 1, /*maxPages=*/2);
  CHECK(narrow.status().code() == ErrorCode::InvalidArgument);
  CHECK_THAT(narrow.status().message(), Catch::Contains("3 pages"));
  CHECK(exportCascadeTables(m, {a, SeqId(999)}, -1).status().code() ==
        ErrorCode::UnknownSequence);
  CHECK(exportCascadeTables(m, {a}, -1, -1).status().code() ==
        ErrorCode::InvalidArgument);

  Expected<CascadeTables> wide = exportCascadeTables(m, {a, a1}, 7, 1, 5);
  REQUIRE(wide.ok());
  CHECK(wide->full.maxPages == 5);
  CHECK(wide->prefix.blockTable == Ints{0, 1, 2});
}

TEST_CASE("cascade: prefixes match block tables on random forks",
          "[kvcache][cascade][random]") {
  std::mt19937 rng(20240607);
  auto pick = [&](int32_t lo, int32_t hi) {
    return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 300; ++trial) {
    const int32_t pageSize = pick(1, 5);
    BlockManager m = makeManager(1024, pageSize);
    // Tokens from a tiny vocabulary, so prompts also share cached pages.
    auto tokens = [&](int32_t n) {
      Ints out(n);
      for (int32_t &t : out)
        t = pick(0, 1);
      return out;
    };
    std::vector<SeqId> live;
    for (int i = pick(1, 3); i > 0; --i)
      live.push_back(m.addSequence(tokens(pick(0, 12)))->id);
    for (int op = pick(0, 30); op > 0; --op) {
      SeqId id = live[pick(0, static_cast<int32_t>(live.size()) - 1)];
      if (pick(0, 2) == 0)
        live.push_back(*m.fork(id));
      else
        REQUIRE(m.append(id, tokens(pick(0, 5))).ok());
    }
    KV_REQUIRE_OK(m.verify());

    // Sharers next to each other, as a scheduler would order them; some
    // repeated.
    std::vector<SeqId> batch = live;
    for (SeqId id : live)
      if (pick(0, 4) == 0)
        batch.push_back(id);
    std::shuffle(batch.begin(), batch.end(), rng);
    auto firstPage = [&](SeqId id) {
      std::vector<PageId> table = tableOf(m, id);
      return table.empty() ? -1 : table[0];
    };
    std::stable_sort(batch.begin(), batch.end(), [&](SeqId x, SeqId y) {
      return firstPage(x) < firstPage(y);
    });

    const int32_t minSharedPages = pick(0, 2);
    CascadeTables t = cascade(m, batch, minSharedPages);
    const size_t groups = t.groupIndptr.size() - 1;
    REQUIRE(t.groupIndptr.front() == 0);
    REQUIRE(t.groupIndptr.back() == static_cast<int32_t>(batch.size()));
    REQUIRE(t.prefix.batch == static_cast<int32_t>(groups));
    REQUIRE(t.prefix.kvLens.size() == groups);
    REQUIRE(t.prefix.maxPages >= 1);
    REQUIRE(t.kvStart.size() == batch.size());
    int64_t plain = 0, unshared = 0, shared = 0;
    for (size_t g = 0; g < groups; ++g) {
      const int32_t begin = t.groupIndptr[g], end = t.groupIndptr[g + 1];
      REQUIRE(begin < end);
      const int32_t sharedLen = t.prefix.kvLens[g];
      shared += sharedLen;
      CHECK((sharedLen == 0 || end - begin > 1));
      CHECK((sharedLen == 0 || sharedLen >= minSharedPages * pageSize));
      const int32_t *row = &t.prefix.blockTable[g * t.prefix.maxPages];
      std::vector<int32_t> head = tokensOf(m, batch[begin]);
      for (int32_t i = begin; i < end; ++i) {
        Expected<SequenceView> seq = m.sequence(batch[i]);
        REQUIRE(t.kvStart[i] == sharedLen);
        REQUIRE(sharedLen <= seq->length());
        plain += seq->length();
        unshared += seq->length() - sharedLen;
        for (int32_t pos = 0; pos < sharedLen; ++pos) {
          Slot viaPrefix{row[pos / pageSize], pos % pageSize};
          Slot own{seq->blockTable[pos / pageSize], pos % pageSize};
          REQUIRE(viaPrefix == own);
          REQUIRE(seq->tokens[pos] == head[pos]); // same keys for all
        }
      }
    }
    CHECK(t.sharedRows == shared);
    CHECK(t.unsharedRows == unshared);
    CHECK(t.plainRows == plain);
    CHECK(t.sharedRows + t.unsharedRows <= t.plainRows);
  }
}
