//===- JitKernels.cpp - A spec's kernels, compiled and chosen per shape ---===//
#include "tune/JitKernels.h"
#include "tune/SimFault.h"

#include "codegen/Compile.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <algorithm>
#include <sstream>

using namespace attnc;

bool attnc::isKernelPath(const std::string &path) {
  return path == "prefill" || path == "packed" || path == "decode";
}

std::string attnc::splitsLabel(int splits) {
  return splits == 0 ? "auto" : std::to_string(splits);
}

std::string KernelConfig::describe() const {
  auto size = [](int n) { return n ? std::to_string(n) : std::string("auto"); };
  std::string text = path + " " + size(blockQ) + "x" + size(blockKV) +
                     " stages " + std::to_string(stages);
  if (warps != 0 && warps != blockQ / 16)
    text += " warps " + std::to_string(warps);
  return text;
}

JitKernels::JitKernels(Runtime &runtime) : runtime(runtime) {}
JitKernels::~JitKernels() = default;

Expected<std::unique_ptr<JitKernels>>
JitKernels::create(Runtime &runtime, const std::string &specName,
                   const std::string &specText, const Options &options) {
  if (options.path != "auto" && !isKernelPath(options.path))
    return Status::error(ErrorCode::InvalidArgument,
                         "unknown path '" + options.path +
                             "'; use auto, prefill, packed or decode");
  std::string diagnostics;
  std::optional<dsl::Module> module =
      dsl::parseAndCheckText(specName, specText, diagnostics);
  if (!module)
    return Status::error(ErrorCode::InvalidArgument, diagnostics);
  if (options.kernel.empty() && module->specs.size() > 1) {
    std::string names;
    for (const dsl::AttentionSpec &s : module->specs)
      names += (names.empty() ? "" : ", ") + s.name;
    return Status::error(ErrorCode::InvalidArgument,
                         specName + " holds several attention blocks (" +
                             names + "); pick one with --kernel");
  }
  auto it =
      std::find_if(module->specs.begin(), module->specs.end(),
                   [&](const dsl::AttentionSpec &s) {
                     return options.kernel.empty() || s.name == options.kernel;
                   });
  if (it == module->specs.end())
    return Status::error(ErrorCode::NotFound,
                         specName + " has no attention block named '" +
                             options.kernel + "'");
  dsl::AttentionSpec selected = std::move(*it);
  module->specs.clear();
  module->specs.push_back(std::move(selected));

  std::unique_ptr<JitKernels> jit(new JitKernels(runtime));
  jit->options = options;
  jit->context = std::make_unique<mlir::MLIRContext>();
  jit->spec = std::make_unique<dsl::Module>(std::move(*module));
  jit->specKey = specFingerprint(specText, jit->spec->specs[0].name);
  if (!options.tuningDB.empty()) {
    Expected<TuningDB> db = TuningDB::load(options.tuningDB);
    if (!db)
      return db.takeStatus();
    jit->db = db.takeValue();
    // Autotuning stores what it measured: find out now, not after tuning.
    if (options.tuneOnMiss)
      if (Status s = TuningDB::checkWritable(options.tuningDB); !s.ok())
        return s;
  }
  KernelConfig base;
  base.blockQ = options.blockQ;
  base.blockKV = options.blockKV;
  Expected<CompiledVariant> prefill = jit->variant(base);
  if (!prefill)
    return prefill.takeStatus();
  jit->baseInfo = prefill->info;
  return jit;
}

