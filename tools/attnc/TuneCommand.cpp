//===- TuneCommand.cpp - attnc tune: time tile shapes, keep the best ------===//
//
//   attnc tune SPEC.attn [--kernel NAME] --shapes B:Q:KV[,B:Q:KV...]
//              [--candidates BRxBC,...] [--repeat N] [--db FILE]
//
// For each shape: every candidate (path prefill/decode × Br × Bc) is
// compiled with NVRTC and pruned when ptxas reports spills or the shared
// memory exceeds what a block can have; the rest are built for the backend
// and timed on random inputs (warm-up, median of --repeat runs). The winner
// is stored in the tuning database under (spec, device, shape bucket), which
// `attnc run` consults before its heuristics. Under sim the timings are CPU
// timings of the emulator, and the table says so.
//
//===----------------------------------------------------------------------===//
#include "TuneCommand.h"

#include "codegen/Compile.h"
#include "dialect/Interpreter.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "runtime/api/Runtime.h"
#include "runtime/jit/HostCompiler.h"
#include "runtime/jit/Nvrtc.h"
#include "runtime/tune/TuningDB.h"
#include "tools/support/StagedTensors.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
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
};

bool parseShapes(const std::string &text, std::vector<Shape> &shapes) {
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    Shape s;
    char c1 = 0, c2 = 0;
    std::stringstream one(item);
    if (!(one >> s.batch >> c1 >> s.qLen >> c2 >> s.kvLen) || c1 != ':' ||
        c2 != ':' || s.batch < 1 || s.qLen < 1 || s.kvLen < 1)
      return false;
    shapes.push_back(s);
  }
  return !shapes.empty();
}

struct Candidate {
  std::string path;
  int blockQ = 0, blockKV = 0;
  std::string label() const {
    return path + " " + std::to_string(blockQ) + "x" + std::to_string(blockKV);
  }
};

} // namespace

std::string attnc::specFingerprint(const std::string &text,
                                   const std::string &kernel) {
  char key[20];
  std::snprintf(key, sizeof key, "%016llx",
                jit::hashText(text, jit::hashText(kernel)));
  return key;
}

