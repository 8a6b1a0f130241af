//===- Tuner.h - Time a spec's configurations, keep the best --------------===//
//
// The machinery behind `attnc tune` and JIT autotuning. The space: path
// (prefill; packed = GQA heads packed into the tile rows; decode = packed +
// split-KV) × Br × Bc × pipeline depth (K tiles in flight) × warps (rows
// per warp) at compile time, and the split count of decode kernels at run
// time.
//
// prepare() lowers every compile-time candidate, compiles it with NVRTC for
// the device's architecture (sm_80 under sim) in parallel workers and prunes
// what ptxas reports as spilling or over the shared-memory limit (under sim
// and builds what the backend loads, in parallel, so that timing loads it
// from the cache). time() runs every surviving configuration on random
// inputs of a shape with timeKernel() (warm-up, median, CUDA events, inputs
// rotated past the L2) and ranks them.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TUNE_TUNER_H
#define ATTNC_TUNE_TUNER_H

#include "tune/JitKernels.h"
#include "tune/KernelTiming.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mlir {
class MLIRContext;
}

namespace attnc {

struct TuneSpace {
  std::vector<std::string> paths = {"prefill", "packed", "decode"};
  /// (Br, Bc) pairs; empty: 16, 32, 64, 128 × 16, 32, 64, 128.
  std::vector<std::pair<int, int>> tiles;
  std::vector<int> stages = {1, 2};
  /// Query rows per warp (multiples of 16): warps = Br / rows; sizes that
  /// do not divide Br are skipped. 32 reuses each K/V fragment twice.
  std::vector<int> rowsPerWarp = {16, 32};
  /// Decode split counts; 0 is the runtime's choice. Counts above a
  /// shape's number of KV tiles are skipped.
  std::vector<int> splits = {0, 1, 2, 4, 8, 16};
  int warmup = 1, repeat = 3;
};

struct TuneShape {
  int64_t batch = 1, qLen = 1, kvLen = 1;
  std::string describe() const; ///< "B:Q:KV"
};

/// A compile-time candidate after prepare().
struct TuneCandidate {
  KernelConfig config;
  CompiledVariant variant;
  int registers = 0;
  std::string pruned; ///< why it was dropped; empty when it runs
};

/// One configuration timed on one shape.
struct TimedConfig {
  KernelConfig config;
  int splits = 0;
  TimingResult timing;
  std::string describe() const; ///< "decode 64x32 stages 1 splits 4"
};

class Tuner {
public:
  /// One call per finished step, with a line saying what it was.
  using StepFn = std::function<void(const std::string &what)>;

  Tuner(Runtime &runtime, JitKernels &jit, TuneSpace space);
  ~Tuner();

  /// Compile-time candidates (prepare() reports one step for each).
  size_t candidateCount() const { return candidates.size(); }
  Status prepare(const StepFn &step = {});
  const std::vector<TuneCandidate> &prepared() const { return candidates; }

  /// Configurations time() runs on `shape` (one step each).
  size_t runCount(const TuneShape &shape) const;
  /// Every configuration on `shape`, best first; an error when all were
  /// pruned.
  Expected<std::vector<TimedConfig>> time(const TuneShape &shape,
                                          const StepFn &step = {});
  /// The database entry for `best` on `shape`.
  TunedConfig entry(const TuneShape &shape, const TimedConfig &best) const;

private:
  std::vector<std::pair<const TuneCandidate *, int>>
  runsFor(const TuneShape &shape) const;

  Runtime &runtime;
  JitKernels &jit;
  TuneSpace space;
  std::vector<TuneCandidate> candidates;
  std::unique_ptr<mlir::MLIRContext> context; ///< for the reference IR
};

/// `options` made to tune on a miss: select() on a shape bucket the
/// database has no entry for tunes it in-process over `space`, stores the
/// winner (in options.tuningDB when set) and uses it. `step` sees the
/// progress. The first call per bucket pays for compiling and timing.
JitKernels::Options withAutotuning(JitKernels::Options options, TuneSpace space,
                                   Tuner::StepFn step = {});

} // namespace attnc

#endif // ATTNC_TUNE_TUNER_H
