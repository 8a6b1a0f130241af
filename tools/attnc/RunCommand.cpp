//===- RunCommand.cpp - attnc run: compile a spec, run it, check it -------===//
//
//   attnc run SPEC.attn [--kernel NAME] --inputs DIR --out DIR [--backend B]
//   attnc run SPEC.attn --random --batch B --q-len L --kv-len N [--seed S]
//             [--check] [--out DIR]
//
// Inputs are .npy files named after the tensor contract (q, k, v,
// qo_indptr, kv_indptr; k_cache, v_cache, block_table, kv_lens; one per
// param). Floating inputs are float32 (rounded to the spec's dtype on
// load), integer inputs int32 or int64. o.npy and lse.npy (float32) are
// written only after the kernel succeeded.
//
//===----------------------------------------------------------------------===//
#include "RunCommand.h"

#include "TuneCommand.h"
#include "codegen/Compile.h"
#include "dialect/Interpreter.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "runtime/api/Runtime.h"
#include "runtime/npy/Npy.h"
#include "runtime/tune/TuningDB.h"
#include "tools/support/KernelTiming.h"
#include "tools/support/StagedTensors.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <sys/stat.h>

using namespace attnc;

namespace {

int fail(const std::string &message) {
  llvm::errs() << "attnc run: error: " << message << "\n";
  return 1;
}

/// The spec's kernel in both forms: attn.sdpa (the float64 reference) and
/// printed as CUDA.
struct CompiledSpec {
  mlir::OwningOpRef<mlir::ModuleOp> reference;
  /// Per path: the prefill kernel, and the decode kernel (GQA packed,
  /// split-KV) when --path allows it.
  std::string cuda, decodeCuda;
  KernelInfo info, decodeInfo;
  bool hasPrefill = false, hasDecode = false;
  /// The checked spec (one block) and its text, to build tuned variants.
  std::optional<dsl::Module> spec;
  std::string text;
};

std::optional<CompiledSpec> compileSpec(mlir::MLIRContext &context,
                                        const RunOptions &options) {
  std::string error;
  std::optional<dsl::SourceFile> source =
      dsl::readSourceFile(options.spec, error);
  if (!source) {
    fail(error);
    return std::nullopt;
  }
  dsl::DiagnosticEngine diags(*source);
  std::optional<dsl::Module> module = dsl::parseAndCheck(*source, diags);
  if (!module) {
    diags.print(std::cerr);
    return std::nullopt;
  }
  if (module->specs.size() > 1 && options.kernel.empty()) {
    std::string names;
    for (const dsl::AttentionSpec &spec : module->specs)
      names += (names.empty() ? "" : ", ") + spec.name;
    fail(options.spec + " holds several attention blocks (" + names +
         "); pick one with --kernel");
    return std::nullopt;
  }
  if (!options.kernel.empty()) {
    auto it = std::find_if(
        module->specs.begin(), module->specs.end(),
        [&](const dsl::AttentionSpec &s) { return s.name == options.kernel; });
    if (it == module->specs.end()) {
      fail(options.spec + " has no attention block named '" + options.kernel +
           "'");
      return std::nullopt;
    }
    dsl::AttentionSpec selected = std::move(*it);
    module->specs.clear();
    module->specs.push_back(std::move(selected));
  }

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source->text, source->name),
      llvm::SMLoc());
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  context.printOpOnDiagnostic(false);

  CompiledSpec compiled;
  compiled.reference = buildModule(context, *module);
  compiled.text = source->text;
  mlir::OwningOpRef<mlir::ModuleOp> lowered = buildModule(context, *module);
  if (!compiled.reference || !lowered) {
    fail("internal error: the IR built from " + options.spec +
         " does not verify");
    return std::nullopt;
  }
  PipelineOptions pipeline;
  pipeline.blockQ = options.blockQ;
  pipeline.blockKV = options.blockKV;
  if (options.path != "decode") {
    mlir::FailureOr<CompiledModule> cuda =
        lowerAndEmit(*lowered, pipeline, error);
    if (mlir::failed(cuda)) {
      fail(error);
      return std::nullopt;
    }
    compiled.cuda = cuda->cuda;
    compiled.info = cuda->kernels.front();
    compiled.hasPrefill = true;
  }
  if (options.path != "prefill") {
    mlir::OwningOpRef<mlir::ModuleOp> decode = buildModule(context, *module);
    mlir::FailureOr<CompiledModule> cuda =
        lowerAndEmit(*decode, decodePipeline(pipeline), error);
    if (mlir::failed(cuda)) {
      fail(error);
      return std::nullopt;
    }
    compiled.decodeCuda = cuda->cuda;
    compiled.decodeInfo = cuda->kernels.front();
    compiled.hasDecode = true;
  }
  compiled.spec = std::move(*module);
  return compiled;
}

