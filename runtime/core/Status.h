//===- Status.h - Errors as values for the runtime ------------------------===//
//
// The runtime is built without exceptions, so a failing operation returns a
// Status (or an Expected<T> holding either a value or a Status). The error
// code is what callers branch on; the message is what they show to a person.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CORE_STATUS_H
#define ATTNC_RUNTIME_CORE_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace attnc {

/// What went wrong, coarse enough for a caller to branch on.
enum class ErrorCode {
  Ok,
  /// Not enough free or evictable pages for the operation.
  PoolExhausted,
  /// A sequence id that was never issued or has been freed.
  UnknownSequence,
  /// An argument out of range (shapes, sizes, table widths).
  InvalidArgument,
  /// The storage backend could not allocate its memory.
  OutOfMemory,
  /// The storage backend reported a failure (e.g. a driver call).
  BackendError,
  /// An internal consistency check failed; a bug, not a usage error.
  InternalError,
  /// A tensor passed to a kernel does not fit the spec or the contract
  /// (shape, dtype, indptr, block table).
  InvalidInput,
  /// A spec, kernel or file that does not exist.
  NotFound,
  /// A spec that does not check, or source the compiler rejects.
  CompileError,
  /// A kernel launch that failed.
  LaunchError,
  /// A backend that is not available here (no GPU, no driver).
  Unavailable,
  /// Reading or writing a file failed, or its contents are malformed.
  IOError,
};

/// A short, stable name for `code`, e.g. "pool exhausted".
const char *errorCodeName(ErrorCode code);

/// Success, or an error code with a human-readable message.
class [[nodiscard]] Status {
public:
  Status() = default;

  static Status success() { return Status(); }
  static Status error(ErrorCode code, std::string message) {
    assert(code != ErrorCode::Ok && "an error needs an error code");
    return Status(code, std::move(message));
  }

  bool ok() const { return errorCode == ErrorCode::Ok; }
  ErrorCode code() const { return errorCode; }
  const std::string &message() const { return text; }
  /// "<code name>: <message>", or "ok".
  std::string toString() const;

private:
  Status(ErrorCode code, std::string message)
      : errorCode(code), text(std::move(message)) {}

  ErrorCode errorCode = ErrorCode::Ok;
  std::string text;
};

/// A value of type T, or the Status that explains why there is none.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : storage(std::move(value)) {}
  Expected(Status status) : err(std::move(status)) {
    assert(!err.ok() && "an Expected without a value needs an error");
  }

  /// True when a value is present.
  explicit operator bool() const { return storage.has_value(); }
  bool ok() const { return storage.has_value(); }

  const Status &status() const { return err; }
  /// The error, moved out (for forwarding it to the caller's caller).
  Status takeStatus() { return std::move(err); }

  T &operator*() {
    assert(storage && "no value: check ok() first");
    return *storage;
  }
  const T &operator*() const {
    assert(storage && "no value: check ok() first");
    return *storage;
  }
  T *operator->() { return &**this; }
  const T *operator->() const { return &**this; }
  T takeValue() { return std::move(**this); }

private:
  std::optional<T> storage;
  Status err;
};

} // namespace attnc

#endif // ATTNC_RUNTIME_CORE_STATUS_H
