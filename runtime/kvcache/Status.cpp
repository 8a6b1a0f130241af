//===- Status.cpp - Errors as values for the runtime ----------------------===//

#include "runtime/kvcache/Status.h"

namespace attnc::kvcache {

const char *errorCodeName(ErrorCode code) {
  switch (code) {
  case ErrorCode::Ok:
    return "ok";
  case ErrorCode::PoolExhausted:
    return "pool exhausted";
  case ErrorCode::UnknownSequence:
    return "unknown sequence";
  case ErrorCode::InvalidArgument:
    return "invalid argument";
  case ErrorCode::OutOfMemory:
    return "out of memory";
  case ErrorCode::BackendError:
    return "backend error";
  case ErrorCode::InternalError:
    return "internal error";
  }
  return "unknown error";
}

std::string Status::toString() const {
  if (ok())
    return "ok";
  return std::string(errorCodeName(errorCode)) + ": " + text;
}

} // namespace attnc::kvcache
