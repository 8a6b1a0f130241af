//===- module.cpp - attnc._C: the extension module ------------------------===//
//
// The package's native half. Python (attnc/__init__.py and friends) holds
// the API; this module holds what needs the C++ libraries: compiling specs,
// validated launches, the KV-cache manager and the tuner.
//
//===----------------------------------------------------------------------===//
#include "attention.h"
#include "errors.h"

#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace attnc::python {
void bindKVCache(nb::module_ &m);
void bindTuning(nb::module_ &m);
} // namespace attnc::python

NB_MODULE(_C, m) {
  m.doc() = "attnc's native module: use the attnc package instead.";
  // Compiled specs live in a registry for torch.library ops, which keeps
  // some alive until the interpreter exits; that is not a leak to report.
  nb::set_leak_warnings(false);
  attnc::python::registerErrors(m);
  attnc::python::bindAttention(m);
  attnc::python::bindKVCache(m);
  attnc::python::bindTuning(m);
}
