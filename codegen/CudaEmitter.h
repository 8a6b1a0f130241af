//===- CudaEmitter.h - Print lowered attn IR as CUDA C++ ------------------===//
//
// The emitter is a printer: every op of a lowered `attn.program` becomes a
// few lines of CUDA, in the IR's order. Tile-level ops become calls into the
// device library (runtime/device/attention_tile.cuh); scalar arith/math ops,
// the mask and score regions and the KV address regions become inline C++
// expressions; scf.for/scf.if become loops and branches. The same source
// compiles with NVRTC (sm_80, sm_90) and, with -DATTNC_SIM, with the host
// compiler for the sim backend.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_CUDAEMITTER_H
#define ATTNC_CODEGEN_CUDAEMITTER_H

#include "runtime/core/KernelInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace attnc {

namespace attn {
class KernelOp;
} // namespace attn

/// Prints one lowered kernel (after the attn pipeline) as a CUDA source
/// fragment: the __global__ function and its sim launcher. Fails with a
/// diagnostic on the kernel if the IR is not in lowered form.
mlir::LogicalResult emitKernel(attn::KernelOp kernel, llvm::raw_ostream &os,
                               KernelInfo &info);

/// Prints every kernel of `module` as one CUDA translation unit, with the
/// includes it needs.
mlir::LogicalResult emitCudaModule(mlir::ModuleOp module, llvm::raw_ostream &os,
                                   std::vector<KernelInfo> &infos);

} // namespace attnc

#endif // ATTNC_CODEGEN_CUDAEMITTER_H
