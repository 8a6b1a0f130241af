//===- attnc.cpp - The attnc compiler driver ------------------------------===//
//
//   attnc SPEC.attn [--kernel NAME] [--emit=ast|attn|mlir|cuda|ptx|cubin]
//         [--arch sm_XX] [-o FILE]
//         [--block-q N] [--block-kv N] [--stop-after STAGE]
//         [--print-ir-after-all]
//
// Reads an attention spec, checks it, lowers it through the canonical
// pipeline and prints the requested stage. Errors
// in the spec print as file:line:col with the source line and a caret, and
// the exit code is 1.
//
//===----------------------------------------------------------------------===//
#include "EmitAot.h"
#include "RunCommand.h"
#include "TuneCommand.h"
#include "codegen/CudaEmitter.h"
#include "dialect/AttnDialect.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "passes/Passes.h"
#include "runtime/jit/DiskCache.h"
#include "runtime/jit/Nvrtc.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/SourceMgr.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <iostream>
#include <sstream>

namespace cl = llvm::cl;
using namespace attnc;
namespace jit = attnc::jit;

namespace {
enum class EmitStage { AST, Attn, MLIR, Cuda, PTX, Cubin, Aot };

cl::OptionCategory attncCategory("attnc options");

// attnc tune SPEC ...
cl::SubCommand tuneSub("tune", "Time tile shapes and paths for a spec on given "
                               "shapes; store the best in the tuning database");
cl::opt<std::string> tuneSpec(cl::Positional, cl::desc("<spec.attn>"),
                              cl::Required, cl::sub(tuneSub));
cl::opt<std::string> tuneKernel("kernel", cl::desc("The attention block"),
                                cl::value_desc("name"), cl::sub(tuneSub));
cl::opt<std::string> tuneShapes("shapes",
                                cl::desc("Problem shapes BATCH:Q_LEN:KV_LEN, "
                                         "comma-separated"),
                                cl::Required, cl::sub(tuneSub));
cl::opt<std::string>
    tuneCandidates("candidates",
                   cl::desc("Tile shapes BRxBC to try, comma-separated "
                            "(default: 16..128 x 16..128)"),
                   cl::sub(tuneSub));
cl::opt<std::string> tuneBackend("backend", cl::desc("auto | cuda | sim"),
                                 cl::init("auto"), cl::sub(tuneSub));
cl::opt<std::string> tunePaths("paths",
                               cl::desc("Paths to try, comma-separated: "
                                        "prefill, packed (GQA heads packed "
                                        "into tile rows), decode (packed + "
                                        "split-KV)"),
                               cl::init("prefill,packed,decode"),
                               cl::sub(tuneSub));
cl::opt<std::string>
    tuneStages("stages",
               cl::desc("Pipeline depths to try: K tiles in flight, 1 and/or "
                        "2 (attn-prefetch-kv)"),
               cl::init("1,2"), cl::sub(tuneSub));
cl::opt<std::string>
    tuneRowsPerWarp("rows-per-warp",
                    cl::desc("Query rows per warp to try, multiples of 16: "
                             "warps = Br / rows (32 reuses each K/V fragment "
                             "twice)"),
                    cl::init("16,32"), cl::sub(tuneSub));
cl::opt<std::string> tuneSplits("splits",
                                cl::desc("Split counts to try on the decode "
                                         "path: auto and/or 1..64"),
                                cl::init("auto,1,2,4,8,16"), cl::sub(tuneSub));
cl::opt<int> tuneRepeat("repeat", cl::desc("Timed runs per configuration"),
                        cl::init(3), cl::sub(tuneSub));
cl::opt<int> tuneWarmup("warmup",
                        cl::desc("Untimed runs before the timed ones"),
                        cl::init(1), cl::sub(tuneSub));
cl::opt<int> tuneTop("top",
                     cl::desc("Configurations listed per shape (best first)"),
                     cl::init(5), cl::sub(tuneSub));

/// The tuning database: --tuning-db, $ATTNC_TUNING_DB, else tuning.json in
/// the kernel cache directory.
std::string tuningDBPath(const std::string &given) {
  if (!given.empty())
    return given;
  if (const char *env = std::getenv("ATTNC_TUNING_DB"); env && *env)
    return env;
  std::string dir = jit::defaultCacheDir();
  jit::makeDirectories(dir);
  return dir + "/tuning.json";
}
cl::opt<std::string> tuneDB("db", cl::desc("The tuning database file"),
                            cl::value_desc("file"), cl::sub(tuneSub));

// attnc run SPEC ...
cl::SubCommand runSub("run", "Compile a spec's kernel, run it on inputs (.npy "
                             "files or random) and write or check O and LSE");
cl::opt<std::string> runSpec(cl::Positional, cl::desc("<spec.attn>"),
                             cl::Required, cl::sub(runSub));
cl::opt<std::string> runKernel("kernel", cl::desc("The attention block to run"),
                               cl::value_desc("name"), cl::sub(runSub));
cl::opt<std::string>
    runInputs("inputs",
              cl::desc("Directory of .npy inputs named after the tensor "
                       "contract (q, k, v, qo_indptr, kv_indptr | k_cache, "
                       "v_cache, block_table, kv_lens; one per param)"),
              cl::value_desc("dir"), cl::sub(runSub));
cl::opt<std::string> runOut("out",
                            cl::desc("Write o.npy and lse.npy (float32) here"),
                            cl::value_desc("dir"), cl::sub(runSub));
cl::opt<std::string> runSaveInputs(
    "save-inputs",
    cl::desc("Write the inputs used (e.g. --random ones) as .npy files that "
             "--inputs reads back"),
    cl::value_desc("dir"), cl::sub(runSub));
cl::opt<std::string> runBackend("backend", cl::desc("auto | cuda | sim"),
                                cl::init("auto"), cl::sub(runSub));
cl::opt<bool> runRandom("random", cl::desc("Random inputs instead of --inputs"),
                        cl::sub(runSub));
cl::opt<int64_t> runBatch("batch", cl::desc("Sequences (--random)"),
                          cl::init(1), cl::sub(runSub));
cl::opt<int64_t> runQLen("q-len", cl::desc("Queries per sequence (--random)"),
                         cl::init(1), cl::sub(runSub));
cl::opt<int64_t> runKVLen("kv-len", cl::desc("Keys per sequence (--random)"),
                          cl::init(1), cl::sub(runSub));
cl::opt<uint64_t> runSeed("seed", cl::desc("Random seed"), cl::init(0),
                          cl::sub(runSub));
cl::opt<bool>
    runCheck("check",
             cl::desc("Compare with the float64 reference; print the error "
                      "norms and PASS/FAIL (exit code 1 on FAIL)"),
             cl::sub(runSub));
cl::opt<std::string> runPath(
    "path",
    cl::desc("auto: pick the kernel variant by the shape of the inputs; "
             "prefill; packed (query heads packed per KV head); decode "
             "(packed, split-KV)"),
    cl::init("auto"), cl::sub(runSub));
cl::opt<std::string> runTuningDB(
    "tuning-db",
    cl::desc("Tuning database to consult (default: $ATTNC_TUNING_DB or the "
             "kernel cache's tuning.json)"),
    cl::value_desc("file"), cl::sub(runSub));
cl::opt<int> runTime("time",
                     cl::desc("Time N more launches; print the median, "
                              "TFLOP/s and GB/s"),
                     cl::value_desc("N"), cl::init(0), cl::sub(runSub));
cl::opt<int> runSplits("splits",
                       cl::desc("KV splits on the decode path (0: chosen "
                                "from the problem and the device)"),
                       cl::init(0), cl::sub(runSub));
cl::opt<std::string> runSimFault(
    "sim-fault",
    cl::desc("Remove the N-th __syncthreads() (drop-barrier:N) or cp.async "
             "wait (drop-wait:N) of the kernel, counted from 0 in source "
             "order, before compiling it for sim: checked mode must then "
             "report a race"),
    cl::value_desc("drop-barrier:N|drop-wait:N"), cl::sub(runSub));
cl::opt<bool> runCountTiles(
    "count-tiles",
    cl::desc("Under sim: print the KV tiles the kernel visited and masked "
             "next to the tiles that hold a visible element (from the "
             "float64 reference's mask); fail when they differ"),
    cl::init(false), cl::sub(runSub));
cl::opt<std::string> runBlockMask(
    "block-mask",
    cl::desc("Which masks iterate over a runtime block mask built by a "
             "pre-pass kernel (timed separately): auto (those the compiler "
             "cannot bound), always, never"),
    cl::value_desc("auto|always|never"), cl::init("auto"), cl::sub(runSub));
cl::opt<bool> runCascade(
    "cascade",
    cl::desc("Cascade attention (--random, paged): groups of --group-size "
             "sequences share their first --shared-prefix keys' pages; the "
             "shared pages are read once per group, and under sim the K/V "
             "bytes read are compared with a plain launch"),
    cl::sub(runSub));
cl::opt<int64_t> runSharedPrefix(
    "shared-prefix",
    cl::desc("--cascade: keys each group shares (whole pages of them)"),
    cl::init(0), cl::sub(runSub));
cl::opt<int64_t> runGroupSize(
    "group-size",
    cl::desc("--cascade: sequences per group (0: the whole batch)"),
    cl::init(0), cl::sub(runSub));
cl::opt<int64_t> runBlockQ("block-q",
                           cl::desc("Query rows per CTA (0: by head_dim)"),
                           cl::init(0), cl::sub(runSub));
cl::opt<int64_t> runBlockKV("block-kv",
                            cl::desc("KV rows per loop iteration (0: by "
                                     "head_dim)"),
                            cl::init(0), cl::sub(runSub));

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<spec.attn>"),
                               cl::Required, cl::cat(attncCategory));