/// Reads the .npy inputs of `kernel` from `dir` as the interpreter's
/// AttentionInputs (floats rounded to the kernel's dtype).
mlir::FailureOr<AttentionInputs>
readInputs(const std::string &dir, const KernelInfo &info, std::string &error) {
  AttentionInputs inputs;
  auto load = [&](const std::string &name, bool required,
                  std::optional<NpyArray> &out) -> bool {
    std::string path = dir + "/" + name + ".npy";
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      if (required)
        error = "missing input " + path;
      return !required;
    }
    Expected<NpyArray> array = readNpy(path);
    if (!array) {
      error = array.status().message();
      return false;
    }
    out = array.takeValue();
    return true;
  };
  auto floats = [&](const NpyArray &a, HostTensor &t) -> bool {
    Expected<std::vector<float>> values = a.toFloat32();
    if (!values) {
      error = values.status().message();
      return false;
    }
    t.shape = a.shape;
    for (float v : *values)
      t.f.push_back(info.bf16 ? roundToBF16(v) : roundToF16(v));
    return true;
  };
  auto ints = [&](const NpyArray &a, std::vector<int32_t> &out) -> bool {
    Expected<std::vector<int32_t>> values = a.toInt32();
    if (!values) {
      error = values.status().message();
      return false;
    }
    out = values.takeValue();
    return true;
  };

  std::optional<NpyArray> q, qo, k, v, kvIndptr, kCache, vCache, table, lens;
  if (!load("q", true, q) || !load("qo_indptr", true, qo) ||
      !floats(*q, inputs.q) || !ints(*qo, inputs.qoIndptr))
    return mlir::failure();
  if (info.paged) {
    if (!load("k_cache", true, kCache) || !load("v_cache", true, vCache) ||
        !load("block_table", true, table) || !load("kv_lens", true, lens) ||
        !floats(*kCache, inputs.kCache) || !floats(*vCache, inputs.vCache) ||
        !ints(*table, inputs.blockTable) || !ints(*lens, inputs.kvLens))
      return mlir::failure();
    if (table->shape.size() != 2) {
      error =
          "block_table must be [batch, max_pages], got " + table->describe();
      return mlir::failure();
    }
    inputs.maxPages = table->shape[1];
  } else {
    if (!load("k", true, k) || !load("v", true, v) ||
        !load("kv_indptr", true, kvIndptr) || !floats(*k, inputs.k) ||
        !floats(*v, inputs.v) || !ints(*kvIndptr, inputs.kvIndptr))
      return mlir::failure();
  }
  for (const KernelInfo::Param &param : info.params) {
    std::optional<NpyArray> array;
    if (!load(param.name, true, array))
      return mlir::failure();
    HostTensor t;
    t.shape = array->shape;
    if (param.isFloat) {
      Expected<std::vector<float>> values = array->toFloat32();
      if (!values) {
        error = values.status().message();
        return mlir::failure();
      }
      t.f.assign(values->begin(), values->end());
    } else {
      t.isInt = true;
      if (!ints(*array, t.i))
        return mlir::failure();
    }
    inputs.params[param.name] = std::move(t);
  }
  return inputs;
}

/// Writes `inputs` as the .npy files --inputs reads back.
Status saveInputs(const std::string &dir, const AttentionInputs &in,
                  const KernelInfo &info) {
  mkdir(dir.c_str(), 0755);
  auto floats = [&](const char *name, const HostTensor &t) {
    std::vector<float> f(t.f.begin(), t.f.end());
    return writeNpy(dir + "/" + name + ".npy", f.data(), t.shape);
  };
  auto ints = [&](const std::string &name, const std::vector<int32_t> &v,
                  std::vector<int64_t> shape) {
    return writeNpy(dir + "/" + name + ".npy", v.data(), shape);
  };
  int64_t batch = in.batch();
  std::vector<Status> written = {
      floats("q", in.q), ints("qo_indptr", in.qoIndptr,
                              {static_cast<int64_t>(in.qoIndptr.size())})};
  if (info.paged) {
    written.push_back(floats("k_cache", in.kCache));
    written.push_back(floats("v_cache", in.vCache));
    written.push_back(ints("block_table", in.blockTable, {batch, in.maxPages}));
    written.push_back(
        ints("kv_lens", in.kvLens, {static_cast<int64_t>(in.kvLens.size())}));
  } else {
    written.push_back(floats("k", in.k));
    written.push_back(floats("v", in.v));
    written.push_back(ints("kv_indptr", in.kvIndptr,
                           {static_cast<int64_t>(in.kvIndptr.size())}));
  }
  for (auto &[name, t] : in.params)
    written.push_back(t.isInt ? ints(name, t.i, t.shape)
                              : floats(name.c_str(), t));
  for (Status &s : written)
    if (!s.ok())
      return s;
  return Status::success();
}

} // namespace

