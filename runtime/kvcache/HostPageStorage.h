//===- HostPageStorage.h - K/V pages in host memory (sim backend) ---------===//
#ifndef ATTNC_RUNTIME_KVCACHE_HOSTPAGESTORAGE_H
#define ATTNC_RUNTIME_KVCACHE_HOSTPAGESTORAGE_H

#include "runtime/kvcache/PageStorage.h"

#include <cstdint>

namespace attnc::kvcache {

/// The page pool in one host allocation: layer l's k_cache, then its
/// v_cache, for l = 0, 1, ... Each tensor starts on a 256-byte boundary, as
/// device allocations do, so vectorized loads behave the same under sim.
/// Storage is byte-based: a page of a tensor is shape.pageBytesPerTensor()
/// bytes, so 1-byte (fp8) elements take half the memory of 2-byte ones.
class HostPageStorage final : public PageStorage {
public:
  HostPageStorage() = default;
  HostPageStorage(const HostPageStorage &) = delete;
  HostPageStorage &operator=(const HostPageStorage &) = delete;
  ~HostPageStorage() override;

  Status allocate(const CacheShape &shape) override;
  Status copyPage(PageId src, PageId dst) override;
  MemoryKind memoryKind() const override { return MemoryKind::Host; }
  const CacheShape &shape() const override { return cacheShape; }
  void *keyCache(int32_t layer) const override { return tensor(layer, 0); }
  void *valueCache(int32_t layer) const override { return tensor(layer, 1); }

  /// Byte views of the same memory: the elements' raw bits, whatever the
  /// element type (2 bytes each for f16 / bf16, 1 for fp8);
  /// shape().pageBytesPerTensor() bytes per page.
  uint8_t *keyBytes(int32_t layer) const {
    return static_cast<uint8_t *>(keyCache(layer));
  }
  uint8_t *valueBytes(int32_t layer) const {
    return static_cast<uint8_t *>(valueCache(layer));
  }

private:
  /// `which` 0 is K, 1 is V.
  void *tensor(int32_t layer, int which) const;

  CacheShape cacheShape;
  /// Distance between consecutive tensors: tensorBytes rounded up to 256.
  int64_t tensorStride = 0;
  unsigned char *memory = nullptr;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_HOSTPAGESTORAGE_H