int attnc::tuneCommand(const TuneOptions &options) {
  std::vector<Shape> shapes;
  if (!parseShapes(options.shapes, shapes))
    return fail("--shapes takes BATCH:Q_LEN:KV_LEN[,...] with positive "
                "numbers, got '" +
                options.shapes + "'");
  std::vector<Candidate> candidates;
  std::vector<std::pair<int, int>> tiles;
  if (options.candidates.empty()) {
    for (int bq : {16, 32, 64, 128})
      for (int bkv : {16, 32, 64, 128})
        tiles.push_back({bq, bkv});
  } else {
    std::stringstream in(options.candidates);
    std::string item;
    while (std::getline(in, item, ',')) {
      int bq = 0, bkv = 0;
      char x = 0;
      std::stringstream one(item);
      if (!(one >> bq >> x >> bkv) || x != 'x')
        return fail("--candidates takes BRxBC[,...], got '" + item + "'");
      tiles.push_back({bq, bkv});
    }
  }
  for (const char *path : {"prefill", "decode"})
    for (auto [bq, bkv] : tiles)
      candidates.push_back({path, bq, bkv});

  std::string error;
  std::optional<dsl::SourceFile> source =
      dsl::readSourceFile(options.spec, error);
  if (!source)
    return fail(error);
  dsl::DiagnosticEngine diags(*source);
  std::optional<dsl::Module> module = dsl::parseAndCheck(*source, diags);
  if (!module) {
    diags.print(std::cerr);
    return 1;
  }
  auto it =
      std::find_if(module->specs.begin(), module->specs.end(),
                   [&](const dsl::AttentionSpec &s) {
                     return options.kernel.empty() || s.name == options.kernel;
                   });
  if (it == module->specs.end())
    return fail(options.spec + " has no attention block named '" +
                options.kernel + "'");
  if (options.kernel.empty() && module->specs.size() > 1)
    return fail(options.spec +
                " holds several attention blocks; pick one with --kernel");
  dsl::AttentionSpec selected = std::move(*it);
  module->specs.clear();
  module->specs.push_back(std::move(selected));
  std::string specKey = specFingerprint(source->text, module->specs[0].name);

  mlir::MLIRContext context;
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::OwningOpRef<mlir::ModuleOp> reference = buildModule(context, *module);
  attn::KernelOp referenceKernel = *reference->getOps<attn::KernelOp>().begin();

  RuntimeOptions runtimeOptions;
  runtimeOptions.backend = options.backend;
  Expected<std::unique_ptr<Runtime>> runtime = Runtime::create(runtimeOptions);
  if (!runtime)
    return fail(runtime.status().message());
  Backend &backend = (*runtime)->backend();
  std::string device = backend.describe();
  bool sim = std::string(backend.name()) == "sim";
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
    std::string pruned; ///< why it was dropped, or empty
  };
  std::vector<Built> built;
  // Lowering shares the MLIR context, so it runs here, one candidate after
  // the other; the compilers (NVRTC, and the host compiler for sim) run in
  // parallel workers.
  for (const Candidate &c : candidates) {
    Built b{c, "", {}, ""};
    mlir::OwningOpRef<mlir::ModuleOp> ir = buildModule(context, *module);
    PipelineOptions pipeline;
    pipeline.blockQ = c.blockQ;
    pipeline.blockKV = c.blockKV;
    if (c.path == "decode")
      pipeline = decodePipeline(pipeline);
    mlir::FailureOr<CompiledModule> compiled =
        lowerAndEmit(*ir, pipeline, error);
    if (mlir::failed(compiled)) {
      b.pruned = "not a valid tiling";
    } else {
      b.cuda = compiled->cuda;
      b.info = compiled->kernels.front();
    }
    built.push_back(std::move(b));
  }
  std::atomic<size_t> next{0}, done{0};
  std::mutex progress;
  auto worker = [&] {
    for (size_t i = next++; i < built.size(); i = next++) {
      Built &b = built[i];
      if (b.pruned.empty()) {
        jit::NvrtcOptions nvrtc;
        nvrtc.arch = "sm_80";
        nvrtc.includeDirs = jit::defaultIncludeDirs();
        jit::NvrtcResult result =
            jit::compileWithNvrtc(b.cuda, "tune.cu", nvrtc);
        if (!result.ok)
          b.pruned = "NVRTC failed";
        for (const jit::KernelResources &k : result.resources)
          if (k.spillStoreBytes > 0 || k.spillLoadBytes > 0)
            b.pruned = std::to_string(k.spillStoreBytes + k.spillLoadBytes) +
                       " bytes of spills";
        if (b.info.sharedBytes > 163 * 1024)
          b.pruned =
              std::to_string(b.info.sharedBytes) + " bytes of shared memory";
      }
      // Under sim, build the object now (in parallel) so that loading it
      // for timing is a cache hit.
      if (b.pruned.empty() && sim) {
        std::string compileError;
        if (!jit::compileForSim(b.cuda, jit::HostCompileOptions{},
                                compileError))
          b.pruned = "host compile failed";
      }
      std::lock_guard<std::mutex> lock(progress);
      llvm::errs() << "[" << ++done << "/" << built.size() << "] "
                   << b.candidate.label() << ": "
                   << (b.pruned.empty() ? "compiled"
                                        : "pruned (" + b.pruned + ")")
                   << "\n";
    }
  };
  unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back(worker);
  for (std::thread &t : pool)
    t.join();

  llvm::outs() << "shape (batch:q:kv)  bucket              best            "
                  "ms (median of "
               << options.repeat << ")" << (sim ? "  [sim: CPU time]" : "")
               << "\n";
  for (const Shape &shape : shapes) {
    RandomInputSpec spec;
    spec.qLens.assign(shape.batch, shape.qLen);
    spec.kvLens.assign(shape.batch, shape.kvLen);
    spec.seed = 1;
    mlir::FailureOr<AttentionInputs> inputs =
        makeRandomInputs(referenceKernel, spec, error);
    if (mlir::failed(inputs))
      return fail(error);
    std::optional<TunedConfig> best;
    for (const Built &b : built) {
      if (!b.pruned.empty())
        continue;
      Expected<Kernel> kernel = (*runtime)->load(b.cuda, b.info);
      if (!kernel)
        return fail(kernel.status().toString());
      StagedTensors staged(backend, b.info);
      AttentionTensors tensors;
      Status s = staged.stage(*inputs, tensors);
      if (!s.ok())
        return fail(s.toString());
      std::vector<double> times;
      for (int r = 0; r <= options.repeat; ++r) { // the first run warms up
        auto start = std::chrono::steady_clock::now();
        s = (*runtime)->run(*kernel, tensors);
        if (s.ok())
          s = backend.synchronize(nullptr);
        if (!s.ok())
          return fail(b.candidate.label() + ": " + s.toString());
        if (r > 0)
          times.push_back(std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - start)
                              .count());
      }
      std::sort(times.begin(), times.end());
      double ms = times[times.size() / 2];
      if (!best || ms < best->ms)
        best = TunedConfig{specKey,
                           device,
                           shapeBucket(shape.batch, shape.qLen, shape.kvLen),
                           b.candidate.path,
                           b.candidate.blockQ,
                           b.candidate.blockKV,
                           ms};
    }
    if (!best)
      return fail("every candidate was pruned");
    db->put(*best);
    char line[160];
    std::snprintf(line, sizeof line, "%-19s %-19s %-15s %.3f\n",
                  (std::to_string(shape.batch) + ":" +
                   std::to_string(shape.qLen) + ":" +
                   std::to_string(shape.kvLen))
                      .c_str(),
                  best->bucket.c_str(),
                  (best->path + " " + std::to_string(best->blockQ) + "x" +
                   std::to_string(best->blockKV))
                      .c_str(),
                  best->ms);
    llvm::outs() << line;
  }
  Status saved = db->save(options.dbPath);
  if (!saved.ok())
    return fail(saved.toString());
  llvm::errs() << "attnc tune: wrote " << options.dbPath << "\n";
  return 0;
}
