//===- CacheShape.cpp - Sizes of the K/V page pool ------------------------===//

#include "runtime/kvcache/CacheShape.h"

#include <algorithm>
#include <limits>
#include <string>

namespace attnc::kvcache {

Status CacheShape::validate() const {
  if (numPages <= 0 || pageSize <= 0 || kvHeads <= 0 || headDim <= 0 ||
      numLayers <= 0)
    return Status::error(ErrorCode::InvalidArgument,
                         "cache shape sizes must be positive (numPages=" +
                             std::to_string(numPages) +
                             ", pageSize=" + std::to_string(pageSize) +
                             ", kvHeads=" + std::to_string(kvHeads) +
                             ", headDim=" + std::to_string(headDim) +
                             ", numLayers=" + std::to_string(numLayers) + ")");
  constexpr int64_t int32Max = std::numeric_limits<int32_t>::max();
  if (static_cast<int64_t>(numPages) * pageSize > int32Max)
    return Status::error(ErrorCode::InvalidArgument,
                         "numPages * pageSize exceeds the int32 slot range");
  // Check each product before forming it: rowElements() is at most 2^62,
  // the products after it could wrap.
  constexpr int64_t int64Max = std::numeric_limits<int64_t>::max();
  if (rowElements() > int64Max / pageSize / 2 ||
      pageBytesPerTensor() > int64Max / numPages / 2 / numLayers)
    return Status::error(ErrorCode::InvalidArgument,
                         "cache shape overflows a 64-bit byte count");
  return Status::success();
}

Expected<int32_t> CacheShape::pagesForBudget(int64_t budgetBytes) const {
  if (budgetBytes < 0)
    return Status::error(ErrorCode::InvalidArgument,
                         "negative memory budget (" +
                             std::to_string(budgetBytes) + " bytes)");
  // Validate the per-page sizes with a one-page pool, whatever numPages is.
  CacheShape onePage = *this;
  onePage.numPages = 1;
  if (Status status = onePage.validate(); !status.ok())
    return status;
  const int64_t pages = budgetBytes / onePage.bytesPerPage();
  const int64_t maxPages = std::numeric_limits<int32_t>::max() / pageSize;
  return static_cast<int32_t>(std::min(pages, maxPages));
}

} // namespace attnc::kvcache
