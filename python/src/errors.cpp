//===- errors.cpp - attnc's Status values as Python exceptions ------------===//
#include "errors.h"

namespace nb = nanobind;

namespace attnc::python {

void registerErrors(nb::module_ &m) {
  nb::exception<SpecError>(m, "SpecError", PyExc_ValueError);
  nb::exception<PoolExhaustedError>(m, "PoolExhaustedError",
                                    PyExc_RuntimeError);
}

/// nanobind names only some builtin exceptions; the others are set here.
[[noreturn]] static void raiseAs(PyObject *type, const std::string &message) {
  PyErr_SetString(type, message.c_str());
  throw nb::python_error();
}

void raise(const Status &status) {
  const std::string &message = status.message();
  switch (status.code()) {
  case ErrorCode::InvalidInput:
  case ErrorCode::InvalidArgument:
    raiseAs(PyExc_ValueError, message);
  case ErrorCode::UnknownSequence:
    raiseAs(PyExc_KeyError, message);
  case ErrorCode::NotFound:
    raiseAs(PyExc_LookupError, message);
  case ErrorCode::PoolExhausted:
    throw PoolExhaustedError(message);
  case ErrorCode::OutOfMemory:
    raiseAs(PyExc_MemoryError, message);
  case ErrorCode::IOError:
    raiseAs(PyExc_OSError, message);
  default:
    raiseAs(PyExc_RuntimeError, status.toString());
  }
}

} // namespace attnc::python