int attnc::runCommand(const RunOptions &options) {
  if (options.random == !options.inputsDir.empty())
    return fail("give exactly one of --inputs DIR and --random");
  if (!options.random && options.outDir.empty() && !options.check)
    return fail("--inputs needs --out DIR (or --check)");

  if (options.path != "auto" && options.path != "prefill" &&
      options.path != "decode")
    return fail("unknown path '" + options.path +
                "'; use auto, prefill or decode");
  mlir::MLIRContext context;
  std::optional<CompiledSpec> compiled = compileSpec(context, options);
  if (!compiled)
    return 1;
  // Both variants describe the same tensors; the prefill one is used for
  // staging (dtype, heads, params) whichever path runs.
  const KernelInfo &info =
      compiled->hasPrefill ? compiled->info : compiled->decodeInfo;
  attn::KernelOp reference =
      *compiled->reference->getOps<attn::KernelOp>().begin();

  RuntimeOptions runtimeOptions;
  runtimeOptions.backend = options.backend;
  Expected<std::unique_ptr<Runtime>> runtime = Runtime::create(runtimeOptions);
  if (!runtime)
    return fail(runtime.status().message());
  llvm::errs() << "attnc run: backend " << (*runtime)->backend().name() << " ("
               << (*runtime)->selection() << ")\n";

  std::string error;
  mlir::FailureOr<AttentionInputs> inputs;
  if (options.random) {
    if (options.batch < 0 || options.qLen < 0 || options.kvLen < 0)
      return fail("--batch, --q-len and --kv-len must not be negative");
    RandomInputSpec spec;
    spec.qLens.assign(options.batch, options.qLen);
    spec.kvLens.assign(options.batch, options.kvLen);
    spec.seed = options.seed;
    inputs = makeRandomInputs(reference, spec, error);
  } else {
    inputs = readInputs(options.inputsDir, info, error);
  }
  if (failed(inputs))
    return fail(error);
  if (!options.saveInputsDir.empty()) {
    Status saved = saveInputs(options.saveInputsDir, *inputs, info);
    if (!saved.ok())
      return fail(saved.toString());
  }

  int64_t maxQ = 0;
  for (size_t b = 0; b + 1 < inputs->qoIndptr.size(); ++b)
    maxQ =
        std::max<int64_t>(maxQ, inputs->qoIndptr[b + 1] - inputs->qoIndptr[b]);
  bool decode =
      !compiled->hasPrefill ||
      (compiled->hasDecode && prefersDecodePath(compiled->decodeInfo, maxQ));

  // A tuned configuration for this spec, device and shape wins over the
  // heuristics (unless --path forces a path it does not match).
  std::string tunedCuda;
  KernelInfo tunedInfo;
  int splits = options.splits;
  if (!options.tuningDB.empty()) {
    int64_t maxKV = 0;
    for (int64_t b = 0; b < inputs->batch(); ++b)
      maxKV = std::max<int64_t>(maxKV, info.paged ? inputs->kvLens[b]
                                                  : inputs->kvIndptr[b + 1] -
                                                        inputs->kvIndptr[b]);
    Expected<TuningDB> db = TuningDB::load(options.tuningDB);
    if (!db)
      return fail(db.status().message());
    std::optional<TunedConfig> tuned =
        db->find(specFingerprint(compiled->text, info.specName),
                 (*runtime)->backend().describe(),
                 shapeBucket(inputs->batch(), maxQ, maxKV));
    if (tuned && (options.path == "auto" || options.path == tuned->path)) {
      PipelineOptions pipeline;
      pipeline.blockQ = tuned->blockQ;
      pipeline.blockKV = tuned->blockKV;
      pipeline.prefetchKV = tuned->stages == 2;
      if (tuned->path == "decode")
        pipeline = decodePipeline(pipeline);
      // An explicit --splits still wins over the tuned count.
      if (tuned->path == "decode" && splits == 0)
        splits = tuned->splits;
      mlir::OwningOpRef<mlir::ModuleOp> ir =
          buildModule(context, *compiled->spec);
      mlir::FailureOr<CompiledModule> cuda = lowerAndEmit(*ir, pipeline, error);
      if (mlir::failed(cuda))
        return fail(error);
      tunedCuda = cuda->cuda;
      tunedInfo = cuda->kernels.front();
      llvm::errs() << "attnc run: tuned configuration from " << options.tuningDB
                   << ": " << tuned->path << " " << tuned->blockQ << "x"
                   << tuned->blockKV << " stages " << tuned->stages
                   << (tuned->path == "decode"
                           ? " splits " + (tuned->splits
                                               ? std::to_string(tuned->splits)
                                               : std::string("auto"))
                           : std::string())
                   << "\n";
    }
  }
  if (!tunedCuda.empty())
    decode = tunedInfo.splitKV;
  llvm::errs() << "attnc run: path "
               << (decode ? "decode (query heads packed per KV head, "
                            "split-KV)"
                          : "prefill")
               << ", max q_len " << maxQ << "\n";
  Expected<Kernel> kernel =
      !tunedCuda.empty() ? (*runtime)->load(tunedCuda, tunedInfo)
      : decode ? (*runtime)->load(compiled->decodeCuda, compiled->decodeInfo)
               : (*runtime)->load(compiled->cuda, compiled->info);
  if (!kernel)
    return fail(kernel.status().toString());
  StagedTensors staged((*runtime)->backend(), info);
  AttentionTensors tensors;
  Status s = staged.stage(*inputs, tensors);
  if (s.ok())
    s = (*runtime)->run(*kernel, tensors, nullptr, splits);
  if (s.ok())
    s = (*runtime)->backend().synchronize(nullptr);
  if (!s.ok())
    return fail(s.toString());
  std::vector<float> o, lse;
  s = staged.fetch(tensors, o, lse);
  if (!s.ok())
    return fail(s.toString());

  if (!options.outDir.empty()) {
    mkdir(options.outDir.c_str(), 0755);
    s = writeNpy(options.outDir + "/o.npy", o.data(), tensors.o.shape);
    if (s.ok())
      s = writeNpy(options.outDir + "/lse.npy", lse.data(), tensors.lse.shape);
    if (!s.ok())
      return fail(s.toString());
    llvm::errs() << "attnc run: wrote " << options.outDir
                 << "/o.npy and lse.npy (float32)\n";
  }
  if (options.timeRuns > 0) {
    // Median of timed runs (CUDA events on a GPU) over input copies rotated
    // past the L2. FLOPs count the full q_len x kv_len rectangle (4 per
    // multiply-add pair of QK^T and PV); bytes count Q, K, V, O once.
    TimingOptions timing;
    timing.repeat = options.timeRuns;
    timing.numSplits = splits;
    Expected<TimingResult> timed =
        timeKernel(**runtime, *kernel, info, *inputs, timing);
    if (!timed)
      return fail(timed.status().toString());
    double ms = timed->medianMs;
    double flops = 0, bytes = 0;
    for (int64_t b = 0; b < inputs->batch(); ++b) {
      double q = inputs->qoIndptr[b + 1] - inputs->qoIndptr[b];
      double kv = info.paged ? inputs->kvLens[b]
                             : inputs->kvIndptr[b + 1] - inputs->kvIndptr[b];
      flops += 4.0 * q * kv * info.qHeads * info.headDim;
      bytes +=
          2.0 * (2 * q * info.qHeads + 2 * kv * info.kvHeads) * info.headDim;
    }
    llvm::outs() << llvm::format(
        "time: %.3f ms (median of %d, min %.3f, max %.3f; %s; %d input "
        "set%s rotated%s) on %s%s, %.3f TFLOP/s, %.1f GB/s\n",
        ms, options.timeRuns, timed->minMs, timed->maxMs, timed->clock.c_str(),
        timed->inputSets, timed->inputSets == 1 ? "" : "s",
        timed->cacheCleared ? "" : ", fewer than clearing L2 needs",
        (*runtime)->backend().name(),
        std::string((*runtime)->backend().name()) == "sim"
            ? " (CPU time of the emulator)"
            : "",
        flops / (ms * 1e9), bytes / (ms * 1e6));
  }
  if (!options.check)
    return 0;

  mlir::FailureOr<AttentionOutputs> expected =
      interpretKernel(reference, *inputs, error);
  if (failed(expected))
    return fail("the float64 reference failed: " + error);
  AttentionOutputs actual;
  actual.o.assign(o.begin(), o.end());
  actual.lse.assign(lse.begin(), lse.end());
  OutputDiff diff = compareOutputs(actual, *expected);
  double oTol = info.bf16 ? 1e-2 : 2e-3, lseTol = 1e-3;
  bool pass = diff.within(oTol, lseTol);
  llvm::outs() << info.specName << " on " << (*runtime)->backend().name()
               << ": |o - ref| / |ref| = " << diff.oRelErr << " (tolerance "
               << oTol << "), max |lse - ref| = " << diff.lseMaxAbsDiff
               << " (tolerance " << lseTol << ")";
  if (diff.nonFiniteMismatches)
    llvm::outs() << ", " << diff.nonFiniteMismatches
                 << " non-finite mismatches (" << diff.firstMismatch << ")";
  llvm::outs() << ": " << (pass ? "PASS" : "FAIL") << "\n";
  return pass ? 0 : 1;
}
