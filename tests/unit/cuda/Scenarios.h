//===- Scenarios.h - Backend scenarios run on the fake and on a GPU -------===//
//
// Each scenario uses the backend through its public API only, against
// whichever driver it is given. `runsKernels` is false for the fake driver,
// whose launches record their configuration but compute nothing; the
// scenarios then skip checking kernel results (the fake tests check the
// recorded launch instead).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_CUDA_SCENARIOS_H
#define ATTNC_TESTS_UNIT_CUDA_SCENARIOS_H

#include "runtime/cuda/CudaDriver.h"
#include "runtime/device/kernel_args.h"

namespace attnc::cuda::test {

/// What the kernel-launch scenario launched, for comparing with what the
/// fake driver recorded.
struct LaunchedScale {
  AttnKernelArgs args;
  CUstream stream = nullptr;
  unsigned gridX = 0;
};

/// Buffers: round trip, offsets, fill, range errors, empty buffers, moves,
/// use from another thread, out of memory.
void runMemoryScenario(const CudaDriver &driver);

/// Compiles the scale kernel with NVRTC, launches it on a stream between
/// two events and checks the output when kernels run.
LaunchedScale runScaleKernelScenario(const CudaDriver &driver,
                                     bool runsKernels);

/// A kernel with 100 KiB of dynamic shared memory, and one asking for more
/// than the device allows.
void runSharedMemoryScenario(const CudaDriver &driver, bool runsKernels);

/// PTX loading, a cubin for another architecture, a missing kernel, bad
/// source, bad launch configurations.
void runModuleErrorScenario(const CudaDriver &driver, bool runsKernels);

/// The device library's fp8 widening (e4m3 and e5m2 to f16 and bf16, the
/// paths the architecture picks: hardware cvt on sm_89+) for every byte
/// value in every position of a word, against the host codec. Compiled
/// always; its results checked when kernels run.
void runFp8WideningScenario(const CudaDriver &driver, bool runsKernels);

/// Source of the fp8 widening kernel (attnc_test_fp8), for compiling it for
/// other architectures.
const char *fp8WideningKernelSource();

/// CudaPageStorage: layout, NaN fill, copyPage on a stream, bad ids, and a
/// copy-on-write driven by KVCache.
void runPageStorageScenario(const CudaDriver &driver);

} // namespace attnc::cuda::test

#endif // ATTNC_TESTS_UNIT_CUDA_SCENARIOS_H
