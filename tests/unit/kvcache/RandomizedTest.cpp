//===- RandomizedTest.cpp - Invariants under 100k random operations -------===//
//
// The block manager alone, with a fake memory of one int64 per slot standing
// in for the K/V rows: a slot holds (token, position) once written, so a
// sequence read back through its block table must spell its exact history.
//
//===----------------------------------------------------------------------===//

#include "RandomDriver.h"

#include <algorithm>

using namespace attnc::kvcache;
using namespace attnc::kvcache::test;

namespace {
/// The block manager plus one int64 per slot.
class SlotMemoryHarness : public PageCopier {
public:
  explicit SlotMemoryHarness(BlockManager manager)
      : manager(std::move(manager)),
        slots(static_cast<size_t>(this->manager.numPages()) *
                  this->manager.pageSize(),
              -1) {}

  const BlockManager &blocks() const { return manager; }
  Expected<AddedSequence> add(Span<int32_t> prompt) {
    return manager.addSequence(prompt);
  }
  Expected<Appended> append(SeqId id, Span<int32_t> tokens) {
    return manager.append(id, tokens, this);
  }
  Expected<SeqId> fork(SeqId id) { return manager.fork(id); }
  Status free(SeqId id) { return manager.freeSequence(id); }
  void failNextCopy(bool fail) { failCopies = fail; }

  static int64_t encode(int32_t token, int64_t pos) {
    return (static_cast<int64_t>(token) << 32) | pos;
  }
  void write(Slot slot, int32_t token, int64_t pos) {
    slots[slot.flat(manager.pageSize())] = encode(token, pos);
  }
  Status copyPage(PageId src, PageId dst) override {
    if (failCopies)
      return Status::error(ErrorCode::BackendError, "injected copy failure");
    const int32_t p = manager.pageSize();
    std::copy_n(slots.begin() + int64_t(src) * p, p,
                slots.begin() + int64_t(dst) * p);
    return Status::success();
  }
  bool checkContent(const std::vector<SeqId> &ids,
                    const std::vector<const std::vector<int32_t> *> &tokens,
                    std::string &why) {
    const int32_t p = manager.pageSize();
    for (size_t k = 0; k < ids.size(); ++k) {
      std::vector<PageId> table = tableOf(manager, ids[k]);
      const std::vector<int32_t> &expected = *tokens[k];
      for (int64_t pos = 0; pos < static_cast<int64_t>(expected.size());
           ++pos) {
        int64_t got = slots[int64_t(table[pos / p]) * p + pos % p];
        if (got != encode(expected[pos], pos)) {
          why = "sequence " + std::to_string(ids[k]) + " position " +
                std::to_string(pos) + " reads back wrong";
          return false;
        }
      }
    }
    return true;
  }

private:
  BlockManager manager;
  std::vector<int64_t> slots;
  bool failCopies = false;
};

RandomCounts run(int32_t numPages, int32_t pageSize, PrefixHashFn hash,
                 bool prefixCache, uint64_t seed) {
  SlotMemoryHarness harness(makeManager(numPages, pageSize, hash, prefixCache));
  RandomOptions options;
  options.seed = seed;
  options.operations = 100000;
  RandomCounts counts = runRandomOps(harness, options);
  CacheStats stats = harness.blocks().stats();
  INFO("page size " << pageSize << ", " << numPages << " pages");
  CHECK(counts.adds + counts.appends + counts.forks + counts.frees > 80000);
  CHECK(counts.exhausted > 100);
  CHECK(counts.unknownIds > 1000);
  if (pageSize > 1) { // with one token per page, no page is ever partial
    CHECK(counts.failedCopies > 100);
    CHECK(stats.copyOnWrites > 100);
  }
  if (prefixCache) {
    CHECK(stats.prefixHitTokens > 1000);
    CHECK(stats.evictions > 100);
  } else {
    CHECK(stats.prefixHitTokens == 0);
    CHECK(stats.registeredPages == 0);
  }
  return counts;
}
} // namespace

TEST_CASE("random operations, page size 1", "[kvcache][random]") {
  run(48, 1, defaultPrefixHash, true, 11);
}

TEST_CASE("random operations, page size 4", "[kvcache][random]") {
  run(64, 4, defaultPrefixHash, true, 12);
}

TEST_CASE("random operations, page size 16", "[kvcache][random]") {
  run(64, 16, defaultPrefixHash, true, 13);
}

TEST_CASE("random operations, every page hash collides", "[kvcache][random]") {
  run(64, 4, constantHash, true, 14);
}

TEST_CASE("random operations, hash blind to the parent", "[kvcache][random]") {
  run(40, 3, parentBlindHash, true, 15);
}

TEST_CASE("random operations, prefix cache off", "[kvcache][random]") {
  run(64, 4, defaultPrefixHash, false, 16);
}
