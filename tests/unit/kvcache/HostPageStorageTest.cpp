//===- HostPageStorageTest.cpp - K/V pages in host memory -----------------===//

#include "Fixtures.h"

#include "runtime/kvcache/HostPageStorage.h"
#include "runtime/kvcache/KVCache.h"

#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

using namespace attnc::kvcache;
using namespace attnc::kvcache::test;

namespace {
CacheShape smallShape() {
  CacheShape shape;
  shape.numPages = 5;
  shape.pageSize = 3;
  shape.kvHeads = 2;
  shape.headDim = 4;
  shape.numLayers = 2;
  shape.elementType = ElementType::BF16;
  return shape;
}
} // namespace

TEST_CASE("host storage lays out k_cache and v_cache per layer",
          "[kvcache][storage]") {
  HostPageStorage storage;
  CHECK(storage.keyCache(0) == nullptr);
  CacheShape shape = smallShape();
  KV_REQUIRE_OK(storage.allocate(shape));
  CHECK(storage.memoryKind() == MemoryKind::Host);
  CHECK(shape.bytesPerPage() == 3 * 2 * 4 * 2 * 2 * 2);
  CHECK(shape.totalBytes() == 5 * shape.bytesPerPage());

  std::vector<void *> tensors;
  for (int32_t layer = 0; layer < 2; ++layer) {
    tensors.push_back(storage.keyCache(layer));
    tensors.push_back(storage.valueCache(layer));
  }
  for (void *t : tensors) {
    REQUIRE(t != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(t) % 256 == 0);
  }
  // Distinct, non-overlapping tensors.
  for (size_t i = 1; i < tensors.size(); ++i)
    CHECK(static_cast<char *>(tensors[i]) -
              static_cast<char *>(tensors[i - 1]) >=
          shape.tensorBytes());
  CHECK(storage.keyCache(2) == nullptr);
  CHECK(storage.valueCache(-1) == nullptr);

  // Fresh memory is NaN in both fp16 and bf16, never zero.
  const auto *k = reinterpret_cast<const uint16_t *>(storage.keyBytes(1));
  for (int64_t i = 0; i < 5 * shape.pageElements(); ++i)
    REQUIRE(k[i] == 0xffff);
  CHECK(storage.allocate(shape).code() == ErrorCode::InvalidArgument);
}

TEST_CASE("host copyPage copies K and V of every layer", "[kvcache][storage]") {
  HostPageStorage storage;
  CacheShape shape = smallShape();
  KV_REQUIRE_OK(storage.allocate(shape));
  const int64_t perPage = shape.pageElements();
  auto keys = [&](int32_t layer) {
    return reinterpret_cast<uint16_t *>(storage.keyBytes(layer));
  };
  auto values = [&](int32_t layer) {
    return reinterpret_cast<uint16_t *>(storage.valueBytes(layer));
  };
  for (int32_t layer = 0; layer < 2; ++layer)
    for (int64_t i = 0; i < perPage; ++i) {
      keys(layer)[1 * perPage + i] = static_cast<uint16_t>(i + layer);
      values(layer)[1 * perPage + i] = static_cast<uint16_t>(1000 + i + layer);
    }
  KV_REQUIRE_OK(storage.copyPage(1, 4));
  for (int32_t layer = 0; layer < 2; ++layer) {
    CHECK(std::memcmp(keys(layer) + 4 * perPage, keys(layer) + 1 * perPage,
                      perPage * 2) == 0);
    CHECK(std::memcmp(values(layer) + 4 * perPage, values(layer) + 1 * perPage,
                      perPage * 2) == 0);
    CHECK(keys(layer)[3 * perPage] == 0xffff); // untouched
  }
  CHECK(storage.copyPage(1, 5).code() == ErrorCode::InvalidArgument);
  CHECK(storage.copyPage(-1, 2).code() == ErrorCode::InvalidArgument);
  CHECK(storage.copyPage(2, 2).code() == ErrorCode::InvalidArgument);

  HostPageStorage empty;
  CHECK(empty.copyPage(0, 1).code() == ErrorCode::InvalidArgument);
}

TEST_CASE("bad shapes are rejected", "[kvcache][storage]") {
  CacheShape shape = smallShape();
  shape.headDim = 0;
  HostPageStorage storage;
  CHECK(storage.allocate(shape).code() == ErrorCode::InvalidArgument);
  shape = smallShape();
  shape.numPages = 1 << 30;
  shape.pageSize = 16; // 2^34 slots: flat slot ids would overflow int32
  CHECK(shape.validate().code() == ErrorCode::InvalidArgument);
  shape = smallShape();
  shape.kvHeads = 1 << 30;
  shape.headDim = 1 << 30;
  shape.pageSize = 1 << 10;
  CHECK(shape.validate().code() == ErrorCode::InvalidArgument);

  KVCacheConfig config;
  config.shape = smallShape();
  CHECK(KVCache::create(config, nullptr).status().code() ==
        ErrorCode::InvalidArgument);
  config.shape.numLayers = 0;
  CHECK(KVCache::create(config, std::make_unique<HostPageStorage>())
            .status()
            .code() == ErrorCode::InvalidArgument);
}

