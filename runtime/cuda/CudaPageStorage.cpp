//===- CudaPageStorage.cpp - K/V pages in device memory -------------------===//

#include "runtime/cuda/CudaPageStorage.h"

#include <limits>
#include <string>

namespace attnc::cuda {

using kvcache::CacheShape;
using kvcache::PageId;

Status CudaPageStorage::allocate(const CacheShape &shape) {
  if (!tensors.empty())
    return Status::error(ErrorCode::InvalidArgument,
                         "CUDA page storage is already allocated");
  if (Status s = shape.validate(); !s.ok())
    return s;
  const int64_t bytes = shape.tensorBytes();
  if (static_cast<uint64_t>(bytes) > std::numeric_limits<size_t>::max())
    return Status::error(ErrorCode::OutOfMemory,
                         "page pool tensor larger than the address space");
  std::vector<DeviceBuffer> buffers;
  buffers.reserve(2 * static_cast<size_t>(shape.numLayers));
  for (int64_t t = 0; t < 2 * static_cast<int64_t>(shape.numLayers); ++t) {
    Expected<DeviceBuffer> buffer =
        DeviceBuffer::allocate(device, static_cast<size_t>(bytes));
    if (!buffer.ok()) {
      // `buffers` frees what was allocated so far.
      return Status::error(buffer.status().code(),
                           "page pool of " +
                               std::to_string(shape.totalBytes()) + " bytes (" +
                               std::to_string(shape.numPages) +
                               " pages): " + buffer.status().message());
    }
    // All-ones bits are NaN in every element type (f16, bf16, e4m3fn,
    // e5m2): see HostPageStorage.
    if (Status s = buffer->fill(0xff); !s.ok())
      return s;
    buffers.push_back(buffer.takeValue());
  }
  tensors = std::move(buffers);
  cacheShape = shape;
  return Status::success();
}

void *CudaPageStorage::tensor(int32_t layer, int which) const {
  if (tensors.empty() || layer < 0 || layer >= cacheShape.numLayers)
    return nullptr;
  return tensors[2 * static_cast<size_t>(layer) + which].data();
}

Status CudaPageStorage::copyPage(PageId src, PageId dst) {
  if (tensors.empty())
    return Status::error(ErrorCode::InvalidArgument,
                         "copyPage on unallocated CUDA page storage");
  if (Status s = checkPageCopy(cacheShape, src, dst); !s.ok())
    return s;
  if (Status s = device.makeCurrent(); !s.ok())
    return s;
  // Bytes, not elements: pageElements() * elementBytes() per tensor.
  const size_t pageBytes = static_cast<size_t>(cacheShape.pageBytesPerTensor());
  const DriverApi &api = device.driver().api();
  for (const DeviceBuffer &tensor : tensors) {
    CUresult result = api.memcpyDtoDAsync(
        tensor.devicePtr() + static_cast<size_t>(dst) * pageBytes,
        tensor.devicePtr() + static_cast<size_t>(src) * pageBytes, pageBytes,
        stream);
    if (result != CUDA_SUCCESS)
      return device.check(result, "cuMemcpyDtoDAsync(page " +
                                      std::to_string(src) + " -> " +
                                      std::to_string(dst) + ", " +
                                      std::to_string(pageBytes) + " bytes)");
  }
  return Status::success();
}

Status CudaPageStorage::synchronize() {
  if (Status s = device.makeCurrent(); !s.ok())
    return s;
  return device.check(device.driver().api().streamSynchronize(stream),
                      "cuStreamSynchronize(page copies)");
}

} // namespace attnc::cuda
