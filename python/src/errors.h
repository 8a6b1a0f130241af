//===- errors.h - attnc's Status values as Python exceptions --------------===//
//
// The C++ side reports errors as values (attnc::Status); the bindings turn
// them into the Python exceptions the package documents, keeping the
// runtime's message (it names the tensor and the problem).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_PYTHON_ERRORS_H
#define ATTNC_PYTHON_ERRORS_H

#include "runtime/core/Status.h"

#include <nanobind/nanobind.h>

#include <string>

namespace attnc::python {

/// attnc.SpecError (a ValueError): a spec that does not check, with its
/// rendered diagnostics.
struct SpecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// attnc.PoolExhaustedError (a RuntimeError): the KV cache has no room.
struct PoolExhaustedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Registers the exception types on the module.
void registerErrors(nanobind::module_ &m);

/// Throws the Python exception for a failed `status`:
///   InvalidInput, InvalidArgument -> ValueError
///   UnknownSequence, NotFound     -> KeyError / LookupError
///   PoolExhausted                 -> PoolExhaustedError
///   OutOfMemory                   -> MemoryError
///   IOError                       -> OSError
///   anything else                 -> RuntimeError
[[noreturn]] void raise(const Status &status);

/// `raise` unless `status` is ok.
inline void check(const Status &status) {
  if (!status.ok())
    raise(status);
}

/// `result`'s value, or `raise` with its status.
template <typename T> T valueOr(Expected<T> result) {
  if (!result)
    raise(result.status());
  return result.takeValue();
}

} // namespace attnc::python

#endif // ATTNC_PYTHON_ERRORS_H
