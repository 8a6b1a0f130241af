//===- TuneCommand.cpp - attnc tune: time configurations, keep the best ---===//
//
//   attnc tune SPEC.attn [--kernel NAME] --shapes B:Q:KV[,B:Q:KV...]
//              [--candidates BRxBC,...] [--paths prefill,decode]
//              [--stages 1,2] [--rows-per-warp 16,32]
//              [--splits auto,1,2,...] [--repeat N]
//              [--warmup N] [--top N] [--db FILE]
//
// The command line over tune/Tuner.h (the space, the pruning and the timing
// are described there): progress bars, a ranking per shape and the winners,
// stored in the tuning database under (spec, device, shape bucket), which
// `attnc run` and JitKernels consult before their heuristics; each winner as
// soon as its shape is timed, so an interrupted run keeps what it measured.
// Under sim the timings are CPU timings of the emulator, and the output says
// so.
//
//===----------------------------------------------------------------------===//
#include "TuneCommand.h"

#include "LoadSpec.h"
#include "runtime/api/Runtime.h"
#include "tools/support/Progress.h"
#include "tune/Tuner.h"
#include "tune/TuningDB.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <sstream>

using namespace attnc;

namespace {

int fail(const std::string &message) {
  llvm::errs() << "attnc tune: error: " << message << "\n";
  return 1;
}

using Shape = TuneShape;

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
                                 x == 'x' && one.eof() && t.first > 0 &&
                                 t.second > 0;
                        })) {
    return fail("--candidates takes BRxBC[,...] with positive sizes, got '" +
                bad + "'");
  }
  std::vector<std::string> paths;
  if (!parseList(options.paths, paths, bad,
                 [](const std::string &item, std::string &p) {
                   p = item;
                   return isKernelPath(p);
                 }))
    return fail("--paths takes prefill, packed and/or decode, got '" + bad +
                "'");
  std::vector<int> stageCounts;
  if (!parseList(options.stages, stageCounts, bad,
                 [](const std::string &item, int &n) {
                   return parseInt(item, n) && (n == 1 || n == 2);
                 }))
    return fail("--stages takes 1 and/or 2 (K tiles in flight), got '" + bad +
                "'");
  std::vector<int> rowsPerWarp;
  if (!parseList(options.rowsPerWarp, rowsPerWarp, bad,
                 [](const std::string &item, int &n) {
                   return parseInt(item, n) && n >= 16 && n % 16 == 0 &&
                          n <= 256;
                 }))
    return fail("--rows-per-warp takes multiples of 16 (warps = Br / rows), "
                "got '" +
                bad + "'");
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

  TuneSpace space;
  space.paths = paths;
  space.tiles = tiles;
  space.stages = stageCounts;
  space.rowsPerWarp = rowsPerWarp;
  space.splits = splitCounts;
  space.warmup = options.warmup;
  space.repeat = options.repeat;

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

  bool sim = std::string(backend.name()) == "sim";
  llvm::errs() << "attnc tune: " << backend.describe() << "\n";
  if (sim)
    llvm::errs() << "attnc tune: timings are CPU timings of the SIMT "
                    "emulator, not GPU timings\n";

  // The database must be readable and writable before any time is spent.
  Expected<TuningDB> db = TuningDB::load(options.dbPath);
  if (!db)
    return fail(db.status().message());
  if (Status s = TuningDB::checkWritable(options.dbPath); !s.ok())
    return fail(s.message());

  // Compile and prune every candidate once; shapes reuse the kernels.
  Tuner tuner(**runtime, *loaded->jit, space);
  {
    Progress progress("compile", tuner.candidateCount());
    Status s =
        tuner.prepare([&](const std::string &what) { progress.step(what); });
    if (!s.ok())
      return fail(s.toString());
  }
  size_t totalRuns = 0;
  for (const Shape &shape : shapes)
    totalRuns += tuner.runCount(shape);
  if (totalRuns == 0)
    return fail("every candidate was pruned");

  std::vector<std::vector<TimedConfig>> rankings;
  {
    Progress progress("time", totalRuns);
    for (const Shape &shape : shapes) {
      Expected<std::vector<TimedConfig>> ranking = tuner.time(
          shape, [&](const std::string &what) { progress.step(what); });
      if (!ranking)
        return fail(ranking.status().toString());
      TunedConfig winner = tuner.entry(shape, ranking->front());
      // Stored as soon as it is measured, so a run interrupted at a later
      // shape keeps this one. Merged under a lock: entries other processes
      // stored meanwhile stay.
      Expected<TuningDB> saved = TuningDB::merge(options.dbPath, {winner});
      if (!saved)
        return fail(saved.status().toString());
      rankings.push_back(ranking.takeValue());
    }
  }

  // The ranking per shape, then one line per shape with the winner.
  const char *clock = sim ? "CPU time of the emulator" : "CUDA events";
  for (size_t s = 0; s < shapes.size(); ++s) {
    const std::vector<TimedConfig> &ranking = rankings[s];
    llvm::outs() << "shape " << shapes[s].describe() << ": " << ranking.size()
                 << " configurations timed (median of " << options.repeat
                 << ", " << clock << ", " << ranking.front().timing.inputSets
                 << " input set(s) rotated); best "
                 << std::min<size_t>(options.top, ranking.size()) << ":\n";
    llvm::outs() << "  path     BrxBc    warps  stages  splits  ms\n";
    for (size_t r = 0; r < ranking.size() && r < size_t(options.top); ++r) {
      const TimedConfig &t = ranking[r];
      char line[160];
      std::snprintf(line, sizeof line, "  %-8s %-8s %-6d %-7d %-7s %.3f\n",
                    t.config.path.c_str(),
                    (std::to_string(t.config.blockQ) + "x" +
                     std::to_string(t.config.blockKV))
                        .c_str(),
                    t.config.warps, t.config.stages,
                    t.config.path == "decode" ? splitsLabel(t.splits).c_str()
                                              : "-",
                    t.timing.medianMs);
      llvm::outs() << line;
    }
  }
  llvm::outs() << "shape (batch:q:kv)  bucket              best"
               << std::string(30, ' ') << "ms"
               << (sim ? "  [sim: CPU time]" : "") << "\n";
  for (size_t s = 0; s < shapes.size(); ++s) {
    const Shape &shape = shapes[s];
    const TimedConfig &best = rankings[s].front();
    char line[200];
    std::snprintf(line, sizeof line, "%-19s %-19s %-33s %.3f\n",
                  shape.describe().c_str(),
                  shapeBucket(shape.batch, shape.qLen, shape.kvLen).c_str(),
                  best.describe().c_str(), best.timing.medianMs);
    llvm::outs() << line;
  }
  // Each winner was stored right after its shape was timed.
  llvm::errs() << "attnc tune: wrote " << options.dbPath << "\n";
  return 0;
}
