//===- RunCommand.cpp - attnc run: compile a spec, run it, check it -------===//
//
//   attnc run SPEC.attn [--kernel NAME] --inputs DIR --out DIR [--backend B]
//   attnc run SPEC.attn --random --batch B --q-len L --kv-len N [--seed S]
//             [--check] [--out DIR]
//
// Inputs are .npy files named after the tensor contract (q, k, v,
// qo_indptr, kv_indptr; k_cache, v_cache, block_table, kv_lens; one per
// param). Floating inputs are float32 (rounded to the spec's dtype on
// load; K and V of an fp8 cache to its fp8 format, holding K / k_scale and
// V / v_scale), integer inputs int32 or int64. o.npy and lse.npy (float32) are
// written only after the kernel succeeded.
//
//===----------------------------------------------------------------------===//
#include "RunCommand.h"

#include "LoadSpec.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "interp/Interpreter.h"
#include "reference/AstReference.h"
#include "runtime/api/Runtime.h"
#include "runtime/core/Fp8.h"
#include "runtime/core/HostMemory.h"
#include "runtime/npy/Npy.h"
#include "runtime/sim/Counters.h"
#include "runtime/sim/Launch.h"
#include "tune/JitKernels.h"
#include "tune/KernelTiming.h"
#include "tune/StagedTensors.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace attnc;

int attnc::runFailure(const std::string &message) {
  llvm::errs() << "attnc run: error: " << message << "\n";
  return 1;
}

