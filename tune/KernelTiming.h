//===- KernelTiming.h - Time a kernel the way a benchmark should ----------===//
//
// Shared by `attnc run --time`, the tuner and bench/: warm-up runs, then
// repeats each bracketed by the backend's timer (CUDA events on a GPU), with
// the inputs staged several times over and rotated so that a run reads its
// tensors from memory rather than from the L2 its predecessor filled.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TUNE_KERNELTIMING_H
#define ATTNC_TUNE_KERNELTIMING_H

#include "interp/Interpreter.h"
#include "runtime/api/Runtime.h"
#include "tune/StagedTensors.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace attnc {

struct TimingOptions {
  int warmup = 1;  ///< untimed runs first
  int repeat = 10; ///< timed runs; the median is reported
  int numSplits = 0;
  /// Memory the rotated copies may take in all (the first copy included).
  size_t rotationBudgetBytes = size_t(4) << 30;
};

struct TimingResult {
  double medianMs = 0, minMs = 0, maxMs = 0;
  int inputSets = 1; ///< staged copies of the inputs rotated through
  /// False when the budget allowed fewer copies than clearing the cache
  /// needs: part of each run's inputs may come from L2.
  bool cacheCleared = true;
  std::string clock; ///< "CUDA events" or "host clock (sim)"
};

/// Bytes of every tensor staged for one launch.
size_t stagedBytes(const AttentionTensors &tensors);

/// Copies of a set of `setBytes` inputs to rotate through so that the other
/// copies read between two uses of one copy are at least twice `cacheBytes`
/// (1 when there is no cache), within `budgetBytes`. `cleared` says whether
/// the budget allowed that many.
int inputSetsToRotate(size_t setBytes, size_t cacheBytes, size_t budgetBytes,
                      bool &cleared);

/// Inputs staged on a backend as many times as rotating past its cache
/// takes. Every variant of a spec reads the same tensors, so one staging
/// serves all the configurations a tuner times on a shape.
class RotatedInputs {
public:
  RotatedInputs(const RotatedInputs &) = delete;
  RotatedInputs &operator=(const RotatedInputs &) = delete;

  static Expected<std::unique_ptr<RotatedInputs>>
  stage(Backend &backend, const KernelInfo &info, const AttentionInputs &inputs,
        size_t budgetBytes = size_t(4) << 30);
  const std::vector<AttentionTensors> &sets() const { return tensors; }
  /// False when the budget allowed fewer copies than clearing the cache
  /// needs.
  bool cacheCleared() const { return cleared; }

private:
  RotatedInputs() = default;
  KernelInfo info; ///< StagedTensors refers to it
  std::vector<std::unique_ptr<StagedTensors>> staged;
  std::vector<AttentionTensors> tensors;
  bool cleared = true;
};

/// Times `kernel` over `inputs` (options.rotationBudgetBytes is theirs).
Expected<TimingResult> timeKernel(Runtime &runtime, const Kernel &kernel,
                                  const RotatedInputs &inputs,
                                  const TimingOptions &options);

/// Stages `inputs` for `info` on the runtime's backend, then times.
Expected<TimingResult> timeKernel(Runtime &runtime, const Kernel &kernel,
                                  const KernelInfo &info,
                                  const AttentionInputs &inputs,
                                  const TimingOptions &options);

} // namespace attnc

#endif // ATTNC_TUNE_KERNELTIMING_H
