//===- TuneCommand.cpp - attnc tune: time configurations, keep the best ---===//
//
//   attnc tune SPEC.attn [--kernel NAME] --shapes B:Q:KV[,B:Q:KV...]
//              [--candidates BRxBC,...] [--paths prefill,decode]
//              [--stages 1,2] [--splits auto,1,2,...] [--repeat N]
//              [--warmup N] [--top N] [--db FILE]
//
// The configuration space: path (prefill; decode = GQA heads packed into
// the tile rows + split-KV) × Br × Bc × pipeline depth (K tiles in flight:
// 1, or 2 with attn-prefetch-kv) at compile time, and for decode kernels the
// split count at run time. Warps follow Br (one warp per 16 query rows).
//
// Every compile-time candidate is lowered, compiled with NVRTC for the
// device's architecture (sm_80 under sim) and pruned when ptxas reports
// spills or its shared memory exceeds what a block may have; the rest are
// compiled in parallel workers. Each survivor is then timed on every shape
// by timeKernel (warm-up, median of --repeat runs bracketed by CUDA events,
// inputs rotated past the L2). The winner is stored in the tuning database
// under (spec, device, shape bucket), which `attnc run` consults before its
// heuristics. Under sim the timings are CPU timings of the emulator, and the
// output says so.
//
//===----------------------------------------------------------------------===//
#include "TuneCommand.h"

#include "LoadSpec.h"
#include "dialect/Interpreter.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "runtime/api/Runtime.h"
#include "runtime/jit/HostCompiler.h"
#include "runtime/jit/Nvrtc.h"
#include "runtime/tune/TuningDB.h"
#include "tools/support/KernelTiming.h"
#include "tools/support/Progress.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <sstream>
#include <thread>

using namespace attnc;

namespace {

int fail(const std::string &message) {
  llvm::errs() << "attnc tune: error: " << message << "\n";
  return 1;
}

struct Shape {
  int64_t batch = 1, qLen = 1, kvLen = 1;
  std::string describe() const {
    return std::to_string(batch) + ":" + std::to_string(qLen) + ":" +
           std::to_string(kvLen);
  }
};

bool parseShapes(const std::string &text, std::vector<Shape> &shapes) {
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    Shape s;
    char c1 = 0, c2 = 0;
    std::stringstream one(item);
    if (!(one >> s.batch >> c1 >> s.qLen >> c2 >> s.kvLen) || c1 != ':' ||
        c2 != ':' || s.batch < 1 || s.qLen < 1 || s.kvLen < 1 || !one.eof())
      return false;
    shapes.push_back(s);
  }
  return !shapes.empty();
}

/// Comma-separated items, each accepted by `parse`; false on the first one
/// it rejects (named in `bad`) or when there are none.
template <typename T, typename Parse>
bool parseList(const std::string &text, std::vector<T> &out, std::string &bad,
               Parse parse) {
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    T value;
    if (!parse(item, value)) {
      bad = item;
      return false;
    }
    if (std::find(out.begin(), out.end(), value) == out.end())
      out.push_back(value);
  }
  bad = text;
  return !out.empty();
}

bool parseInt(const std::string &text, int &value) {
  std::stringstream in(text);
  return (in >> value) && in.eof();
}

/// What one compiled kernel is: everything fixed before run time.
using Candidate = KernelConfig;

std::string splitsLabel(int splits) {
  return splits == 0 ? "auto" : std::to_string(splits);
}

/// Shared memory a block may opt into on `arch` (the CUDA C programming
/// guide's table), for pruning.
int sharedLimitBytes(const std::string &arch) {
  if (arch == "sm_90" || arch == "sm_100" || arch == "sm_120")
    return 227 * 1024;
  if (arch == "sm_86" || arch == "sm_89")
    return 99 * 1024;
  return 163 * 1024; // sm_80
}