TEST_CASE("KVCache stats report bytes", "[kvcache][storage]") {
  KVCacheConfig config;
  config.shape = smallShape();
  Expected<KVCache> cache =
      KVCache::create(config, std::make_unique<HostPageStorage>());
  REQUIRE(cache.ok());
  REQUIRE(cache->addSequence(iota(4)).ok()); // 2 pages, 2 empty slots
  CacheStats stats = cache->stats();
  CHECK(stats.bytesPerPage == config.shape.bytesPerPage());
  CHECK(stats.usedBytes() == 2 * config.shape.bytesPerPage());
  CHECK(stats.wastedBytes() == 2 * config.shape.bytesPerPage() / 3);
}

//===----------------------------------------------------------------------===//
// fp8 caches: 1-byte elements
//===----------------------------------------------------------------------===//

namespace {
const ElementType kAllTypes[] = {ElementType::F16, ElementType::BF16,
                                 ElementType::E4M3, ElementType::E5M2};
const ElementType kFp8Types[] = {ElementType::E4M3, ElementType::E5M2};

/// 256 elements per page per tensor: one page holds every byte value once.
CacheShape fp8Shape(ElementType type) {
  CacheShape shape;
  shape.numPages = 6;
  shape.pageSize = 4;
  shape.kvHeads = 2;
  shape.headDim = 32;
  shape.numLayers = 2;
  shape.elementType = type;
  return shape;
}

/// Byte i of a page of tensor `t` (2 * layer + which): a permutation of
/// 0..255 (odd multiplier), different for each tensor.
uint8_t patternByte(int64_t t, int64_t i) {
  return static_cast<uint8_t>((i * 167 + t * 59 + 3) & 0xff);
}

uint8_t *tensorBytes(const PageStorage &storage, int64_t t) {
  int32_t layer = static_cast<int32_t>(t / 2);
  return static_cast<uint8_t *>(t % 2 ? storage.valueCache(layer)
                                      : storage.keyCache(layer));
}

void writePattern(const PageStorage &storage, PageId page) {
  const CacheShape &s = storage.shape();
  const int64_t pageBytes = s.pageBytesPerTensor();
  for (int64_t t = 0; t < 2 * s.numLayers; ++t) {
    uint8_t *base = tensorBytes(storage, t) + page * pageBytes;
    for (int64_t i = 0; i < pageBytes; ++i)
      base[i] = patternByte(t, i);
  }
}

/// Whether `page` holds the pattern in every tensor; reports the first
/// mismatch.
bool holdsPattern(const PageStorage &storage, PageId page) {
  const CacheShape &s = storage.shape();
  const int64_t pageBytes = s.pageBytesPerTensor();
  for (int64_t t = 0; t < 2 * s.numLayers; ++t) {
    const uint8_t *base = tensorBytes(storage, t) + page * pageBytes;
    for (int64_t i = 0; i < pageBytes; ++i)
      if (base[i] != patternByte(t, i)) {
        UNSCOPED_INFO("page " << page << " tensor " << t << " byte " << i
                              << ": " << int(base[i])
                              << " != " << int(patternByte(t, i)));
        return false;
      }
  }
  return true;
}

/// Whether every byte of `page` is still the 0xff fill, in every tensor.
bool untouched(const PageStorage &storage, PageId page) {
  const CacheShape &s = storage.shape();
  const int64_t pageBytes = s.pageBytesPerTensor();
  for (int64_t t = 0; t < 2 * s.numLayers; ++t) {
    const uint8_t *base = tensorBytes(storage, t) + page * pageBytes;
    for (int64_t i = 0; i < pageBytes; ++i)
      if (base[i] != 0xff)
        return false;
  }
  return true;
}
} // namespace

