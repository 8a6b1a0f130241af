//===- EmitAot.h - attnc --emit=aot: a registry file of compiled kernels --===//
#ifndef ATTNC_TOOLS_ATTNC_EMITAOT_H
#define ATTNC_TOOLS_ATTNC_EMITAOT_H

#include "runtime/core/KernelInfo.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace attnc {

/// Compiles `cuda` with NVRTC for each of `archs` and prints a C++ file that
/// registers every kernel of `kernels` with runtime/aot/Registry.h: its
/// source, its KernelInfo and its cubins. Returns false (and prints the
/// reason) if NVRTC fails.
bool emitAotRegistry(const std::string &specFile, const std::string &cuda,
                     const std::vector<KernelInfo> &kernels,
                     const std::vector<std::string> &archs,
                     llvm::raw_ostream &out);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTNC_EMITAOT_H