cl::opt<std::string> outputFile("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(attncCategory));
cl::opt<std::string>
    kernelName("kernel",
               cl::desc("Only this attention block of the file (default: all)"),
               cl::value_desc("name"), cl::cat(attncCategory));
cl::opt<EmitStage> emitStage(
    "emit", cl::desc("What to print"), cl::init(EmitStage::MLIR),
    cl::values(
        clEnumValN(EmitStage::AST, "ast",
                   "the checked spec, printed back as DSL"),
        clEnumValN(EmitStage::Attn, "attn",
                   "the attn dialect IR built from the spec (attn.sdpa)"),
        clEnumValN(EmitStage::MLIR, "mlir",
                   "the IR after the lowering pipeline (tiled, "
                   "online softmax, explicit addressing)"),
        clEnumValN(EmitStage::Cuda, "cuda",
                   "the CUDA C++ kernel printed from the lowered IR"),
        clEnumValN(EmitStage::PTX, "ptx",
                   "PTX for --arch, compiled with NVRTC"),
        clEnumValN(EmitStage::Cubin, "cubin",
                   "a cubin for --arch, compiled with NVRTC (binary); "
                   "ptxas' resource report goes to stderr"),
        clEnumValN(EmitStage::Aot, "aot",
                   "a C++ file registering the kernels, with cubins for "
                   "--archs (runtime/aot/Registry.h)")),
    cl::cat(attncCategory));
cl::opt<int64_t> blockQ("block-q",
                        cl::desc("Query rows per CTA (Br); 0 chooses from "
                                 "head_dim"),
                        cl::init(0), cl::cat(attncCategory));
cl::opt<int64_t> blockKV("block-kv",
                         cl::desc("KV rows per loop iteration (Bc); 0 chooses "
                                  "from head_dim (64, or 32 above 128)"),
                         cl::init(0), cl::cat(attncCategory));
/// `--stop-after=STAGE`. libLLVM already registers an option of that name
/// (for its code generator), and two options cannot share a name, so attnc
/// adopts that one when it exists and registers its own otherwise.
cl::opt<std::string> &stopAfterOption() {
  static const char *desc =
      "Stop the pipeline after this stage (attn-online-softmax, attn-tile, "
      "attn-block-table, attn-mask-analysis, cleanup)";
  static cl::opt<std::string> *option = [] {
    cl::Option *existing = cl::getRegisteredOptions().lookup("stop-after");
    // LLVM declares it as cl::opt<std::string> (TargetPassConfig.cpp).
    auto *adopted = static_cast<cl::opt<std::string> *>(existing);
    if (!adopted)
      adopted = new cl::opt<std::string>("stop-after");
    adopted->setDescription(desc);
    adopted->setValueStr("stage");
    adopted->setHiddenFlag(cl::NotHidden);
    adopted->addCategory(attncCategory);
    return adopted;
  }();
  return *option;
}
cl::opt<bool> packGQA(
    "pack-gqa",
    cl::desc("Pack the query heads of each KV head into the rows of one tile "
             "(the decode layout: K/V read once per KV head)"),
    cl::cat(attncCategory));
cl::opt<int> warps("warps",
                   cl::desc("Warps per CTA sharing the block-q rows, each a "
                            "multiple of 16 rows (default block-q / 16)"),
                   cl::init(0), cl::cat(attncCategory));
cl::opt<bool> prefetchKV(
    "prefetch-kv",
    cl::desc("Load K tile j+1 while tile j is used (default true; "
             "--prefetch-kv=false loads each tile in its own iteration)"),
    cl::init(true), cl::cat(attncCategory));
cl::opt<bool> splitKV(
    "split-kv",
    cl::desc("Split each sequence's KV range across program instances, with "
             "a merge kernel (flash-decoding)"),
    cl::cat(attncCategory));
cl::opt<bool> cascade(
    "cascade",
    cl::desc("Compile the kernel for cascade attention (attn-cascade): query "
             "positions and each sequence's first key given at launch, plus "
             "a merge kernel"),
    cl::cat(attncCategory));
cl::opt<bool> remarks(
    "remarks",
    cl::desc("Say, at each mask, which form of KV tile skipping it gets: one "
             "contiguous range, a union of ranges, or none"),
    cl::cat(attncCategory));
cl::opt<int64_t> maxTileRanges(
    "max-tile-ranges",
    cl::desc("Most runs of visible KV tiles a query tile iterates over "
             "(default 4; 1: one contiguous range)"),
    cl::init(4), cl::cat(attncCategory));
cl::opt<std::string> blockMask(
    "block-mask",
    cl::desc("Which masks iterate over a runtime block mask built by a "
             "pre-pass kernel: auto (masks the static analysis cannot "
             "bound), always (every mask), never"),
    cl::value_desc("auto|always|never"), cl::init("auto"),
    cl::cat(attncCategory));
cl::opt<bool> printIRAfterAll("print-ir-after-all",
                              cl::desc("Print the IR after every pass"),
                              cl::cat(attncCategory));
cl::opt<std::string> arch("arch",
                          cl::desc("GPU architecture for --emit=ptx|cubin"),
                          cl::value_desc("sm_XX"), cl::init("sm_80"),
                          cl::cat(attncCategory));
cl::list<std::string> archs("archs",
                            cl::desc("Architectures for --emit=aot (default "
                                     "sm_80,sm_90)"),
                            cl::CommaSeparated, cl::cat(attncCategory));
cl::opt<bool> debugInfo("debug-info",
                        cl::desc("Print source locations in the IR"),
                        cl::cat(attncCategory));

/// Runs the canonical pipeline on `module` as the options ask.
mlir::LogicalResult lowerModule(mlir::MLIRContext &context,
                                mlir::ModuleOp module) {
  mlir::PassManager pm(&context, mlir::ModuleOp::getOperationName());
  std::string error;
  PipelineOptions pipeline;
  pipeline.blockQ = blockQ;
  pipeline.blockKV = blockKV;
  pipeline.packGQA = packGQA;
  pipeline.splitKV = splitKV;
  pipeline.cascade = cascade;
  pipeline.prefetchKV = prefetchKV;
  pipeline.warps = warps;
  pipeline.maskRemarks = remarks;
  pipeline.maxTileRanges = maxTileRanges;
  pipeline.blockMask = blockMask;
  pipeline.stopAfter = stopAfterOption().getValue();
  if (failed(buildAttnPipeline(pm, pipeline, &error))) {
    llvm::errs() << "attnc: error: " << error << "\n";
    return mlir::failure();
  }
  if (printIRAfterAll) {
    context.disableMultithreading();
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/[](mlir::Pass *,
                                     mlir::Operation *) { return false; },
        /*shouldPrintAfterPass=*/
        [](mlir::Pass *, mlir::Operation *) { return true; },
        /*printModuleScope=*/false, /*printAfterOnlyOnChange=*/false);
  }
  return pm.run(module);
}