TEST_CASE("element types: names and sizes", "[kvcache][storage][fp8]") {
  CHECK(elementBytes(ElementType::F16) == 2);
  CHECK(elementBytes(ElementType::BF16) == 2);
  CHECK(elementBytes(ElementType::E4M3) == 1);
  CHECK(elementBytes(ElementType::E5M2) == 1);
  CHECK(std::string(elementTypeName(ElementType::F16)) == "f16");
  CHECK(std::string(elementTypeName(ElementType::BF16)) == "bf16");
  CHECK(std::string(elementTypeName(ElementType::E4M3)) == "e4m3");
  CHECK(std::string(elementTypeName(ElementType::E5M2)) == "e5m2");
  static_assert(elementBytes(ElementType::E4M3) == 1, "constexpr");

  for (ElementType type : kAllTypes)
    CHECK(parseElementType(elementTypeName(type)) == type);
  CHECK(parseElementType("fp16") == ElementType::F16);
  CHECK(parseElementType("e4m3fn") == ElementType::E4M3);
  CHECK_FALSE(parseElementType("fp8").has_value());
  CHECK_FALSE(parseElementType("E4M3").has_value());
  CHECK_FALSE(parseElementType("").has_value());

  // Every byte count of a shape follows the element size.
  for (ElementType type : kAllTypes) {
    CacheShape shape = fp8Shape(type);
    const int64_t bytes = elementBytes(type);
    INFO(elementTypeName(type));
    CHECK(shape.pageBytesPerTensor() == 256 * bytes);
    CHECK(shape.tensorBytes() == 6 * 256 * bytes);
    CHECK(shape.bytesPerPage() == 256 * bytes * 2 * 2);
    CHECK(shape.bytesPerToken() == 64 * bytes * 2 * 2);
    CHECK(shape.bytesPerToken() * shape.pageSize == shape.bytesPerPage());
    CHECK(shape.totalBytes() == 6 * shape.bytesPerPage());
  }
}

TEST_CASE("an fp8 cache holds twice the pages of bf16 in the same budget",
          "[kvcache][storage][fp8]") {
  CacheShape bf16 = fp8Shape(ElementType::BF16);
  CacheShape f16 = fp8Shape(ElementType::F16);
  REQUIRE(bf16.bytesPerPage() == 2048);
  // Budgets that hold whole bf16 pages, and some that leave a remainder
  // smaller than an fp8 page (so the doubling is exact there too).
  const int64_t budgets[] = {0,
                             2048,
                             2048 * 3,
                             2048 * 1000 + 1023,
                             int64_t(1) << 30,
                             (int64_t(1) << 30) + 7};
  for (int64_t budget : budgets) {
    INFO("budget " << budget);
    Expected<int32_t> bf16Pages = bf16.pagesForBudget(budget);
    REQUIRE(bf16Pages.ok());
    CHECK(*bf16Pages == budget / 2048);
    CHECK(*f16.pagesForBudget(budget) == *bf16Pages);
    for (ElementType type : kFp8Types) {
      CacheShape fp8 = fp8Shape(type);
      Expected<int32_t> fp8Pages = fp8.pagesForBudget(budget);
      REQUIRE(fp8Pages.ok());
      CHECK(*fp8Pages == 2 * *bf16Pages);
      // Tokens double with the pages; the pool fits the budget.
      CHECK(int64_t(*fp8Pages) * fp8.pageSize ==
            2 * int64_t(*bf16Pages) * bf16.pageSize);
      fp8.numPages = *fp8Pages;
      CHECK(int64_t(*fp8Pages) * fp8.bytesPerPage() <= budget);
    }
  }
  // A budget below one page holds none; numPages does not matter.
  CHECK(*bf16.pagesForBudget(2047) == 0);
  CHECK(*fp8Shape(ElementType::E4M3).pagesForBudget(1023) == 0);
  CHECK(*fp8Shape(ElementType::E4M3).pagesForBudget(1024) == 1);
  bf16.numPages = 0;
  CHECK(*bf16.pagesForBudget(2048 * 5) == 5);
  // Capped to the int32 slot range; errors.
  CacheShape tiny = fp8Shape(ElementType::E4M3);
  tiny.kvHeads = tiny.headDim = tiny.numLayers = 1;
  CHECK(*tiny.pagesForBudget(int64_t(1) << 40) ==
        std::numeric_limits<int32_t>::max() / tiny.pageSize);
  CHECK(tiny.pagesForBudget(-1).status().code() == ErrorCode::InvalidArgument);
  tiny.headDim = 0;
  CHECK(tiny.pagesForBudget(1 << 20).status().code() ==
        ErrorCode::InvalidArgument);

  // The doubled pool really holds twice the tokens: 4 bf16 pages of 4
  // tokens in 8 KiB, 8 fp8 pages.
  const int64_t budget = 4 * 2048;
  for (ElementType type : kFp8Types) {
    INFO(elementTypeName(type));
    KVCacheConfig small, large;
    small.shape = fp8Shape(ElementType::BF16);
    small.shape.numPages = *small.shape.pagesForBudget(budget);
    large.shape = fp8Shape(type);
    large.shape.numPages = *large.shape.pagesForBudget(budget);
    Expected<KVCache> bf16Cache =
        KVCache::create(small, std::make_unique<HostPageStorage>());
    Expected<KVCache> fp8Cache =
        KVCache::create(large, std::make_unique<HostPageStorage>());
    REQUIRE(bf16Cache.ok());
    REQUIRE(fp8Cache.ok());
    CHECK(bf16Cache->shape().totalBytes() == budget);
    CHECK(fp8Cache->shape().totalBytes() == budget);
    std::vector<int32_t> prompt = iota(8 * 4); // 8 pages
    CHECK(bf16Cache->addSequence(prompt).status().code() ==
          ErrorCode::PoolExhausted);
    REQUIRE(fp8Cache->addSequence(prompt).ok());
    CacheStats stats = fp8Cache->stats();
    CHECK(stats.totalPages == 8);
    CHECK(stats.usedPages == 8);
    CHECK(stats.bytesPerPage == 1024);
    CHECK(stats.usedBytes() == budget);
  }
}

