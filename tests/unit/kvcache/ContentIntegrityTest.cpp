//===- ContentIntegrityTest.cpp - K/V read back through block tables ------===//
//
// The whole cache on host storage: K and V rows written through the returned
// slots (a value derived from layer, K/V, token, position, head and dim) must
// read back, through the exported block_table and kv_lens, as each
// sequence's exact history, including after forks, copy-on-write, prefix
// hits and evictions.
//
//===----------------------------------------------------------------------===//

#include "RandomDriver.h"

#include "runtime/kvcache/HostPageStorage.h"
#include "runtime/kvcache/KVCache.h"

using namespace attnc::kvcache;
using namespace attnc::kvcache::test;

namespace {
/// Host storage whose copies can be made to fail, as a device's might.
class FlakyStorage final : public PageStorage {
public:
  Status allocate(const CacheShape &shape) override {
    return host.allocate(shape);
  }
  Status copyPage(PageId src, PageId dst) override {
    if (fail)
      return Status::error(ErrorCode::BackendError, "injected copy failure");
    return host.copyPage(src, dst);
  }
  MemoryKind memoryKind() const override { return host.memoryKind(); }
  const CacheShape &shape() const override { return host.shape(); }
  void *keyCache(int32_t layer) const override { return host.keyCache(layer); }
  void *valueCache(int32_t layer) const override {
    return host.valueCache(layer);
  }
  bool fail = false;

private:
  HostPageStorage host;
};

/// Never 0xffff (the poison), and different for K and V, every layer, head
/// and dim, so a row landing in the wrong place or tensor is caught.
uint16_t kvValue(int32_t layer, int32_t which, int32_t token, int64_t pos,
                 int32_t head, int32_t dim) {
  uint64_t x = (uint64_t(uint32_t(token)) << 32) ^ uint64_t(pos) * 0x9e37 ^
               uint64_t(layer) << 56 ^ uint64_t(which) << 60 ^
               uint64_t(head) << 20 ^ uint64_t(dim) << 26;
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 29;
  return static_cast<uint16_t>(x & 0x7fff);
}

class CacheHarness {
public:
  CacheHarness(const CacheShape &shape, PrefixHashFn hash) {
    auto storage = std::make_unique<FlakyStorage>();
    flaky = storage.get();
    KVCacheConfig config;
    config.shape = shape;
    config.prefixHash = hash;
    Expected<KVCache> created = KVCache::create(config, std::move(storage));
    REQUIRE(created.ok());
    cache.emplace(created.takeValue());
  }

  KVCache &kv() { return *cache; }
  const BlockManager &blocks() const { return cache->blockManager(); }
  Expected<AddedSequence> add(Span<int32_t> prompt) {
    return cache->addSequence(prompt);
  }
  Expected<Appended> append(SeqId id, Span<int32_t> tokens) {
    return cache->append(id, tokens);
  }
  Expected<SeqId> fork(SeqId id) { return cache->fork(id); }
  Status free(SeqId id) { return cache->freeSequence(id); }
  void failNextCopy(bool fail) { flaky->fail = fail; }

  /// Writes the K and V rows of one token, in every layer, at `slot`.
  void write(Slot slot, int32_t token, int64_t pos) {
    const CacheShape &s = cache->shape();
    for (int32_t layer = 0; layer < s.numLayers; ++layer)
      for (int32_t which = 0; which < 2; ++which) {
        auto *base =
            static_cast<uint16_t *>(which ? cache->storage().valueCache(layer)
                                          : cache->storage().keyCache(layer));
        uint16_t *row = base + slot.flat(s.pageSize) * s.rowElements();
        for (int32_t h = 0; h < s.kvHeads; ++h)
          for (int32_t d = 0; d < s.headDim; ++d)
            row[h * s.headDim + d] = kvValue(layer, which, token, pos, h, d);
      }
  }

  /// Reads like a kernel: k_cache[block_table[b][pos / P]][pos % P][h][d],
  /// for pos < kv_lens[b], with padded rows (padValue -1) never touched.
  bool checkContent(const std::vector<SeqId> &ids,
                    const std::vector<const std::vector<int32_t> *> &tokens,
                    std::string &why) {
    const CacheShape &s = cache->shape();
    Expected<BatchTables> t = cache->exportBatchTables(ids, /*padValue=*/-1);
    if (!t) {
      why = t.status().toString();
      return false;
    }
    for (int32_t b = 0; b < t->batch; ++b) {
      const std::vector<int32_t> &expected = *tokens[b];
      if (t->kvLens[b] != static_cast<int32_t>(expected.size())) {
        why = "kv_lens disagrees with the model";
        return false;
      }
      const int32_t *row = t->blockTable.data() + int64_t(b) * t->maxPages;
      for (int32_t i = (t->kvLens[b] + s.pageSize - 1) / s.pageSize;
           i < t->maxPages; ++i)
        if (row[i] != -1) {
          why = "block table row not padded";
          return false;
        }
      for (int32_t layer = 0; layer < s.numLayers; ++layer)
        for (int32_t which = 0; which < 2; ++which) {
          auto *base = static_cast<const uint16_t *>(
              which ? cache->storage().valueCache(layer)
                    : cache->storage().keyCache(layer));
          for (int64_t pos = 0; pos < t->kvLens[b]; ++pos) {
            int64_t page = row[pos / s.pageSize];
            const uint16_t *data =
                base + (page * s.pageSize + pos % s.pageSize) * s.rowElements();
            for (int32_t h = 0; h < s.kvHeads; ++h)
              for (int32_t d = 0; d < s.headDim; ++d)
                if (data[h * s.headDim + d] !=
                    kvValue(layer, which, expected[pos], pos, h, d)) {
                  why = "sequence " + std::to_string(ids[b]) + " layer " +
                        std::to_string(layer) + (which ? " V" : " K") +
                        " position " + std::to_string(pos) + " head " +
                        std::to_string(h) + " dim " + std::to_string(d) +
                        " reads back wrong";
                  return false;
                }
          }
        }
    }
    return true;
  }