/// Compiles generated CUDA with NVRTC for --arch and writes PTX or a cubin.
mlir::LogicalResult compileCuda(const std::string &cuda, bool cubin,
                                llvm::raw_ostream &out) {
  jit::NvrtcOptions options;
  options.arch = arch;
  options.cubin = cubin;
  options.includeDirs = jit::defaultIncludeDirs();
  jit::NvrtcResult result =
      jit::compileWithNvrtc(cuda, inputFile + ".cu", options);
  if (!result.ok) {
    llvm::errs() << "attnc: error: " << result.error << "\n";
    return mlir::failure();
  }
  if (cubin) {
    out.write(result.cubin.data(), result.cubin.size());
    for (const jit::KernelResources &k : result.resources)
      llvm::errs() << k.kernel << " (" << arch << "): " << k.registers
                   << " registers, " << k.spillStoreBytes
                   << " bytes spill stores, " << k.spillLoadBytes
                   << " bytes spill loads, " << k.stackBytes
                   << " bytes stack\n";
  } else {
    out << result.ptx;
  }
  return mlir::success();
}

/// Keeps only the block named `name`; false if there is none.
bool selectKernel(dsl::Module &module, const std::string &name) {
  for (dsl::AttentionSpec &spec : module.specs) {
    if (spec.name != name)
      continue;
    dsl::AttentionSpec selected = std::move(spec);
    module.specs.clear();
    module.specs.push_back(std::move(selected));
    return true;
  }
  return false;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  stopAfterOption();
  cl::HideUnrelatedOptions(attncCategory);
  // attnc's own version (not LLVM's, which cl prints by default), and the
  // toolchain its kernels are compiled with.
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "attnc " << ATTNC_VERSION << " (LLVM/MLIR " << LLVM_VERSION_STRING
       << ", NVRTC " << jit::nvrtcVersion() << ")\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "attnc: the attention compiler\n\n"
      "Compiles attention variants written in the attnc DSL.\n"
      "  attnc SPEC.attn [options]       print a stage\n"
      "  attnc run SPEC.attn [options]   run a kernel "
      "(attnc run --help)\n");
  if (tuneSub) {
    TuneOptions options;
    options.spec = tuneSpec;
    options.kernel = tuneKernel;
    options.shapes = tuneShapes;
    options.candidates = tuneCandidates;
    options.backend = tuneBackend;
    options.paths = tunePaths;
    options.stages = tuneStages;
    options.rowsPerWarp = tuneRowsPerWarp;
    options.splits = tuneSplits;
    options.repeat = tuneRepeat;
    options.warmup = tuneWarmup;
    options.top = tuneTop;
    options.dbPath = tuningDBPath(tuneDB);
    return tuneCommand(options);
  }
  if (runSub) {
    RunOptions options;
    options.spec = runSpec;
    options.kernel = runKernel;
    options.inputsDir = runInputs;
    options.outDir = runOut;
    options.saveInputsDir = runSaveInputs;
    options.backend = runBackend;
    options.random = runRandom;
    options.batch = runBatch;
    options.qLen = runQLen;
    options.kvLen = runKVLen;
    options.seed = runSeed;
    options.check = runCheck;
    options.blockQ = runBlockQ;
    options.blockKV = runBlockKV;
    options.path = runPath;
    options.tuningDB = tuningDBPath(runTuningDB);
    options.timeRuns = runTime;
    options.splits = runSplits;
    options.simFault = runSimFault;
    options.countTiles = runCountTiles;
    options.cascade = runCascade;
    options.sharedPrefix = runSharedPrefix;
    options.groupSize = runGroupSize;
    options.blockMask = runBlockMask;
    return runCommand(options);
  }

  std::string error;
  std::optional<dsl::SourceFile> source = dsl::readSourceFile(inputFile, error);
  if (!source) {
    llvm::errs() << "attnc: error: " << error << "\n";
    return 1;
  }
  dsl::DiagnosticEngine diags(*source);
  std::optional<dsl::Module> module = dsl::parseAndCheck(*source, diags);
  if (!module) {
    diags.print(std::cerr);
    return 1;
  }
  if (!kernelName.empty() && !selectKernel(*module, kernelName)) {
    llvm::errs() << "attnc: error: " << inputFile
                 << " has no attention block named '" << kernelName << "'\n";
    return 1;
  }

  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << "attnc: error: " << error << "\n";
    return 1;
  }

  switch (emitStage) {
  case EmitStage::AST:
    output->os() << dsl::printModule(*module);
    break;
  case EmitStage::Attn:
  case EmitStage::MLIR:
  case EmitStage::Cuda:
  case EmitStage::PTX:
  case EmitStage::Cubin:
  case EmitStage::Aot: {
    mlir::MLIRContext context;
    // Remarks, warnings and errors from the passes point into the spec.
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(source->text, source->name),
        llvm::SMLoc());
    mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
    context.printOpOnDiagnostic(false);
    mlir::OwningOpRef<mlir::ModuleOp> ir = buildModule(context, *module);
    if (!ir) {
      llvm::errs() << "attnc: internal error: the IR built from " << inputFile
                   << " does not verify\n";
      return 1;
    }
    if (emitStage != EmitStage::Attn && failed(lowerModule(context, *ir)))
      return 1;
    if (emitStage == EmitStage::Cuda || emitStage == EmitStage::PTX ||
        emitStage == EmitStage::Cubin || emitStage == EmitStage::Aot) {
      std::vector<KernelInfo> infos;
      std::string cuda;
      llvm::raw_string_ostream cudaStream(cuda);
      if (failed(emitCudaModule(*ir, cudaStream, infos)))
        return 1;
      cudaStream.flush();
      if (emitStage == EmitStage::Cuda) {
        output->os() << cuda;
        break;
      }
      if (emitStage == EmitStage::Aot) {
        std::vector<std::string> targets(archs.begin(), archs.end());
        if (targets.empty())
          targets = {"sm_80", "sm_90"};
        if (!emitAotRegistry(inputFile, cuda, infos, targets, output->os()))
          return 1;
        break;
      }
      if (failed(
              compileCuda(cuda, emitStage == EmitStage::Cubin, output->os())))
        return 1;
      break;
    }
    mlir::OpPrintingFlags flags;
    if (debugInfo)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false)
          .useLocalScope(); // locations inline, next to their ops
    ir->print(output->os(), flags);
    break;
  }
  }
  output->keep();
  return 0;
}
