//===- Tuner.cpp - Time a spec's configurations, keep the best ------------===//
#include "tune/Tuner.h"

#include "dialect/MLIRGen.h"
#include "interp/Interpreter.h"
#include "runtime/jit/Nvrtc.h"

#include "mlir/IR/MLIRContext.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

using namespace attnc;

std::string TuneShape::describe() const {
  return std::to_string(batch) + ":" + std::to_string(qLen) + ":" +
         std::to_string(kvLen);
}

std::string TimedConfig::describe() const {
  return config.describe() +
         (config.path == "decode" ? " splits " + splitsLabel(splits) : "");
}

Tuner::Tuner(Runtime &runtime, JitKernels &jit, TuneSpace space)
    : runtime(runtime), jit(jit), space(std::move(space)),
      context(std::make_unique<mlir::MLIRContext>()) {
  if (this->space.tiles.empty())
    for (int bq : {16, 32, 64, 128})
      for (int bkv : {16, 32, 64, 128})
        this->space.tiles.push_back({bq, bkv});
  for (const std::string &path : this->space.paths)
    for (auto [bq, bkv] : this->space.tiles)
      for (int stages : this->space.stages)
        for (int rows : this->space.rowsPerWarp) {
          // Br = 0 (the default) resolves later; rows 16 is its default.
          if (rows < 16 || rows % 16 != 0 || (bq == 0 && rows != 16) ||
              (bq > 0 && bq % rows != 0))
            continue;
          TuneCandidate c;
          c.config.path = path;
          c.config.blockQ = bq;
          c.config.blockKV = bkv;
          c.config.stages = stages;
          c.config.warps = bq > 0 && rows != 16 ? bq / rows : 0;
          candidates.push_back(std::move(c));
        }
}

Tuner::~Tuner() = default;

Status Tuner::prepare(const StepFn &step) {
  Backend &backend = runtime.backend();
  bool sim = std::string(backend.name()) == "sim";
  std::string arch = sim ? "sm_80" : backend.architecture();
  // Lowering shares the MLIR context, so it runs here, one candidate after
  // the other; the compilers (NVRTC, and the host compiler for sim) run in
  // parallel workers.
  std::set<std::tuple<std::string, int, int, int, int>> seen;
  for (TuneCandidate &c : candidates) {
    Expected<CompiledVariant> compiled = jit.variant(c.config);
    if (!compiled) {
      c.pruned = compiled.status().message();
      continue;
    }
    c.variant = compiled.takeValue();
    // A size of 0 asks for the default: record what it resolved to.
    c.config.blockQ = c.variant.info.blockQ;
    c.config.blockKV = c.variant.info.blockKV;
    c.config.warps = c.variant.info.threads / 32;
    // Two asks can resolve to one kernel (a column-warp kernel's warps do
    // not follow the rows per warp): compile and time it once.
    auto resolved =
        std::make_tuple(c.config.path, c.config.blockQ, c.config.blockKV,
                        c.config.stages, c.config.warps);
    if (!seen.insert(resolved).second)
      c.pruned = "the same kernel as an earlier candidate";
  }
  int sharedLimit = jit::maxSharedBytesOptin(arch);
  std::mutex stepMutex;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < candidates.size(); i = next++) {
      TuneCandidate &c = candidates[i];
      if (c.pruned.empty()) {
        jit::NvrtcOptions nvrtc;
        nvrtc.arch = arch;
        nvrtc.includeDirs = jit::defaultIncludeDirs();
        jit::NvrtcResult result =
            jit::compileWithNvrtc(c.variant.cuda, "tune.cu", nvrtc);
        if (!result.ok)
          c.pruned = "NVRTC failed";
        for (const jit::KernelResources &k : result.resources) {
          c.registers = std::max(c.registers, k.registers);
          if (k.spillStoreBytes > 0 || k.spillLoadBytes > 0)
            c.pruned = std::to_string(k.spillStoreBytes + k.spillLoadBytes) +
                       " bytes of spills";
        }
        if (c.variant.info.sharedBytes > sharedLimit)
          c.pruned = std::to_string(c.variant.info.sharedBytes) +
                     " bytes of shared memory, over " + arch + "'s " +
                     std::to_string(sharedLimit);
      }
      // Build what the backend loads now, in parallel, so that loading it
      // for timing is a cache hit (the runtime's cache directory).
      if (c.pruned.empty()) {
        Status built = backend.precompile(c.variant.cuda, c.variant.info);
        if (!built.ok())
          c.pruned = "the backend could not build it: " + built.message();
      }
      if (step) {
        std::lock_guard<std::mutex> lock(stepMutex);
        step(c.config.describe() + ": " +
             (c.pruned.empty()
                  ? "compiled (" + std::to_string(c.registers) + " registers)"
                  : "pruned (" + c.pruned + ")"));
      }
    }
  };
  unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back(worker);
  for (std::thread &t : pool)
    t.join();
  return Status::success();
}

