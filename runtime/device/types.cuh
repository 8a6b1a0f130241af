//===- types.cuh - Fragment types of the attnc device library -------------===//
//
// The device library is a handful of tile primitives that generated kernels
// call: mma.sync, ldmatrix, cp.async, quad/warp reductions, conversions and
// checked memory accesses. Each has a CUDA path (inline PTX or intrinsics;
// no host headers, so NVRTC compiles it) and a sim path (-DATTNC_SIM), where
// the same call runs on the CPU with the GPU's register layouts.
//
// Operand fragments are raw 32-bit registers, exactly what mma.sync takes;
// the element type is a template tag so the right instruction is chosen.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_TYPES_CUH
#define ATTNC_DEVICE_TYPES_CUH

#ifdef ATTNC_SIM
#include "../sim/cuda_sim.h"
/// Plain inline under sim: primitives stay steppable in gdb at -O0.
#define ATTNC_DEVICE inline
#define ATTNC_UNROLL
#define ATTNC_NO_UNROLL
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define ATTNC_DEVICE __device__ __forceinline__
/// Fully unrolls the next loop (constant trip count): per-element tile
/// loops must unroll for their dynamic fragment indices to become
/// registers rather than a stack frame.
#define ATTNC_UNROLL _Pragma("unroll")
#define ATTNC_NO_UNROLL _Pragma("unroll 1")
#endif

namespace attnc::dev {

using f16 = __half;
using bf16 = __nv_bfloat16;

/// A operand of mma.m16n8k16 (16x16, row-major): 8 elements of T per lane
/// in 4 registers. Element (row, col) placement: fragment.cuh.
template <typename T> struct FragA { unsigned x[4]; };

/// B operand of mma.m16n8k16 (16x8, K x N, "col"): 4 elements per lane in 2
/// registers.
template <typename T> struct FragB { unsigned x[2]; };

/// C/D accumulator of mma.m16n8k16 (16x8 fp32): 4 floats per lane.
struct FragC {
  float x[4];
};

} // namespace attnc::dev

#endif // ATTNC_DEVICE_TYPES_CUH
