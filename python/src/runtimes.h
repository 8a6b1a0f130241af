//===- runtimes.h - One attnc Runtime per backend, shared by the process --===//
//
// A Runtime owns a backend (a CUDA context, or the emulator) and its kernel
// cache; every compiled spec of the process shares the one for its
// (backend, device, cache directory), so a kernel loaded for one spec is
// never loaded twice and CUDA contexts are retained once.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_PYTHON_RUNTIMES_H
#define ATTNC_PYTHON_RUNTIMES_H

#include "runtime/api/Runtime.h"

#include <memory>
#include <string>

namespace attnc::python {

/// The runtime for `backend` ("auto", "sim" or "cuda") on CUDA device
/// `device` with kernel cache `cacheDir` (empty: the default), created on
/// first use. "auto" resolves once per process: the runtime it returns is
/// the cuda or sim one. Errors (no GPU for "cuda", a cache directory that
/// is not private) come back as the Status.
Expected<std::shared_ptr<Runtime>> sharedRuntime(const std::string &backend,
                                                 int device,
                                                 const std::string &cacheDir);

/// ValueError unless `backend` is "auto", "sim" or "cuda" (what compile()
/// and tune() take).
void checkBackendName(const std::string &backend);

} // namespace attnc::python

#endif // ATTNC_PYTHON_RUNTIMES_H
