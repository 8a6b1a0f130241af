//===- HostPageStorageTest.cpp - K/V pages in host memory -----------------===//

#include "Fixtures.h"

#include "runtime/kvcache/HostPageStorage.h"
#include "runtime/kvcache/KVCache.h"

#include <cstring>

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
  const uint16_t *k = storage.keys(1);
  for (int64_t i = 0; i < 5 * shape.pageElements(); ++i)
    REQUIRE(k[i] == 0xffff);
  CHECK(storage.allocate(shape).code() == ErrorCode::InvalidArgument);
}

TEST_CASE("host copyPage copies K and V of every layer", "[kvcache][storage]") {
  HostPageStorage storage;
  CacheShape shape = smallShape();
  KV_REQUIRE_OK(storage.allocate(shape));
  const int64_t perPage = shape.pageElements();
  for (int32_t layer = 0; layer < 2; ++layer)
    for (int64_t i = 0; i < perPage; ++i) {
      storage.keys(layer)[1 * perPage + i] = static_cast<uint16_t>(i + layer);
      storage.values(layer)[1 * perPage + i] =
          static_cast<uint16_t>(1000 + i + layer);
    }
  KV_REQUIRE_OK(storage.copyPage(1, 4));
  for (int32_t layer = 0; layer < 2; ++layer) {
    CHECK(std::memcmp(storage.keys(layer) + 4 * perPage,
                      storage.keys(layer) + 1 * perPage, perPage * 2) == 0);
    CHECK(std::memcmp(storage.values(layer) + 4 * perPage,
                      storage.values(layer) + 1 * perPage, perPage * 2) == 0);
    CHECK(storage.keys(layer)[3 * perPage] == 0xffff); // untouched
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
