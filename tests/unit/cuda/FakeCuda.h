//===- FakeCuda.h - Control interface of the fake driver library ----------===//
//
// attnc_fake_cuda is a stand-in libcuda for machines without a GPU: the
// driver entry points attnc uses, implemented over host memory, with the
// checks a real driver makes that catch misuse (a current context, live
// handles, ranges inside an allocation, the dynamic shared memory opt-in).
// It runs no kernels; cuLaunchKernel records its configuration and argument
// bytes. Tests load it with CudaDriver::load() and steer and inspect it
// through the two C functions below, found with dlsym on the same library.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_CUDA_FAKECUDA_H
#define ATTNC_TESTS_UNIT_CUDA_FAKECUDA_H

#include "runtime/device/kernel_args.h"

#include <cstddef>

extern "C" {

struct AttncFakeCudaConfig {
  int initResult = 0; ///< the CUresult cuInit returns
  int deviceCount = 1;
  int ccMajor = 9, ccMinor = 0;
  int smCount = 132;
  int sharedOptin = 232448; ///< 227 KiB, an H100's
  size_t memoryBytes = size_t(1) << 30;
  int l2Bytes = 50 << 20; ///< an H100's
  /// When false, cuGetProcAddress_v2 finds nothing, as on a driver older
  /// than CUDA 12, and the loader must fall back to dlsym.
  bool getProcAddressWorks = true;
};

struct AttncFakeCudaStats {
  int initCalls = 0;
  int primaryContextRefs = 0;
  int liveAllocations = 0;
  size_t liveBytes = 0;
  int liveStreams = 0;
  int liveEvents = 0;
  int liveModules = 0;
  int asyncCopies = 0;
  void *lastAsyncCopyStream = nullptr;
  int launches = 0;
  /// The last cuLaunchKernel.
  unsigned grid[3] = {0, 0, 0};
  unsigned block[3] = {0, 0, 0};
  unsigned sharedBytes = 0;
  void *stream = nullptr;
  char function[128] = {};
  int maxDynamicShared = 0; ///< the launched function's attribute
  attnc::AttnKernelArgs args = {};
  /// Different AttnKernelArgs::q pointers launched since the reset.
  int distinctQueryTensors = 0;
};

/// Resets every handle, allocation and counter and applies `config`.
typedef void (*AttncFakeCudaResetFn)(const AttncFakeCudaConfig *config);
/// Copies the counters out.
typedef void (*AttncFakeCudaStatsFn)(AttncFakeCudaStats *stats);
}

#endif // ATTNC_TESTS_UNIT_CUDA_FAKECUDA_H