namespace {

int fail(const std::string &message) { return runFailure(message); }

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
    // A finite value the dtype cannot hold would become inf on the way in:
    // an error naming it, not a silent infinity.
    const double limit = info.bf16 ? 3.3895313892515355e38 : 65504.0;
    for (size_t i = 0; i < values->size(); ++i) {
      float v = (*values)[i];
      if (std::isfinite(v) && std::fabs(v) > limit) {
        error = a.source + ": element " + std::to_string(i) + " = " +
                std::to_string(v) + " is beyond " +
                (info.bf16 ? "bf16" : "fp16") + "'s range (largest " +
                (info.bf16 ? "3.39e38" : "65504") + ")";
        return false;
      }
      t.f.push_back(info.bf16 ? roundToBF16(v) : roundToF16(v));
    }
    return true;
  };
  // K and V of an fp8 cache: float32 files holding the stored values K8
  // and V8 (the scales are params), rounded to the fp8 format.
  auto kvFloats = [&](const NpyArray &a, HostTensor &t) -> bool {
    std::optional<Fp8Format> fp8 = kvFp8Format(info);
    if (!fp8)
      return floats(a, t);
    Expected<std::vector<float>> values = a.toFloat32();
    if (!values) {
      error = values.status().message();
      return false;
    }
    const Fp8Format format = *fp8;
    const double limit = fp8MaxFinite(format);
    t.shape = a.shape;
    for (size_t i = 0; i < values->size(); ++i) {
      float v = (*values)[i];
      if (std::isfinite(v) && std::fabs(v) > limit) {
        error = a.source + ": element " + std::to_string(i) + " = " +
                std::to_string(v) + " is beyond " + fp8FormatName(format) +
                "'s range (largest " + std::to_string(int(limit)) +
                "); an fp8 cache holds K / k_scale and V / v_scale";
        return false;
      }
      t.f.push_back(fp8Decode(format, fp8Encode(format, v)));
    }
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
  // Index tensors are read flat: their shapes are checked here, against the
  // batch that qo_indptr gives, so a short one is never read past its end.
  auto oneDim = [&](const NpyArray &a, const char *name, int64_t length,
                    const char *contract) {
    if (a.shape.size() == 1 && a.shape[0] == length)
      return true;
    error = std::string(name) + " must be " + contract + " = [" +
            std::to_string(length) + "], got " + a.describe();
    return false;
  };
  if (qo->shape.size() != 1 || qo->shape[0] < 1) {
    error = "qo_indptr must be [batch + 1], got " + qo->describe();
    return mlir::failure();
  }
  int64_t batch = qo->shape[0] - 1;
  if (info.paged) {
    // A latent cache (kv_layout = latent) is k_cache alone.
    if (!load("k_cache", true, kCache) ||
        (!info.latentKV && !load("v_cache", true, vCache)) ||
        !load("block_table", true, table) || !load("kv_lens", true, lens) ||
        !kvFloats(*kCache, inputs.kCache) ||
        (vCache && !kvFloats(*vCache, inputs.vCache)) ||
        !ints(*table, inputs.blockTable) || !ints(*lens, inputs.kvLens))
      return mlir::failure();
    if (table->shape.size() != 2 || table->shape[0] != batch) {
      error = "block_table must be [batch, max_pages] with batch = " +
              std::to_string(batch) + " (qo_indptr has " +
              std::to_string(batch + 1) + " entries), got " + table->describe();
      return mlir::failure();
    }
    if (!oneDim(*lens, "kv_lens", batch, "[batch]"))
      return mlir::failure();
    inputs.maxPages = table->shape[1];
  } else {
    if (!load("k", true, k) || (!info.latentKV && !load("v", true, v)) ||
        !load("kv_indptr", true, kvIndptr) || !kvFloats(*k, inputs.k) ||
        (v && !kvFloats(*v, inputs.v)) || !ints(*kvIndptr, inputs.kvIndptr) ||
        !oneDim(*kvIndptr, "kv_indptr", batch + 1, "[batch + 1]"))
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
    if (!info.latentKV)
      written.push_back(floats("v_cache", in.vCache));
    written.push_back(ints("block_table", in.blockTable, {batch, in.maxPages}));
    written.push_back(
        ints("kv_lens", in.kvLens, {static_cast<int64_t>(in.kvLens.size())}));
  } else {
    written.push_back(floats("k", in.k));
    if (!info.latentKV)
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

/// Creates `dir` if it is missing (its parent must exist) and checks that
/// files can be created in it.
Status prepareOutputDir(const std::string &dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::error(ErrorCode::IOError,
                         "cannot create the output directory " + dir + ": " +
                             std::strerror(errno));
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::error(ErrorCode::IOError,
                         "--out " + dir + " is not a directory");
  if (access(dir.c_str(), W_OK | X_OK) != 0)
    return Status::error(ErrorCode::IOError,
                         "cannot write in the output directory " + dir + ": " +
                             std::strerror(errno));
  return Status::success();
}

/// Writes o.npy and lse.npy: both or neither. Each is written whole under a
/// temporary name first; they are renamed into place only when both exist.
Status writeOutputs(const std::string &dir, const std::vector<float> &o,
                    const std::vector<float> &lse,
                    const AttentionTensors &tensors) {
  std::string oPath = dir + "/o.npy", lsePath = dir + "/lse.npy";
  std::string oTemp = oPath + ".partial", lseTemp = lsePath + ".partial";
  Status s = writeNpy(oTemp, o.data(), tensors.o.shape);
  if (s.ok())
    s = writeNpy(lseTemp, lse.data(), tensors.lse.shape);
  if (s.ok() && std::rename(oTemp.c_str(), oPath.c_str()) != 0)
    s = Status::error(ErrorCode::IOError,
                      "cannot write " + oPath + ": " + std::strerror(errno));
  if (s.ok() && std::rename(lseTemp.c_str(), lsePath.c_str()) != 0) {
    s = Status::error(ErrorCode::IOError,
                      "cannot write " + lsePath + ": " + std::strerror(errno));
    std::remove(oPath.c_str()); // neither, rather than an o without its lse
  }
  std::remove(oTemp.c_str());
  std::remove(lseTemp.c_str());
  return s;
}

/// --count-tiles: the sim's counts of the launch just run against what
/// exact skipping visits, counted from the AST's mask. Prints both; false
/// (after saying why) when they differ.
bool reportTileCounts(const JitKernels &jit, const KernelInfo &info,
                      const AttentionInputs &inputs) {
  TileShape shape;
  shape.blockQ = info.blockQ;
  shape.blockKV = info.blockKV;
  shape.packHeads = info.gqaPack > 1;
  std::string error;
  std::optional<TileCounts> ideal =
      astTileCounts(jit.module().specs.front(), inputs, shape, error);
  if (!ideal) {
    fail("cannot count the visible tiles: " + error);
    return false;
  }
  sim::Counters seen = sim::readCounters();
  llvm::outs() << "tiles: visited " << seen.kvTiles << " of "
               << ideal->kvTilesAll << " (" << ideal->kvTilesVisible
               << " hold a visible element), masked " << seen.maskedTiles
               << " (" << ideal->kvTilesPartial << " partial), tile "
               << info.blockQ << "x" << info.blockKV << "\n";
  llvm::outs() << "K/V bytes read: " << seen.kvBytesRead << "\n";
  // Fewer masked tiles than partial ones would be wrong results (the
  // numeric check would catch them too); more is only slower: the interval
  // bound of "some element masked" is not exact for every mask (a tile
  // covered by two disjuncts together, by neither alone).
  if (seen.maskedTiles < ideal->kvTilesPartial) {
    llvm::errs() << "attnc run: error: "
                 << ideal->kvTilesPartial - seen.maskedTiles
                 << " partial tiles ran without the mask\n";
    return false;
  }
  if (seen.maskedTiles > ideal->kvTilesPartial)
    llvm::errs() << "attnc run: note: "
                 << seen.maskedTiles - ideal->kvTilesPartial
                 << " more tiles ran the mask than hold both a visible and "
                    "a masked element\n";
  if (seen.kvTiles == ideal->kvTilesVisible)
    return true;
  llvm::errs() << "attnc run: error: tile skipping is not exact: "
               << seen.kvTiles - ideal->kvTilesVisible
               << " tiles visited beyond the visible ones\n";
  return false;
}

/// Builds `kernel`'s block mask for `tensors`, and says how long it took
/// and how many tiles it lists.
Status buildBlockMaskTimed(Runtime &runtime, const Kernel &kernel,
                           const AttentionTensors &tensors,
                           std::shared_ptr<const BlockMask> &mask) {
  Expected<std::unique_ptr<StreamTimer>> timer =
      runtime.backend().createTimer();
  if (!timer)
    return timer.takeStatus();
  if (Status s = (*timer)->start(nullptr); !s.ok())
    return s;
  Expected<std::shared_ptr<const BlockMask>> built =
      runtime.buildBlockMask(kernel, tensors);
  if (!built)
    return built.takeStatus();
  if (Status s = (*timer)->stop(nullptr); !s.ok())
    return s;
  Expected<double> ms = (*timer)->elapsedMs();
  if (!ms)
    return ms.takeStatus();
  mask = built.takeValue();
  std::vector<int32_t> counts, tiles;
  if (Status s = runtime.readBlockMask(*mask, counts, tiles); !s.ok())
    return s;
  int64_t listed = 0, full = 0;
  for (size_t list = 0; list < counts.size(); ++list)
    for (int32_t t = 0; t < counts[list]; ++t) {
      ++listed;
      full += tiles[list * mask->kvTiles + t] & 1;
    }
  llvm::errs() << "attnc run: block mask built in " << llvm::format("%.3f", *ms)
               << " ms (" << kernel.info.blockMaskName << ": " << listed
               << " KV tiles listed, " << full << " of them full, over "
               << counts.size() << " query tiles)\n";
  return Status::success();
}

} // namespace

int attnc::checkOutputs(const JitKernels &jit, const KernelInfo &info,
                        const std::string &backendName,
                        const AttentionInputs &inputs,
                        const std::vector<float> &o,
                        const std::vector<float> &lse) {
  std::string error;
  // The reference evaluates the checked AST itself, sharing nothing with
  // the compiler past Sema: a wrong lowering cannot hide in both.
  std::optional<AttentionOutputs> expected =
      astReference(jit.module().specs.front(), inputs, error);
  if (!expected)
    return fail("the float64 reference failed: " + error);
  AttentionOutputs actual;
  actual.o.assign(o.begin(), o.end());
  actual.lse.assign(lse.begin(), lse.end());
  OutputDiff diff = compareOutputs(actual, *expected);
  double oTol = info.bf16 ? 1e-2 : 2e-3, lseTol = 1e-3;
  bool pass = diff.within(oTol, lseTol);
  llvm::outs() << info.specName << " on " << backendName
               << ": |o - ref| / |ref| = " << diff.oRelErr << " (tolerance "
               << oTol << "), max |lse - ref| = " << diff.lseMaxAbsDiff
               << " (tolerance " << lseTol << ")";
  if (diff.nonFiniteMismatches)
    llvm::outs() << ", " << diff.nonFiniteMismatches
                 << " non-finite mismatches (" << diff.firstMismatch << ")";
  // The global norm can hide one bad sequence among long good ones.
  int64_t batch = inputs.batch();
  if (batch > 1) {
    int64_t rowWidth = int64_t(info.qHeads) * info.valueHeadDim(), worst = -1;
    double worstErr = -1;
    for (int64_t b = 0; b < batch; ++b) {
      AttentionOutputs a, e;
      size_t begin = size_t(inputs.qoIndptr[b]) * rowWidth;
      size_t end = size_t(inputs.qoIndptr[b + 1]) * rowWidth;
      a.o.assign(actual.o.begin() + begin, actual.o.begin() + end);
      e.o.assign(expected->o.begin() + begin, expected->o.begin() + end);
      double err = compareOutputs(a, e).oRelErr;
      if (err > worstErr) {
        worstErr = err;
        worst = b;
      }
    }
    llvm::outs() << ", worst sequence " << worst << ": " << worstErr;
  }
  llvm::outs() << ": " << (pass ? "PASS" : "FAIL") << "\n";
  // A check where no row sees any key compares zeros with zeros.
  if (!expected->lse.empty() && llvm::all_of(expected->lse, [](double v) {
        return std::isinf(v) && v < 0;
      }))
    llvm::errs() << "attnc run: warning: every query row is fully masked, so "
                    "this check compared only zeros (o = 0, lse = -inf); "
                    "pick lengths where the mask lets keys through\n";
  return pass ? 0 : 1;
}

int attnc::runCommand(const RunOptions &options) {
  if (options.random == !options.inputsDir.empty())
    return fail("give exactly one of --inputs DIR and --random");
  if (!options.random && options.outDir.empty() && !options.check)
    return fail("--inputs needs --out DIR (or --check)");
  // Where the outputs go is checked before any work, not after the kernel.
  if (!options.outDir.empty())
    if (Status s = prepareOutputDir(options.outDir); !s.ok())
      return fail(s.message());

  // The path and the spec are checked by JitKernels (loadSpec).
  RuntimeOptions runtimeOptions;
  runtimeOptions.backend = options.backend;
  Expected<std::unique_ptr<Runtime>> runtime = Runtime::create(runtimeOptions);
  if (!runtime)
    return fail(runtime.status().message());
  llvm::errs() << "attnc run: backend " << (*runtime)->backend().name() << " ("
               << (*runtime)->selection() << ")\n";

  JitKernels::Options jitOptions;
  jitOptions.kernel = options.kernel;
  jitOptions.tuningDB = options.tuningDB;
  jitOptions.path = options.path;
  jitOptions.simFault = options.simFault;
  // A removed synchronization is found by checked mode's race detector;
  // checked mode also counts the K/V bytes the kernel reads.
  jitOptions.cascade = options.cascade;
  if (options.cascade && !options.random)
    return fail("--cascade runs on --random inputs (it builds the shared "
                "pages itself)");
  if (!options.simFault.empty() || options.countTiles || options.cascade) {
    sim::SimOptions simOptions = sim::getOptions();
    simOptions.checked = true;
    sim::setOptions(simOptions);
  }
  jitOptions.blockQ = static_cast<int>(options.blockQ);
  jitOptions.blockKV = static_cast<int>(options.blockKV);
  jitOptions.blockMask = options.blockMask;
  mlir::MLIRContext context;
  std::optional<LoadedSpec> loaded =
      loadSpec(**runtime, context, options.spec, jitOptions, "attnc run");
  if (!loaded)
    return 1;
  JitKernels &jit = *loaded->jit;
  // Every variant describes the same tensors (dtype, heads, params).
  const KernelInfo &info = jit.info();
  attn::KernelOp reference = loaded->kernel();

  std::string error;
  mlir::FailureOr<AttentionInputs> inputs;
  if (options.random) {
    if (options.batch < 0 || options.qLen < 0 || options.kvLen < 0)
      return fail("--batch, --q-len and --kv-len must not be negative");
    // Q, K, V (and O) in float64 on the host, and again as staged: refuse
    // what cannot fit before allocating any of it.
    long double elements =
        static_cast<long double>(options.batch) *
        (static_cast<long double>(options.qLen) * info.qHeads * 2 +
         static_cast<long double>(options.kvLen) * info.kvHeads * 2) *
        info.headDim;
    long double bytes = elements * (sizeof(double) + sizeof(float));
    if (Status s = checkHostAllocation(
            "--random --batch " + std::to_string(options.batch) + " --q-len " +
                std::to_string(options.qLen) + " --kv-len " +
                std::to_string(options.kvLen),
            bytes >= 1.8e19L ? UINT64_MAX : static_cast<uint64_t>(bytes));
        !s.ok())
      return fail(s.message());
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
  if (options.cascade) {
    JitKernels::Options plainOptions = jitOptions;
    plainOptions.cascade = false;
    plainOptions.simFault.clear();
    std::optional<LoadedSpec> plain =
        loadSpec(**runtime, context, options.spec, plainOptions, "attnc run");
    if (!plain)
      return 1;
    return runCascadeCommand(**runtime, jit, *plain->jit, std::move(*inputs),
                             options);
  }
  if (!options.saveInputsDir.empty()) {
    Status saved = saveInputs(options.saveInputsDir, *inputs, info);
    if (!saved.ok())
      return fail(saved.toString());
  }

  // The kernel for this shape: a tuned configuration for this spec, device
  // and shape bucket when the database has one, else the heuristics.
  // Inputs read from files are not validated yet (Runtime::run does that,
  // naming the tensor): read only what is there.
  int64_t maxQ = 0, maxKV = 0;
  for (int64_t b = 0; b < inputs->batch(); ++b) {
    maxQ =
        std::max<int64_t>(maxQ, inputs->qoIndptr[b + 1] - inputs->qoIndptr[b]);
    if (info.paged && b < static_cast<int64_t>(inputs->kvLens.size()))
      maxKV = std::max<int64_t>(maxKV, inputs->kvLens[b]);
    if (!info.paged && b + 1 < static_cast<int64_t>(inputs->kvIndptr.size()))
      maxKV = std::max<int64_t>(maxKV,
                                inputs->kvIndptr[b + 1] - inputs->kvIndptr[b]);
  }
  Expected<JitKernels::Selection> pick =
      jit.select(inputs->batch(), maxQ, maxKV);
  if (!pick)
    return fail(pick.status().toString());
  if (pick->tuned)
    llvm::errs() << "attnc run: " << pick->why << "\n";
  // An explicit --splits wins over a tuned count.
  int splits = options.splits ? options.splits : pick->numSplits;
  const std::string &path = pick->config.path;
  llvm::errs() << "attnc run: path "
               << (path == "decode"
                       ? "decode (query heads packed per KV head, split-KV)"
                   : path == "packed"
                       ? "packed (query heads packed per KV head)"
                       : "prefill")
               << ", max q_len " << maxQ << "\n";
  const Kernel &kernel = pick->kernel;
  StagedTensors staged((*runtime)->backend(), info);
  AttentionTensors tensors;
  Status s = staged.stage(*inputs, tensors);
  bool onSim = std::string((*runtime)->backend().name()) == "sim";
  if (options.countTiles && !onSim)
    return fail("--count-tiles counts under the sim backend only");
  // A runtime block mask is built first, and timed apart: it depends on
  // the lengths and params only, so a model builds it once for all layers.
  std::shared_ptr<const BlockMask> blockMask;
  if (s.ok() && kernel.info.hasBlockMask()) {
    s = buildBlockMaskTimed(**runtime, kernel, tensors, blockMask);
    tensors.blockMask = blockMask.get();
  }
  sim::resetCounters();
  if (s.ok())
    s = (*runtime)->run(kernel, tensors, nullptr, splits);
  if (s.ok())
    s = (*runtime)->backend().synchronize(nullptr);
  if (!s.ok())
    return fail(s.toString());
  if (options.countTiles && !reportTileCounts(jit, kernel.info, *inputs))
    return 1;
  std::vector<float> o, lse;
  s = staged.fetch(tensors, o, lse);
  if (!s.ok())
    return fail(s.toString());

  if (!options.outDir.empty()) {
    s = writeOutputs(options.outDir, o, lse, tensors);
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
        timeKernel(**runtime, kernel, info, *inputs, timing);
    if (!timed)
      return fail(timed.status().toString());
    double ms = timed->medianMs;
    double flops = 0, bytes = 0;
    for (int64_t b = 0; b < inputs->batch(); ++b) {
      double q = inputs->qoIndptr[b + 1] - inputs->qoIndptr[b];
      double kv = info.paged ? inputs->kvLens[b]
                             : inputs->kvIndptr[b + 1] - inputs->kvIndptr[b];
      int dk = info.headDim, dv = info.valueHeadDim();
      flops += 2.0 * q * kv * info.qHeads * (dk + dv);
      bytes += 2.0 * (q * info.qHeads + kv * info.kvHeads) * (dk + dv);
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

  return checkOutputs(jit, info, (*runtime)->backend().name(), *inputs, o, lse);
}
