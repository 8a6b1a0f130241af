//===- RandomDriver.h - Random operation sequences against a model --------===//
//
// Drives a cache with random adds (from a few shared "system prompts", so
// prefixes repeat), appends, forks, frees, operations on dead ids and failing
// copies, under a pool small enough to exhaust and evict often. After every
// operation it checks the block manager's invariants, compares the touched
// sequences with a reference model (each sequence's logical token list), and
// reads their K/V back through the block tables. A failing operation must
// leave the state exactly as it was.
//
// A Harness provides:
//   const BlockManager &blocks();
//   Expected<AddedSequence> add(Span<int32_t>);
//   Expected<Appended> append(SeqId, Span<int32_t>);
//   Expected<SeqId> fork(SeqId);  Status free(SeqId);
//   void write(Slot, int32_t token, int64_t position);
//   void failNextCopy(bool);
//   /// Reads the K/V of `ids` through the exported block tables and checks
//   /// them against `tokens` (position i holds tokens[k][i]).
//   bool checkContent(const std::vector<SeqId> &ids,
//                     const std::vector<const std::vector<int32_t> *> &tokens,
//                     std::string &why);
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_KVCACHE_RANDOMDRIVER_H
#define ATTNC_TESTS_UNIT_KVCACHE_RANDOMDRIVER_H

#include "Fixtures.h"

#include <map>
#include <random>
#include <sstream>

namespace attnc::kvcache::test {

struct RandomOptions {
  uint64_t seed = 1;
  int64_t operations = 100000;
  /// Compare every sequence (not only the touched ones) this often.
  int64_t fullCheckEvery = 1000;
  int32_t vocabulary = 4;
  int32_t maxSequences = 24;
};

/// How often each kind of operation happened, to prove coverage.
struct RandomCounts {
  int64_t adds = 0, appends = 0, forks = 0, frees = 0;
  int64_t exhausted = 0, unknownIds = 0, failedCopies = 0;
};

namespace detail {
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Everything an operation could change, for "a failure changes nothing".
struct Snapshot {
  std::vector<SeqId> ids;
  std::vector<std::vector<int32_t>> tokens;
  std::vector<std::vector<PageId>> tables;
  std::vector<int32_t> refCounts;
  int32_t freePages = 0, cachedPages = 0;

