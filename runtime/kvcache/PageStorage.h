//===- PageStorage.h - Where the K/V pages live ---------------------------===//
//
// The storage half of the paged KV cache: the k_cache / v_cache tensors of
// every layer, on the backend that runs the kernels. Host memory for the sim
// backend (HostPageStorage); device memory for cuda, where copyPage is a
// device-to-device memcpy queued on the storage's stream and synchronize()
// waits for it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_PAGESTORAGE_H
#define ATTNC_RUNTIME_KVCACHE_PAGESTORAGE_H

#include "runtime/kvcache/CacheShape.h"
#include "runtime/kvcache/PageCopier.h"
#include "runtime/kvcache/Status.h"

#include <string>

namespace attnc::kvcache {

/// Which address space the pointers of a PageStorage are in.
enum class MemoryKind { Host, Device };

/// InvalidArgument unless `src` and `dst` are distinct pages of `shape`:
/// the check every PageStorage::copyPage makes before copying.
inline Status checkPageCopy(const CacheShape &shape, PageId src, PageId dst) {
  if (src < 0 || src >= shape.numPages || dst < 0 || dst >= shape.numPages ||
      src == dst)
    return Status::error(ErrorCode::InvalidArgument,
                         "copyPage(" + std::to_string(src) + ", " +
                             std::to_string(dst) + ") with a pool of " +
                             std::to_string(shape.numPages) + " pages");
  return Status::success();
}

/// The K/V page pool of one cache: per layer, k_cache and v_cache laid out
/// [numPages, pageSize, kvHeads, headDim].
class PageStorage : public PageCopier {
public:
  /// Allocates the pool for `shape` (once). The contents are unspecified;
  /// backends fill them with NaN bits where that is cheap, so that a kernel
  /// reading a slot nobody wrote shows up in tests.
  virtual Status allocate(const CacheShape &shape) = 0;

  /// Copies page `src` to `dst` in K and V of every layer (copy-on-write).
  Status copyPage(PageId src, PageId dst) override = 0;

  /// Waits for queued copies. Host storage copies synchronously.
  virtual Status synchronize() { return Status::success(); }

  virtual MemoryKind memoryKind() const = 0;
  /// The shape given to allocate().
  virtual const CacheShape &shape() const = 0;

  /// Base of layer `layer`'s k_cache / v_cache, in memoryKind() memory;
  /// null before allocate() or for a layer out of range.
  virtual void *keyCache(int32_t layer) const = 0;
  virtual void *valueCache(int32_t layer) const = 0;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_PAGESTORAGE_H
