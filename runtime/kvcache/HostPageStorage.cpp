//===- HostPageStorage.cpp - K/V pages in host memory (sim backend) -------===//

#include "runtime/kvcache/HostPageStorage.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace attnc::kvcache {

namespace {
constexpr int64_t kAlignment = 256;
} // namespace

HostPageStorage::~HostPageStorage() { std::free(memory); }

Status HostPageStorage::allocate(const CacheShape &shape) {
  if (memory)
    return Status::error(ErrorCode::InvalidArgument,
                         "host page storage is already allocated");
  if (Status status = shape.validate(); !status.ok())
    return status;
  int64_t stride =
      (shape.tensorBytes() + kAlignment - 1) / kAlignment * kAlignment;
  int64_t tensors = 2 * static_cast<int64_t>(shape.numLayers);
  if (stride > std::numeric_limits<int64_t>::max() / tensors ||
      static_cast<uint64_t>(stride * tensors) >
          std::numeric_limits<size_t>::max())
    return Status::error(ErrorCode::OutOfMemory,
                         "page pool larger than the address space");
  size_t bytes = static_cast<size_t>(stride * tensors);
  memory = static_cast<unsigned char *>(std::aligned_alloc(kAlignment, bytes));
  if (!memory)
    return Status::error(ErrorCode::OutOfMemory,
                         "cannot allocate " + std::to_string(bytes) +
                             " bytes of host memory for the page pool");
  // All-ones bits are NaN in every element type: 0xffff in fp16 and bf16,
  // 0xff in fp8 e4m3fn (S.1111.111) and e5m2 (S.11111.11). A kernel that
  // reads a slot nobody wrote produces NaN instead of a plausible zero.
  std::memset(memory, 0xff, bytes);
  cacheShape = shape;
  tensorStride = stride;
  return Status::success();
}

void *HostPageStorage::tensor(int32_t layer, int which) const {
  if (!memory || layer < 0 || layer >= cacheShape.numLayers)
    return nullptr;
  return memory + (2 * static_cast<int64_t>(layer) + which) * tensorStride;
}

Status HostPageStorage::copyPage(PageId src, PageId dst) {
  if (!memory)
    return Status::error(ErrorCode::InvalidArgument,
                         "copyPage on unallocated host page storage");
  if (Status s = checkPageCopy(cacheShape, src, dst); !s.ok())
    return s;
  // Bytes, not elements: pageElements() * elementBytes() per tensor.
  const int64_t pageBytes = cacheShape.pageBytesPerTensor();
  for (int64_t t = 0; t < 2 * static_cast<int64_t>(cacheShape.numLayers); ++t) {
    unsigned char *base = memory + t * tensorStride;
    std::memcpy(base + dst * pageBytes, base + src * pageBytes, pageBytes);
  }
  return Status::success();
}

} // namespace attnc::kvcache
