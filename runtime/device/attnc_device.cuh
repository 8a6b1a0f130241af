//===- attnc_device.cuh - The whole attnc device library ------------------===//
//
// What a generated kernel includes. On CUDA it needs only
// --include-path=<runtime/device> and the CUDA include directory (for
// cuda_fp16.h / cuda_bf16.h); under sim, -DATTNC_SIM as well, which pulls in
// runtime/sim/cuda_sim.h.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_ATTNC_DEVICE_CUH
#define ATTNC_DEVICE_ATTNC_DEVICE_CUH

#include "convert.cuh"
#include "cp_async.cuh"
#include "dsl_math.cuh"
#include "fp8.cuh"
#include "fragment.cuh"
#include "ldmatrix.cuh"
#include "memory.cuh"
#include "mma.cuh"
#include "numeric.cuh"
#include "types.cuh"
#include "warp_reduce.cuh"

#endif // ATTNC_DEVICE_ATTNC_DEVICE_CUH