  explicit Snapshot(const BlockManager &m) {
    ids = m.sequenceIds();
    for (SeqId id : ids) {
      tokens.push_back(tokensOf(m, id));
      tables.push_back(tableOf(m, id));
    }
    for (PageId page = 0; page < m.numPages(); ++page)
      refCounts.push_back(m.pool().refCount(page));
    freePages = m.pool().numFree();
    cachedPages = m.pool().numCached();
  }
  /// `withCache`: also compare free/cached counts (a failed copy may have
  /// evicted a cached page, which no sequence can observe).
  bool same(const Snapshot &o, bool withCache) const {
    return ids == o.ids && tokens == o.tokens && tables == o.tables &&
           refCounts == o.refCounts &&
           (!withCache ||
            (freePages == o.freePages && cachedPages == o.cachedPages));
  }
};
} // namespace detail

template <typename Harness>
RandomCounts runRandomOps(Harness &h, const RandomOptions &options) {
  using detail::ceilDiv;
  const BlockManager &m = h.blocks();
  const int32_t pageSize = m.pageSize();
  const int32_t numPages = m.numPages();
  std::mt19937_64 rng(options.seed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  auto token = [&] {
    return static_cast<int32_t>(uniform(0, options.vocabulary - 1));
  };

  std::vector<std::vector<int32_t>> systemPrompts(6);
  for (auto &prompt : systemPrompts)
    for (int64_t i = uniform(0, 5 * pageSize); i > 0; --i)
      prompt.push_back(token());

  std::map<SeqId, std::vector<int32_t>> model;
  std::vector<SeqId> dead;
  RandomCounts counts;
  std::string why;

  auto randomLive = [&] {
    auto it = model.begin();
    std::advance(it, uniform(0, static_cast<int64_t>(model.size()) - 1));
    return it->first;
  };
  auto checkSequences = [&](const std::vector<SeqId> &ids) {
    std::vector<const std::vector<int32_t> *> expected;
    for (SeqId id : ids) {
      if (tokensOf(m, id) != model.at(id))
        FAIL("sequence " << id << " tokens differ from the model");
      expected.push_back(&model.at(id));
    }
    if (!h.checkContent(ids, expected, why))
      FAIL(why);
  };
  /// Slot i of an operation that grew `id` from `oldLength` must be where
  /// the block table puts position oldLength + i.
  auto checkSlots = [&](SeqId id, int64_t oldLength,
                        const std::vector<Slot> &slots) {
    std::vector<PageId> table = tableOf(m, id);
    for (size_t i = 0; i < slots.size(); ++i) {
      int64_t pos = oldLength + static_cast<int64_t>(i);
      if (slots[i] !=
          Slot{table[pos / pageSize], static_cast<int32_t>(pos % pageSize)})
        FAIL("slot " << i << " of sequence " << id << " is misplaced");
    }
  };

  for (int64_t op = 0; op < options.operations; ++op) {
    std::vector<SeqId> touched;
    const int32_t available = m.pool().numAvailable();
    const bool pressure = available < numPages / 8;
    int64_t roll = uniform(0, 99);
    if (model.empty())
      roll = 0;
    else if (static_cast<int32_t>(model.size()) >= options.maxSequences &&
             roll < 20)
      roll = 80; // free instead of add
    else if (pressure && roll >= 20 && roll < 50)
      roll = 80;

    if (roll < 20) { // add
      std::vector<int32_t> prompt =
          systemPrompts[uniform(0, systemPrompts.size() - 1)];
      for (int64_t i = uniform(0, 2 * pageSize); i > 0; --i)
        prompt.push_back(token());
      int64_t worst = ceilDiv(prompt.size(), pageSize);
      std::optional<detail::Snapshot> before;
      if (worst > available)
        before.emplace(m);
      Expected<AddedSequence> added = h.add(prompt);
      if (!added) {
        if (added.status().code() != ErrorCode::PoolExhausted || !before)
          FAIL("add failed unexpectedly: " << added.status().toString());
        if (!detail::Snapshot(m).same(*before, true))
          FAIL("a failed add changed the state");
        ++counts.exhausted;
      } else {
        int32_t reused = added->reusedTokens;
        if (reused % pageSize != 0 ||
            (reused > 0 && reused >= static_cast<int32_t>(prompt.size())) ||
            added->slots.size() != prompt.size() - reused)
          FAIL("add reused " << reused << " of " << prompt.size());
        checkSlots(added->id, reused, added->slots);
        for (size_t i = 0; i < added->slots.size(); ++i)
          h.write(added->slots[i], prompt[reused + i], reused + i);
        model[added->id] = prompt;
        touched.push_back(added->id);
        ++counts.adds;
      }
    } else if (roll < 60) { // append
      SeqId id = randomLive();
      std::vector<int32_t> &tokens = model[id];
      int64_t length = static_cast<int64_t>(tokens.size());
      int64_t kind = uniform(0, 99), count = 1;
      if (kind >= 95)
        count = uniform(1, int64_t(numPages) * pageSize / 2);
      else if (kind >= 70)
        count = uniform(1, 3 * pageSize);
      std::vector<int32_t> extra(count);
      for (int32_t &t : extra)
        t = token();
      std::vector<PageId> table = tableOf(m, id);
      bool copy = length % pageSize != 0 && m.pool().refCount(table.back()) > 1;
      int64_t need = ceilDiv(length + count, pageSize) -
                     ceilDiv(length, pageSize) + (copy ? 1 : 0);
      std::optional<detail::Snapshot> before;
      if (need > available)
        before.emplace(m);
      Expected<Appended> appended = h.append(id, extra);
      if (!appended) {
        if (appended.status().code() != ErrorCode::PoolExhausted || !before)
          FAIL("append failed unexpectedly: " << appended.status().toString());
        if (!detail::Snapshot(m).same(*before, true))
          FAIL("a failed append changed the state");
        ++counts.exhausted;
      } else {
        if (before)
          FAIL("append succeeded with " << need << " pages needed and "
                                        << available << " available");
        if (appended->copy.has_value() != copy)
          FAIL("copy-on-write " << (copy ? "missing" : "unexpected"));
        if (copy && (appended->copy->src != table.back() ||
                     appended->copy->dst == table.back()))
          FAIL("copy-on-write copied the wrong page");
        checkSlots(id, length, appended->slots);
        for (size_t i = 0; i < extra.size(); ++i)
          h.write(appended->slots[i], extra[i], length + i);
        tokens.insert(tokens.end(), extra.begin(), extra.end());
        touched.push_back(id);
        ++counts.appends;
      }
    } else if (roll < 72) { // fork
      SeqId parent = randomLive();
      Expected<SeqId> child = h.fork(parent);
      if (!child)
        FAIL("fork failed: " << child.status().toString());
      if (tableOf(m, *child) != tableOf(m, parent))
        FAIL("a fork does not share its parent's pages");
      model[*child] = model[parent];
      touched = {parent, *child};
      ++counts.forks;
    } else if (roll < 92) { // free
      SeqId id = randomLive();
      KV_REQUIRE_OK(h.free(id));
      model.erase(id);
      dead.push_back(id);
      ++counts.frees;
    } else if (roll < 96) { // an operation on a dead or never-issued id
      SeqId id = dead.empty() || uniform(0, 3) == 0
                     ? SeqId(1) << 60
                     : dead[uniform(0, dead.size() - 1)];
      detail::Snapshot before(m);
      ErrorCode code = ErrorCode::Ok;
      switch (uniform(0, 3)) {
      case 0:
        code = h.append(id, {token()}).status().code();
        break;
      case 1:
        code = h.fork(id).status().code();
        break;
      case 2:
        code = h.free(id).code();
        break;
      default:
        code = m.sequence(id).status().code();
        break;
      }
      if (code != ErrorCode::UnknownSequence)
        FAIL("dead sequence " << id << " was not reported unknown");
      if (!detail::Snapshot(m).same(before, true))
        FAIL("an operation on a dead id changed the state");
      ++counts.unknownIds;
    } else { // a copy-on-write whose copy fails
      SeqId victim = 0;
      for (auto &[id, tokens] : model) {
        if (tokens.size() % pageSize == 0)
          continue;
        if (m.pool().refCount(tableOf(m, id).back()) > 1) {
          victim = id;
          break;
        }
      }
      if (victim == 0 || available == 0)
        continue;
      detail::Snapshot before(m);
      h.failNextCopy(true);
      Expected<Appended> appended = h.append(victim, {token()});
      h.failNextCopy(false);
      if (appended.ok() || appended.status().code() != ErrorCode::BackendError)
        FAIL("a failing copy was not reported");
      if (!detail::Snapshot(m).same(before, false))
        FAIL("a failed copy changed the sequences or reference counts");
      touched.push_back(victim);
      ++counts.failedCopies;
    }

    KV_REQUIRE_OK(m.verify());
    if (op % options.fullCheckEvery == 0) {
      touched.clear();
      for (auto &entry : model)
        touched.push_back(entry.first);
      CacheStats stats = m.stats();
      int64_t tokens = 0, unshared = 0;
      for (auto &entry : model) {
        tokens += entry.second.size();
        unshared += ceilDiv(entry.second.size(), pageSize);
      }
      if (stats.tokens != tokens || stats.unsharedPages != unshared ||
          stats.sequences != static_cast<int32_t>(model.size()) ||
          stats.freePages + stats.usedPages + stats.cachedPages != numPages)
        FAIL("stats disagree with the model");
    }
    if (!touched.empty())
      checkSequences(touched);
  }

  // Freeing everything leaves no page referenced and none lost.
  for (auto &entry : model)
    KV_REQUIRE_OK(h.free(entry.first));
  KV_REQUIRE_OK(m.verify());
  CacheStats stats = m.stats();
  CHECK(stats.usedPages == 0);
  CHECK(stats.freePages + stats.cachedPages == numPages);
  return counts;
}

} // namespace attnc::kvcache::test

#endif // ATTNC_TESTS_UNIT_KVCACHE_RANDOMDRIVER_H
