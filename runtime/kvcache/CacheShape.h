//===- CacheShape.h - Sizes of the K/V page pool --------------------------===//
//
// Per layer, k_cache and v_cache are each [numPages, pageSize, kvHeads,
// headDim] of elementBytes(elementType) bytes per element (the tensor
// contract's paged layout): 2 for f16 / bf16, 1 for fp8. Every byte count
// below is derived from elementBytes(), so an fp8 pool takes half the bytes
// of a bf16 pool of the same pages, and a budget holds twice the pages.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_CACHESHAPE_H
#define ATTNC_RUNTIME_KVCACHE_CACHESHAPE_H

#include "runtime/kvcache/Status.h"
#include "runtime/kvcache/Types.h"

#include <cstdint>

namespace attnc::kvcache {

struct CacheShape {
  int32_t numPages = 0;
  int32_t pageSize = 16;
  int32_t kvHeads = 1;
  int32_t headDim = 128;
  int32_t numLayers = 1;
  ElementType elementType = ElementType::F16;

  /// Elements of one token's row: kvHeads * headDim.
  int64_t rowElements() const {
    return static_cast<int64_t>(kvHeads) * headDim;
  }
  /// Elements of one page of one tensor (K or V) of one layer.
  int64_t pageElements() const { return rowElements() * pageSize; }
  /// Bytes of one page of one tensor of one layer.
  int64_t pageBytesPerTensor() const {
    return pageElements() * elementBytes(elementType);
  }
  /// Bytes of one whole tensor (k_cache or v_cache) of one layer.
  int64_t tensorBytes() const { return pageBytesPerTensor() * numPages; }
  /// Bytes a page costs over K and V of every layer.
  int64_t bytesPerPage() const { return pageBytesPerTensor() * 2 * numLayers; }
  /// Bytes a token's slot costs over K and V of every layer.
  int64_t bytesPerToken() const {
    return rowElements() * elementBytes(elementType) * 2 * numLayers;
  }
  /// Bytes of the whole pool.
  int64_t totalBytes() const { return tensorBytes() * 2 * numLayers; }

  /// InvalidArgument unless every size is positive and every offset of the
  /// pool fits in int64 (and slot indices in int32).
  Status validate() const;

  /// The most pages of this shape (numPages ignored) whose K and V over
  /// every layer fit in `budgetBytes`: budgetBytes / bytesPerPage(), capped
  /// so that slot indices stay within int32. 0 when not even one page fits.
  /// Counts page bytes only: an allocator may round each tensor up (host
  /// storage to 256 bytes). InvalidArgument for a negative budget or a
  /// shape whose other sizes validate() rejects.
  Expected<int32_t> pagesForBudget(int64_t budgetBytes) const;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_CACHESHAPE_H