Expected<CompiledVariant> JitKernels::variant(const KernelConfig &config) {
  auto found = variants.find(config);
  if (found != variants.end())
    return found->second;
  if (!isKernelPath(config.path))
    return Status::error(ErrorCode::InvalidArgument,
                         "unknown path '" + config.path +
                             "'; use prefill, packed or decode");
  if (config.stages != 1 && config.stages != 2)
    return Status::error(ErrorCode::InvalidArgument,
                         "stages must be 1 or 2, got " +
                             std::to_string(config.stages));
  // The pipeline reports through the context; keep its words for the error.
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(
      context.get(), [&](mlir::Diagnostic &diag) {
        if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
          diagnostics += diag.str() + "\n";
        return mlir::success();
      });
  mlir::OwningOpRef<mlir::ModuleOp> ir = buildModule(*context, *spec);
  if (!ir)
    return Status::error(ErrorCode::InternalError,
                         "the IR built from the spec does not verify");
  PipelineOptions pipeline;
  pipeline.blockQ = config.blockQ;
  pipeline.blockKV = config.blockKV;
  pipeline.prefetchKV = config.stages == 2;
  pipeline.warps = config.warps;
  pipeline.blockMask = options.blockMask;
  pipeline.cascade = options.cascade;
  if (config.path == "decode")
    pipeline = decodePipeline(pipeline);
  if (config.path == "packed")
    pipeline.packGQA = true;
  std::string error;
  mlir::FailureOr<CompiledModule> compiled = lowerAndEmit(*ir, pipeline, error);
  if (mlir::failed(compiled)) {
    // The pass's own words, when it gave some, say more than the summary.
    if (!diagnostics.empty())
      error = diagnostics.substr(0, diagnostics.size() - 1);
    return Status::error(ErrorCode::CompileError,
                         config.describe() + ": " + error);
  }
  CompiledVariant v{compiled->cuda, compiled->kernels.front()};
  variants.emplace(config, v);
  return v;
}

Expected<JitKernels::Selection>
JitKernels::select(int64_t batch, int64_t maxQLen, int64_t maxKVLen) {
  Selection pick;
  std::optional<TunedConfig> tuned;
  std::string device = runtime.backend().describe();
  std::string bucket = shapeBucket(batch, maxQLen, maxKVLen);
  if (db)
    tuned = db->find(specKey, device, bucket);
  bool autotuned = false;
  // Autotuning needs a shape with work in it: an empty one would time
  // nothing and store an arbitrary winner for a real bucket.
  if (!tuned && options.tuneOnMiss && options.path == "auto" && batch > 0 &&
      maxQLen > 0 && maxKVLen > 0) {
    Expected<TunedConfig> fresh =
        options.tuneOnMiss(*this, batch, maxQLen, maxKVLen);
    if (!fresh)
      return fresh.takeStatus();
    if (options.tuningDB.empty()) {
      if (!db)
        db = TuningDB();
      db->put(*fresh);
    } else {
      // Stored first, then used; the merge keeps what other processes
      // stored meanwhile, and this program sees their entries too.
      Expected<TuningDB> merged = TuningDB::merge(options.tuningDB, {*fresh});
      if (!merged)
        return merged.takeStatus();
      db = merged.takeValue();
    }
    tuned = *fresh;
    autotuned = true;
  }
  if (tuned && (options.path == "auto" || options.path == tuned->path)) {
    pick.config.path = tuned->path;
    pick.config.blockQ = tuned->blockQ;
    pick.config.blockKV = tuned->blockKV;
    pick.config.stages = tuned->stages;
    pick.config.warps = tuned->warps;
    pick.numSplits = tuned->path == "decode" ? tuned->splits : 0;
    pick.tuned = true;
    pick.why = autotuned ? "tuned now, for bucket " + bucket
                         : "tuned configuration from " + options.tuningDB;
  } else {
    pick.config.blockQ = options.blockQ;
    pick.config.blockKV = options.blockKV;
    pick.config.path = options.path == "auto" ? "prefill" : options.path;
    if (options.path == "auto") {
      KernelConfig decode = pick.config;
      decode.path = "decode";
      Expected<CompiledVariant> v = variant(decode);
      if (!v)
        return v.takeStatus();
      if (prefersDecodePath(v->info, maxQLen))
        pick.config.path = "decode";
    }
    pick.why = options.path == "auto" ? "heuristics (path by shape)"
                                      : "heuristics (path as asked)";
  }
  Expected<CompiledVariant> v = variant(pick.config);
  if (!v)
    return v.takeStatus();
  pick.config.blockQ = v->info.blockQ;
  pick.config.blockKV = v->info.blockKV;
  pick.why += ": " + pick.config.describe();
  if (pick.config.path == "decode")
    pick.why += " splits " + splitsLabel(pick.numSplits);
  std::string cuda = v->cuda;
  if (!options.simFault.empty()) {
    if (std::string(runtime.backend().name()) != "sim")
      return Status::error(ErrorCode::InvalidArgument,
                           "--sim-fault needs the sim backend");
    if (Status s = applySimFault(cuda, options.simFault); !s.ok())
      return s;
    pick.why += ", " + options.simFault;
  }
  Expected<Kernel> kernel = runtime.load(cuda, v->info);
  if (!kernel)
    return kernel.takeStatus();
  pick.kernel = kernel.takeValue();
  return pick;
}
