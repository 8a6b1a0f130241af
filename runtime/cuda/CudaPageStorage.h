//===- CudaPageStorage.h - K/V pages in device memory ---------------------===//
//
// The cuda backend's PageStorage: each layer's k_cache and v_cache is its own
// device allocation, and copy-on-write copies are device-to-device copies
// queued on the stream the kernels run on, so a kernel launched after
// copyPage() sees the copy without any host synchronization.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CUDA_CUDAPAGESTORAGE_H
#define ATTNC_RUNTIME_CUDA_CUDAPAGESTORAGE_H

#include "runtime/cuda/CudaMemory.h"
#include "runtime/kvcache/PageStorage.h"

#include <vector>

namespace attnc::cuda {

class CudaPageStorage final : public kvcache::PageStorage {
public:
  /// Pages live on `device`, which must outlive the storage. Copies are
  /// queued on `stream`: pass the stream the attention kernels are launched
  /// on. The default, the legacy default stream, is ordered against every
  /// blocking stream, so it is always correct, if less concurrent.
  explicit CudaPageStorage(const CudaDevice &device, CUstream stream = nullptr)
      : device(device), stream(stream) {}

  /// Allocates 2 * numLayers tensors of shape.tensorBytes() (numPages *
  /// pageElements() * elementBytes(): 1 byte per element for fp8, 2 for
  /// f16 / bf16) and fills them with 0xff bytes (NaN in f16, bf16, e4m3fn
  /// and e5m2), so a kernel reading a slot nobody wrote shows NaN. On
  /// failure nothing stays allocated.
  Status allocate(const kvcache::CacheShape &shape) override;
  /// Queues one cuMemcpyDtoDAsync of shape.pageBytesPerTensor() bytes per
  /// tensor; returns before the copies finish.
  Status copyPage(kvcache::PageId src, kvcache::PageId dst) override;
  /// Waits for the copies queued so far (the whole stream).
  Status synchronize() override;

  kvcache::MemoryKind memoryKind() const override {
    return kvcache::MemoryKind::Device;
  }
  const kvcache::CacheShape &shape() const override { return cacheShape; }
  void *keyCache(int32_t layer) const override { return tensor(layer, 0); }
  void *valueCache(int32_t layer) const override { return tensor(layer, 1); }

  CUstream copyStream() const { return stream; }

private:
  /// `which` 0 is K, 1 is V.
  void *tensor(int32_t layer, int which) const;

  const CudaDevice &device;
  CUstream stream;
  kvcache::CacheShape cacheShape;
  /// Layer l's K at 2l, its V at 2l + 1.
  std::vector<DeviceBuffer> tensors;
};

} // namespace attnc::cuda

#endif // ATTNC_RUNTIME_CUDA_CUDAPAGESTORAGE_H