std::vector<std::pair<const TuneCandidate *, int>>
Tuner::runsFor(const TuneShape &shape) const {
  // Every surviving kernel, and each decode kernel once per split count
  // that leaves no split without a KV tile.
  std::vector<std::pair<const TuneCandidate *, int>> runs;
  for (const TuneCandidate &c : candidates) {
    if (!c.pruned.empty() || c.variant.cuda.empty())
      continue;
    if (c.config.path != "decode") {
      runs.push_back({&c, 0});
      continue;
    }
    const int64_t blockKV = c.variant.info.blockKV;
    int64_t kvTiles = (shape.kvLen + blockKV - 1) / blockKV;
    for (int splits : space.splits)
      if (splits <= kvTiles)
        runs.push_back({&c, splits});
  }
  return runs;
}

size_t Tuner::runCount(const TuneShape &shape) const {
  return runsFor(shape).size();
}

Expected<std::vector<TimedConfig>> Tuner::time(const TuneShape &shape,
                                               const StepFn &step) {
  if (shape.batch < 1 || shape.qLen < 1 || shape.kvLen < 1)
    return Status::error(ErrorCode::InvalidArgument,
                         "a tuning shape needs at least one sequence, query "
                         "and key, got " +
                             shape.describe());
  std::vector<std::pair<const TuneCandidate *, int>> runs = runsFor(shape);
  if (runs.empty())
    return Status::error(ErrorCode::InvalidArgument,
                         "every candidate was pruned (or prepare() was not "
                         "called)");
  mlir::OwningOpRef<mlir::ModuleOp> reference =
      buildModule(*context, jit.module());
  if (!reference)
    return Status::error(ErrorCode::InternalError,
                         "the IR built from the spec does not verify");
  RandomInputSpec spec;
  spec.qLens.assign(shape.batch, shape.qLen);
  spec.kvLens.assign(shape.batch, shape.kvLen);
  spec.seed = 1;
  std::string error;
  mlir::FailureOr<AttentionInputs> inputs = makeRandomInputs(
      *reference->getOps<attn::KernelOp>().begin(), spec, error);
  if (mlir::failed(inputs))
    return Status::error(ErrorCode::InvalidArgument, error);

  // One staging per shape: every variant reads the same tensors.
  Expected<std::unique_ptr<RotatedInputs>> staged =
      RotatedInputs::stage(runtime.backend(), jit.info(), *inputs);
  if (!staged)
    return staged.takeStatus();

  std::vector<TimedConfig> timed;
  for (auto [c, splits] : runs) {
    Expected<Kernel> kernel = runtime.load(c->variant.cuda, c->variant.info);
    if (!kernel)
      return kernel.takeStatus();
    TimingOptions timing;
    timing.warmup = space.warmup;
    timing.repeat = space.repeat;
    timing.numSplits = splits;
    TimedConfig t{c->config, splits, {}};
    Expected<TimingResult> result =
        timeKernel(runtime, *kernel, **staged, timing);
    if (!result)
      return Status::error(result.status().code(),
                           shape.describe() + " " + t.describe() + ": " +
                               result.status().message());
    t.timing = *result;
    if (step) {
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.3f ms", t.timing.medianMs);
      step(shape.describe() + " " + t.describe() + ": " + ms);
    }
    timed.push_back(std::move(t));
  }
  std::stable_sort(timed.begin(), timed.end(),
                   [](const TimedConfig &a, const TimedConfig &b) {
                     return a.timing.medianMs < b.timing.medianMs;
                   });
  return timed;
}

TunedConfig Tuner::entry(const TuneShape &shape,
                         const TimedConfig &best) const {
  TunedConfig c;
  c.spec = jit.fingerprint();
  c.kernel = jit.module().specs.front().name;
  c.device = runtime.backend().describe();
  c.bucket = shapeBucket(shape.batch, shape.qLen, shape.kvLen);
  c.path = best.config.path;
  c.blockQ = best.config.blockQ;
  c.blockKV = best.config.blockKV;
  c.stages = best.config.stages;
  c.warps = best.config.warps;
  c.splits = best.splits;
  c.ms = best.timing.medianMs;
  return c;
}

JitKernels::Options attnc::withAutotuning(JitKernels::Options options,
                                          TuneSpace space, Tuner::StepFn step) {
  options.tuneOnMiss = [space,
                        step](JitKernels &jit, int64_t batch, int64_t maxQLen,
                              int64_t maxKVLen) -> Expected<TunedConfig> {
    Tuner tuner(jit.runtimeRef(), jit, space);
    if (Status s = tuner.prepare(step); !s.ok())
      return s;
    TuneShape shape{batch, maxQLen, maxKVLen};
    Expected<std::vector<TimedConfig>> ranking = tuner.time(shape, step);
    if (!ranking)
      return ranking.takeStatus();
    return tuner.entry(shape, ranking->front());
  };
  return options;
}
