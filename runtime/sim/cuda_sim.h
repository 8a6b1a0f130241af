//===- cuda_sim.h - Compile CUDA kernel source with the host compiler -----===//
//
// Included (or -include'd) before a kernel source compiled with -DATTNC_SIM,
// it makes the CUDA dialect plain C++:
//
//   - execution-space keywords (__global__, __device__, ...) vanish;
//   - threadIdx / blockIdx / blockDim / gridDim read the running fiber's
//     identity;
//   - __shared__ variables become `static thread_local`: one block runs at a
//     time on a host thread, so all its fibers see one copy and blocks on
//     other host threads see their own;
//   - __syncthreads, shuffles, votes and atomics go to the sim runtime;
//   - __half / __nv_bfloat16 and their conversions round like the GPU.
//
// Dynamic shared memory is declared with ATTNC_DYNAMIC_SMEM from the device
// library (runtime/device/memory.cuh), which means the same on both paths.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_CUDA_SIM_H
#define ATTNC_RUNTIME_SIM_CUDA_SIM_H

#include "Atomics.h"
#include "Counters.h"
#include "DeviceMath.h"
#include "HalfTypes.h"
#include "ThreadContext.h"
#include "VectorTypes.h"
#include "WarpIntrinsics.h"

#include <cassert>
#include <cstdio>

#define __global__
#define __device__
#define __host__
#define __forceinline__ __inline__
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __shared__ static thread_local
#define __constant__
#define __grid_constant__

#define threadIdx (::attnc::sim::detail::currentThread->threadIdx)
#define blockIdx (::attnc::sim::detail::currentThread->blockIdx)
#define blockDim (::attnc::sim::detail::currentThread->blockDim)
#define gridDim (::attnc::sim::detail::currentThread->gridDim)

constexpr int warpSize = 32;

inline void __syncthreads() { attnc::sim::detail::syncThreads(); }
inline int __syncthreads_count(int pred) {
  return attnc::sim::detail::syncThreadsReduce(pred, 0);
}
inline int __syncthreads_and(int pred) {
  return attnc::sim::detail::syncThreadsReduce(pred, 1);
}
inline int __syncthreads_or(int pred) {
  return attnc::sim::detail::syncThreadsReduce(pred, 2);
}

[[noreturn]] inline void __trap() { attnc::sim::detail::trap("__trap()"); }

template <typename T> T __ldg(const T *p) { return *p; }

#endif // ATTNC_RUNTIME_SIM_CUDA_SIM_H
