//===- KernelTiming.cpp - Time a kernel the way a benchmark should --------===//
#include "tune/KernelTiming.h"
#include "tune/StagedTensors.h"

#include <algorithm>
#include <memory>
#include <vector>

using namespace attnc;

size_t attnc::stagedBytes(const AttentionTensors &t) {
  size_t bytes = 0;
  for (const TensorRef *ref :
       {&t.q, &t.o, &t.lse, &t.qoIndptr, &t.k, &t.v, &t.kvIndptr, &t.kCache,
        &t.vCache, &t.blockTable, &t.kvLens})
    if (!ref->absent())
      bytes += ref->bytes();
  for (const auto &[name, ref] : t.params)
    if (!ref.absent())
      bytes += ref.bytes();
  return bytes;
}

int attnc::inputSetsToRotate(size_t setBytes, size_t cacheBytes,
                             size_t budgetBytes, bool &cleared) {
  cleared = true;
  if (cacheBytes == 0 || setBytes == 0)
    return 1;
  // Between two uses of a copy, the other (sets - 1) copies stream through
  // the cache; twice its size evicts what the first use left behind.
  size_t wanted = 1 + (2 * cacheBytes + setBytes - 1) / setBytes;
  size_t affordable = std::max<size_t>(1, budgetBytes / setBytes);
  // Past a few hundred copies the per-copy staging costs more than it tells.
  constexpr size_t maxSets = 256;
  size_t sets = std::min({wanted, affordable, maxSets});
  cleared = sets == wanted;
  return static_cast<int>(sets);
}

namespace {
Status checkOptions(const TimingOptions &options) {
  if (options.repeat < 1 || options.warmup < 0)
    return Status::error(ErrorCode::InvalidArgument,
                         "timing needs at least one repeat and no negative "
                         "warm-up count");
  return Status::success();
}
} // namespace

Expected<std::unique_ptr<RotatedInputs>>
RotatedInputs::stage(Backend &backend, const KernelInfo &info,
                     const AttentionInputs &inputs, size_t budgetBytes) {
  std::unique_ptr<RotatedInputs> rotated(new RotatedInputs());
  rotated->info = info;
  auto stageOne = [&]() -> Status {
    rotated->staged.push_back(
        std::make_unique<StagedTensors>(backend, rotated->info));
    rotated->tensors.emplace_back();
    return rotated->staged.back()->stage(inputs, rotated->tensors.back());
  };
  if (Status s = stageOne(); !s.ok())
    return s;
  int sets =
      inputSetsToRotate(stagedBytes(rotated->tensors.front()),
                        backend.cacheBytes(), budgetBytes, rotated->cleared);
  while (static_cast<int>(rotated->tensors.size()) < sets)
    if (Status s = stageOne(); !s.ok())
      return s;
  return rotated;
}

Expected<TimingResult> attnc::timeKernel(Runtime &runtime, const Kernel &kernel,
                                         const KernelInfo &info,
                                         const AttentionInputs &inputs,
                                         const TimingOptions &options) {
  if (Status s = checkOptions(options); !s.ok())
    return s;
  Expected<std::unique_ptr<RotatedInputs>> rotated = RotatedInputs::stage(
      runtime.backend(), info, inputs, options.rotationBudgetBytes);
  if (!rotated)
    return rotated.takeStatus();
  return timeKernel(runtime, kernel, **rotated, options);
}

Expected<TimingResult> attnc::timeKernel(Runtime &runtime, const Kernel &kernel,
                                         const RotatedInputs &inputs,
                                         const TimingOptions &options) {
  if (Status s = checkOptions(options); !s.ok())
    return s;
  Backend &backend = runtime.backend();
  TimingResult result;
  result.inputSets = static_cast<int>(inputs.sets().size());
  result.cacheCleared = inputs.cacheCleared();
  result.clock = std::string(backend.name()) == "cuda" ? "CUDA events"
                                                       : "host clock (sim)";

  // Validation reads the index tensors back to the host: planned here, so
  // that the timed bracket holds the launches alone.
  // A runtime block mask depends on the lengths and params alone, which
  // every set shares: built once, outside the timed launches (a model
  // builds it once for all its layers).
  std::shared_ptr<const BlockMask> blockMask;
  if (kernel.info.hasBlockMask() && !inputs.sets().empty()) {
    Expected<std::shared_ptr<const BlockMask>> built =
        runtime.buildBlockMask(kernel, inputs.sets().front());
    if (!built)
      return built.takeStatus();
    blockMask = built.takeValue();
  }
  std::vector<LaunchPlan> plans;
  for (AttentionTensors set : inputs.sets()) {
    set.blockMask = blockMask.get();
    Expected<LaunchPlan> plan = runtime.plan(kernel, set, options.numSplits);
    if (!plan)
      return plan.takeStatus();
    plans.push_back(plan.takeValue());
  }
  Expected<std::unique_ptr<StreamTimer>> timer = backend.createTimer();
  if (!timer)
    return timer.takeStatus();
  size_t next = 0;
  for (int w = 0; w < options.warmup; ++w)
    if (Status s = runtime.launch(plans[next++ % plans.size()]); !s.ok())
      return s;
  if (Status s = backend.synchronize(nullptr); !s.ok())
    return s;
  std::vector<double> times;
  for (int r = 0; r < options.repeat; ++r) {
    const LaunchPlan &plan = plans[next++ % plans.size()];
    Status s = (*timer)->start(nullptr);
    if (s.ok())
      s = runtime.launch(plan);
    if (s.ok())
      s = (*timer)->stop(nullptr);
    if (!s.ok())
      return s;
    Expected<double> ms = (*timer)->elapsedMs();
    if (!ms)
      return ms.takeStatus();
    times.push_back(*ms);
  }
  std::sort(times.begin(), times.end());
  result.medianMs = times[times.size() / 2];
  result.minMs = times.front();
  result.maxMs = times.back();
  return result;
}
