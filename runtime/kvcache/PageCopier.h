//===- PageCopier.h - Who copies a page's K/V on copy-on-write ------------===//
//
// The block manager decides *that* a page must be copied; the storage backend
// does the copy where the memory lives (a device-to-device memcpy on cuda, a
// memcpy on the host under sim), so K/V bytes never travel through the host
// just to be duplicated.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_PAGECOPIER_H
#define ATTNC_RUNTIME_KVCACHE_PAGECOPIER_H

#include "runtime/kvcache/Status.h"
#include "runtime/kvcache/Types.h"

namespace attnc::kvcache {

/// Copies every row of page `src` to page `dst`, for K and V of every layer.
class PageCopier {
public:
  virtual ~PageCopier() = default;
  /// May be asynchronous (ordered on the backend's stream before any later
  /// kernel launched on it); must not fail silently.
  virtual Status copyPage(PageId src, PageId dst) = 0;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_PAGECOPIER_H