  /// Writes K/V for the slots an add or append returned.
  void writeAll(const std::vector<Slot> &slots, Span<int32_t> tokens,
                int64_t firstPos) {
    for (size_t i = 0; i < slots.size(); ++i)
      write(slots[i], tokens[i], firstPos + i);
  }

  /// Empty when every sequence of `model` reads back exactly.
  std::string check(const std::map<SeqId, std::vector<int32_t>> &model) {
    std::vector<SeqId> ids;
    std::vector<const std::vector<int32_t> *> tokens;
    for (auto &[id, t] : model) {
      ids.push_back(id);
      tokens.push_back(&t);
    }
    std::string why;
    checkContent(ids, tokens, why);
    return why;
  }

private:
  std::optional<KVCache> cache;
  FlakyStorage *flaky = nullptr;
};

CacheShape testShape(int32_t numPages, int32_t pageSize) {
  CacheShape shape;
  shape.numPages = numPages;
  shape.pageSize = pageSize;
  shape.kvHeads = 2;
  shape.headDim = 8;
  shape.numLayers = 2;
  shape.elementType = ElementType::BF16;
  return shape;
}
} // namespace

TEST_CASE("forked histories read back exactly after copy-on-write",
          "[kvcache][content]") {
  CacheHarness h(testShape(16, 4), defaultPrefixHash);
  std::map<SeqId, std::vector<int32_t>> model;
  std::vector<int32_t> prompt = iota(6, 10);
  Expected<AddedSequence> a = h.add(prompt);
  REQUIRE(a.ok());
  h.writeAll(a->slots, prompt, 0);
  model[a->id] = prompt;

  // Four samples share the prompt; each then decodes its own tokens.
  std::vector<SeqId> samples = {a->id};
  for (int i = 0; i < 3; ++i) {
    Expected<SeqId> child = h.fork(a->id);
    REQUIRE(child.ok());
    samples.push_back(*child);
    model[*child] = prompt;
  }
  REQUIRE(h.check(model) == std::string());
  int64_t copies = 0;
  for (int step = 0; step < 5; ++step)
    for (size_t s = 0; s < samples.size(); ++s) {
      std::vector<int32_t> next = {int32_t(100 * (s + 1) + step)};
      std::vector<int32_t> &tokens = model[samples[s]];
      Expected<Appended> r = h.append(samples[s], next);
      REQUIRE(r.ok());
      copies += r->copy.has_value();
      h.writeAll(r->slots, next, tokens.size());
      tokens.push_back(next[0]);
      REQUIRE(h.check(model) == std::string());
    }
  // The shared half page was copied by all but the last sample to write it.
  CHECK(copies == 3);
  CHECK(h.kv().stats().sharedPages == 1); // the first, full prompt page
}

TEST_CASE("prefix hits and evictions keep content exact",
          "[kvcache][content]") {
  CacheHarness h(testShape(6, 4), defaultPrefixHash);
  std::map<SeqId, std::vector<int32_t>> model;
  auto add = [&](const std::vector<int32_t> &prompt) {
    Expected<AddedSequence> r = h.add(prompt);
    REQUIRE(r.ok());
    h.writeAll(r->slots, Span<int32_t>(prompt).dropFront(r->reusedTokens),
               r->reusedTokens);
    model[r->id] = prompt;
    return *r;
  };
  AddedSequence a = add(iota(9, 0));
  CHECK(a.reusedTokens == 0);
  AddedSequence b = add(concat(iota(8, 0), {42, 43}));
  CHECK(b.reusedTokens == 8); // K/V of the first 8 come from a's pages
  REQUIRE(h.check(model) == std::string());

  KV_REQUIRE_OK(h.free(a.id));
  KV_REQUIRE_OK(h.free(b.id));
  model.clear();
  CHECK(h.kv().stats().cachedPages == 2);
  // Fill the pool with other prompts: the cached pages are evicted and
  // overwritten with new rows.
  AddedSequence c = add(iota(24, 500));
  CHECK(c.reusedTokens == 0);
  CHECK(h.kv().stats().evictions == 2);
  REQUIRE(h.check(model) == std::string());
  KV_REQUIRE_OK(h.free(c.id));
  model.clear();
  // The old prefix is gone: nothing stale is reused.
  AddedSequence d = add(iota(9, 0));
  CHECK(d.reusedTokens == 0);
  REQUIRE(h.check(model) == std::string());
}

TEST_CASE("random operations read back exact K/V", "[kvcache][content]") {
  auto pageSize = GENERATE(3, 8);
  CacheHarness h(testShape(40, pageSize), defaultPrefixHash);
  RandomOptions options;
  options.seed = 100 + pageSize;
  options.operations = 30000;
  options.fullCheckEvery = 250;
  options.maxSequences = 16;
  RandomCounts counts = runRandomOps(h, options);
  CacheStats stats = h.kv().stats();
  CHECK(counts.forks > 1000);
  CHECK(counts.failedCopies > 10);
  CHECK(stats.copyOnWrites > 100);
  CHECK(stats.prefixHitTokens > 100);
  CHECK(stats.evictions > 10);
}