TEST_CASE("fp8 host pages hold every byte value bit-exactly",
          "[kvcache][storage][fp8]") {
  for (ElementType type : kFp8Types) {
    INFO(elementTypeName(type));
    CacheShape shape = fp8Shape(type);
    HostPageStorage storage;
    KV_REQUIRE_OK(storage.allocate(shape));
    // One byte per element: a page of a tensor is pageElements() bytes.
    REQUIRE(shape.pageBytesPerTensor() == shape.pageElements());
    for (int32_t layer = 1; layer < shape.numLayers; ++layer)
      CHECK(storage.keyBytes(layer) - storage.valueBytes(layer - 1) == 6 * 256);
    // Fresh memory is 0xff: NaN in e4m3fn and e5m2.
    for (PageId page = 0; page < shape.numPages; ++page)
      REQUIRE(untouched(storage, page));

    writePattern(storage, 2);
    CHECK(holdsPattern(storage, 2));
    // The neighbours of a written page are not touched.
    CHECK(untouched(storage, 1));
    CHECK(untouched(storage, 3));

    KV_REQUIRE_OK(storage.copyPage(2, 5));
    CHECK(holdsPattern(storage, 5));
    CHECK(holdsPattern(storage, 2));
    CHECK(untouched(storage, 4));
    for (PageId page : {0, 1, 3, 4})
      CHECK(untouched(storage, page));
    // The byte views are the same memory as the tensors.
    CHECK(storage.keyBytes(1) == storage.keyCache(1));
    CHECK(storage.valueBytes(0)[5 * 256 + 7] == patternByte(1, 7));
  }
}

TEST_CASE("fp8 pages survive a copy-on-write bit-exactly",
          "[kvcache][storage][fp8]") {
  for (ElementType type : kFp8Types) {
    INFO(elementTypeName(type));
    KVCacheConfig config;
    config.shape = fp8Shape(type);
    Expected<KVCache> cache =
        KVCache::create(config, std::make_unique<HostPageStorage>());
    REQUIRE(cache.ok());
    auto &storage = static_cast<HostPageStorage &>(cache->storage());

    // Pages 0 (full) and 1 (2 of 4 tokens); write every byte of page 1.
    Expected<AddedSequence> parent = cache->addSequence(iota(6));
    REQUIRE(parent.ok());
    REQUIRE(tableOf(cache->blockManager(), parent->id) ==
            std::vector<PageId>{0, 1});
    writePattern(storage, 1);
    Expected<SeqId> child = cache->fork(parent->id);
    REQUIRE(child.ok());

    // The child writes into the shared, partly filled page 1: the storage
    // copies it first.
    Expected<Appended> step = cache->append(*child, {100});
    REQUIRE(step.ok());
    REQUIRE(step->copy.has_value());
    CHECK(step->copy->src == 1);
    PageId copy = step->copy->dst;
    CHECK(copy == 2);
    CHECK(step->slots == std::vector<Slot>{Slot{copy, 2}});
    CHECK(holdsPattern(storage, copy));
    CHECK(holdsPattern(storage, 1));
    for (PageId page = 3; page < config.shape.numPages; ++page)
      CHECK(untouched(storage, page));

    // The child's new row lands in its copy only: one byte per element.
    const int64_t rowBytes = config.shape.rowElements();
    uint8_t *row = storage.keyBytes(0) + step->slots[0].flat(4) * rowBytes;
    std::memset(row, 0x7f, rowBytes);
    CHECK(holdsPattern(storage, 1));
    CHECK(storage.keyBytes(0)[copy * 256 + 2 * rowBytes] == 0x7f);
    CHECK(storage.keyBytes(0)[copy * 256 + 2 * rowBytes - 1] ==
          patternByte(0, 2 * rowBytes - 1));
    CHECK(storage.keyBytes(0)[copy * 256 + 3 * rowBytes] ==
          patternByte(0, 3 * rowBytes));
    KV_REQUIRE_OK(cache->blockManager().verify());
  }
}
