//===- Status.h - The runtime's error values, as the KV cache uses them ---===//
#ifndef ATTNC_RUNTIME_KVCACHE_STATUS_H
#define ATTNC_RUNTIME_KVCACHE_STATUS_H

#include "runtime/core/Status.h"

namespace attnc::kvcache {
using attnc::ErrorCode;
using attnc::errorCodeName;
using attnc::Expected;
using attnc::Status;
} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_STATUS_H
