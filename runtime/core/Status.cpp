//===- Status.cpp - Errors as values for the runtime ----------------------===//

#include "runtime/core/Status.h"

namespace attnc {

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
  case ErrorCode::InvalidInput:
    return "invalid input";
  case ErrorCode::NotFound:
    return "not found";
  case ErrorCode::CompileError:
    return "compile error";
  case ErrorCode::LaunchError:
    return "launch error";
  case ErrorCode::Unavailable:
    return "unavailable";
  case ErrorCode::IOError:
    return "I/O error";
  }
  return "unknown error";
}

std::string Status::toString() const {
  if (ok())
    return "ok";
  return std::string(errorCodeName(errorCode)) + ": " + text;
}

} // namespace attnc