/// One timed configuration on one shape.
struct Timed {
  const Candidate *candidate;
  int splits;
  TimingResult timing;
};

} // namespace

int attnc::tuneCommand(const TuneOptions &options) {
  std::vector<Shape> shapes;
  if (!parseShapes(options.shapes, shapes))
    return fail("--shapes takes BATCH:Q_LEN:KV_LEN[,...] with positive "
                "numbers, got '" +
                options.shapes + "'");
  std::string bad;
  std::vector<std::pair<int, int>> tiles;
  if (options.candidates.empty()) {
    for (int bq : {16, 32, 64, 128})
      for (int bkv : {16, 32, 64, 128})
        tiles.push_back({bq, bkv});
  } else if (!parseList(options.candidates, tiles, bad,
                        [](const std::string &item, std::pair<int, int> &t) {
                          char x = 0;
                          std::stringstream one(item);
                          return (one >> t.first >> x >> t.second) &&
                                 x == 'x' && one.eof();
                        })) {
    return fail("--candidates takes BRxBC[,...], got '" + bad + "'");
  }
  std::vector<std::string> paths;
  if (!parseList(options.paths, paths, bad,
                 [](const std::string &item, std::string &p) {
                   p = item;
                   return p == "prefill" || p == "decode";
                 }))
    return fail("--paths takes prefill and/or decode, got '" + bad + "'");
  std::vector<int> stageCounts;
  if (!parseList(options.stages, stageCounts, bad,
                 [](const std::string &item, int &n) {
                   return parseInt(item, n) && (n == 1 || n == 2);
                 }))
    return fail("--stages takes 1 and/or 2 (K tiles in flight), got '" + bad +
                "'");
  std::vector<int> splitCounts;
  if (!parseList(options.splits, splitCounts, bad,
                 [](const std::string &item, int &n) {
                   if (item == "auto") {
                     n = 0;
                     return true;
                   }
                   return parseInt(item, n) && n >= 1 && n <= 64;
                 }))
    return fail("--splits takes auto or counts 1..64, got '" + bad + "'");
  if (options.repeat < 1 || options.warmup < 0 || options.top < 1)
    return fail("--repeat and --top must be at least 1, --warmup at least 0");

  std::vector<Candidate> candidates;
  for (const std::string &path : paths)
    for (auto [bq, bkv] : tiles)
      for (int stages : stageCounts)
        candidates.push_back({path, bq, bkv, stages});

  std::string error;
  RuntimeOptions runtimeOptions;
  runtimeOptions.backend = options.backend;
  Expected<std::unique_ptr<Runtime>> runtime = Runtime::create(runtimeOptions);
  if (!runtime)
    return fail(runtime.status().message());
  Backend &backend = (*runtime)->backend();

  JitKernels::Options jitOptions;
  jitOptions.kernel = options.kernel;
  mlir::MLIRContext context;
  std::optional<LoadedSpec> loaded =
      loadSpec(**runtime, context, options.spec, jitOptions, "attnc tune");
  if (!loaded)
    return 1;
  JitKernels &jit = *loaded->jit;
  const std::string &specKey = jit.fingerprint();
  attn::KernelOp referenceKernel = loaded->kernel();

  std::string device = backend.describe();
  bool sim = std::string(backend.name()) == "sim";
  std::string arch = sim ? "sm_80" : backend.architecture();
  llvm::errs() << "attnc tune: " << device << "\n";
  if (sim)
    llvm::errs() << "attnc tune: timings are CPU timings of the SIMT "
                    "emulator, not GPU timings\n";

  Expected<TuningDB> db = TuningDB::load(options.dbPath);
  if (!db)
    return fail(db.status().message());

  // Compile and prune every candidate once; shapes reuse the kernels.
  struct Built {
    Candidate candidate;
    std::string cuda;
    KernelInfo info;
    int registers = 0;
    std::string pruned; ///< why it was dropped, or empty
  };
  std::vector<Built> built;
  // Lowering shares the MLIR context, so it runs here, one candidate after
  // the other; the compilers (NVRTC, and the host compiler for sim) run in
  // parallel workers.
  for (const Candidate &c : candidates) {
    Built b{c, "", {}, 0, ""};
    Expected<CompiledVariant> compiled = jit.variant(c);
    if (!compiled) {
      b.pruned = compiled.status().message();
    } else {
      b.cuda = compiled->cuda;
      b.info = compiled->info;
    }
    built.push_back(std::move(b));
  }
  int sharedLimit = sharedLimitBytes(arch);
  {
    Progress progress("compile", built.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i = next++; i < built.size(); i = next++) {
        Built &b = built[i];
        if (b.pruned.empty()) {
          jit::NvrtcOptions nvrtc;
          nvrtc.arch = arch;
          nvrtc.includeDirs = jit::defaultIncludeDirs();
          jit::NvrtcResult result =
              jit::compileWithNvrtc(b.cuda, "tune.cu", nvrtc);
          if (!result.ok)
            b.pruned = "NVRTC failed";
          for (const jit::KernelResources &k : result.resources) {
            b.registers = std::max(b.registers, k.registers);
            if (k.spillStoreBytes > 0 || k.spillLoadBytes > 0)
              b.pruned = std::to_string(k.spillStoreBytes + k.spillLoadBytes) +
                         " bytes of spills";
          }
          if (b.info.sharedBytes > sharedLimit)
            b.pruned = std::to_string(b.info.sharedBytes) +
                       " bytes of shared memory, over " + arch + "'s " +
                       std::to_string(sharedLimit);
        }
        // Under sim, build the object now (in parallel) so that loading it
        // for timing is a cache hit.
        if (b.pruned.empty() && sim) {
          std::string compileError;
          if (!jit::compileForSim(b.cuda, jit::HostCompileOptions{},
                                  compileError))
            b.pruned = "host compile failed";
        }
        progress.step(
            b.candidate.describe() + ": " +
            (b.pruned.empty()
                 ? "compiled (" + std::to_string(b.registers) + " registers)"
                 : "pruned (" + b.pruned + ")"));
      }
    };
    unsigned workers = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; ++w)
      pool.emplace_back(worker);
    for (std::thread &t : pool)
      t.join();
  }

  // What runs on each shape: every surviving kernel, and each decode kernel
  // once per split count that leaves no split without a KV tile.
  auto runsFor = [&](const Shape &shape) {
    std::vector<std::pair<const Built *, int>> runs;
    for (const Built &b : built) {
      if (!b.pruned.empty())
        continue;
      if (b.candidate.path != "decode") {
        runs.push_back({&b, 0});
        continue;
      }
      int64_t kvTiles =
          (shape.kvLen + b.candidate.blockKV - 1) / b.candidate.blockKV;
      for (int splits : splitCounts)
        if (splits <= kvTiles)
          runs.push_back({&b, splits});
    }
    return runs;
  };
  size_t totalRuns = 0;
  for (const Shape &shape : shapes)
    totalRuns += runsFor(shape).size();
  if (totalRuns == 0)
    return fail("every candidate was pruned");

  std::vector<std::pair<Shape, Timed>> winners;
  std::vector<std::vector<Timed>> rankings;
  {
    Progress progress("time", totalRuns);
    for (const Shape &shape : shapes) {
      RandomInputSpec spec;
      spec.qLens.assign(shape.batch, shape.qLen);
      spec.kvLens.assign(shape.batch, shape.kvLen);
      spec.seed = 1;
      mlir::FailureOr<AttentionInputs> inputs =
          makeRandomInputs(referenceKernel, spec, error);
      if (mlir::failed(inputs))
        return fail(error);
      std::vector<Timed> timed;
      for (auto [b, splits] : runsFor(shape)) {
        Expected<Kernel> kernel = (*runtime)->load(b->cuda, b->info);
        if (!kernel)
          return fail(kernel.status().toString());
        TimingOptions timing;
        timing.warmup = options.warmup;
        timing.repeat = options.repeat;
        timing.numSplits = splits;
        std::string label =
            shape.describe() + " " + b->candidate.describe() +
            (b->candidate.path == "decode" ? " splits " + splitsLabel(splits)
                                           : "");
        Expected<TimingResult> result =
            timeKernel(**runtime, *kernel, b->info, *inputs, timing);
        if (!result)
          return fail(label + ": " + result.status().toString());
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.3f ms", result->medianMs);
        progress.step(label + ": " + ms);
        timed.push_back({&b->candidate, splits, *result});
      }
      std::stable_sort(timed.begin(), timed.end(),
                       [](const Timed &a, const Timed &b) {
                         return a.timing.medianMs < b.timing.medianMs;
                       });
      const Timed &best = timed.front();
      TunedConfig config;
      config.spec = specKey;
      config.device = device;
      config.bucket = shapeBucket(shape.batch, shape.qLen, shape.kvLen);
      config.path = best.candidate->path;
      config.blockQ = best.candidate->blockQ;
      config.blockKV = best.candidate->blockKV;
      config.stages = best.candidate->stages;
      config.splits = best.splits;
      config.ms = best.timing.medianMs;
      db->put(config);
      winners.push_back({shape, best});
      rankings.push_back(std::move(timed));
    }
  }

  // The ranking per shape, then one line per shape with the winner.
  const char *clock = sim ? "CPU time of the emulator" : "CUDA events";
  for (size_t s = 0; s < shapes.size(); ++s) {
    const std::vector<Timed> &ranking = rankings[s];
    llvm::outs() << "shape " << shapes[s].describe() << ": " << ranking.size()
                 << " configurations timed (median of " << options.repeat
                 << ", " << clock << ", " << ranking.front().timing.inputSets
                 << " input set(s) rotated); best "
                 << std::min<size_t>(options.top, ranking.size()) << ":\n";
    llvm::outs() << "  path     BrxBc    warps  stages  splits  ms\n";
    for (size_t r = 0; r < ranking.size() && r < size_t(options.top); ++r) {
      const Timed &t = ranking[r];
      char line[160];
      std::snprintf(
          line, sizeof line, "  %-8s %-8s %-6d %-7d %-7s %.3f\n",
          t.candidate->path.c_str(),
          (std::to_string(t.candidate->blockQ) + "x" +
           std::to_string(t.candidate->blockKV))
              .c_str(),
          t.candidate->blockQ / 16, t.candidate->stages,
          t.candidate->path == "decode" ? splitsLabel(t.splits).c_str() : "-",
          t.timing.medianMs);
      llvm::outs() << line;
    }
  }
  llvm::outs() << "shape (batch:q:kv)  bucket              best"
               << std::string(30, ' ') << "ms"
               << (sim ? "  [sim: CPU time]" : "") << "\n";
  for (const auto &[shape, best] : winners) {
    std::string config = best.candidate->path + " " +
                         std::to_string(best.candidate->blockQ) + "x" +
                         std::to_string(best.candidate->blockKV) + " stages " +
                         std::to_string(best.candidate->stages) +
                         (best.candidate->path == "decode"
                              ? " splits " + splitsLabel(best.splits)
                              : "");
    char line[200];
    std::snprintf(line, sizeof line, "%-19s %-19s %-33s %.3f\n",
                  shape.describe().c_str(),
                  shapeBucket(shape.batch, shape.qLen, shape.kvLen).c_str(),
                  config.c_str(), best.timing.medianMs);
    llvm::outs() << line;
  }
  Status saved = db->save(options.dbPath);
  if (!saved.ok())
    return fail(saved.toString());
  llvm::errs() << "attnc tune: wrote " << options.dbPath << "\n";
  return 0;
}
