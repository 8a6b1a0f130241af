// JIT use of attnc from C++: a spec given as text, the kernel for each
// problem shape chosen at run time, tuned on first use.
//
//   jit_autotune SPEC.attn TUNING_DB [BATCH Q_LEN KV_LEN]
//
// The first run on a shape bucket tunes it (path, tiles, pipeline depth,
// split count; a narrow space here, so it finishes quickly under sim) and
// stores the winner in TUNING_DB; later runs find it there. Each run then
// executes the chosen kernel on random inputs and checks O against the
// float64 reference.
#include "tune/JitKernels.h"
#include "interp/Interpreter.h"
#include "dialect/MLIRGen.h"
#include "tune/StagedTensors.h"
#include "tune/Tuner.h"

#include "mlir/IR/MLIRContext.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace attnc;

int main(int argc, char **argv) {
  if (argc != 3 && argc != 6) {
    std::fprintf(stderr, "usage: %s SPEC.attn TUNING_DB [BATCH Q_LEN KV_LEN]\n",
                 argv[0]);
    return 2;
  }
  std::ifstream file(argv[1]);
  if (!file) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  std::stringstream text;
  text << file.rdbuf();
  int64_t batch = argc == 6 ? std::atoll(argv[3]) : 4;
  int64_t qLen = argc == 6 ? std::atoll(argv[4]) : 1;
  int64_t kvLen = argc == 6 ? std::atoll(argv[5]) : 700;

  auto runtime = Runtime::create(RuntimeOptions{});
  if (!runtime) {
    std::fprintf(stderr, "%s\n", runtime.status().toString().c_str());
    return 1;
  }
  std::printf("backend: %s\n", (*runtime)->selection().c_str());

  // A narrow space keeps the first-use tuning short; the defaults are
  // docs/tuning.md's.
  TuneSpace space;
  space.tiles = {{32, 32}, {64, 64}};
  space.stages = {2};
  space.splits = {0, 4};
  space.repeat = 1;
  JitKernels::Options options;
  options.tuningDB = argv[2];
  options = withAutotuning(options, space, [](const std::string &step) {
    std::printf("  tuning: %s\n", step.c_str());
  });
  auto jit = JitKernels::create(**runtime, argv[1], text.str(), options);
  if (!jit) {
    std::fprintf(stderr, "%s\n", jit.status().toString().c_str());
    return 1;
  }
  auto pick = (*jit)->select(batch, qLen, kvLen);
  if (!pick) {
    std::fprintf(stderr, "%s\n", pick.status().toString().c_str());
    return 1;
  }
  std::printf("kernel for %lld:%lld:%lld: %s\n", (long long)batch,
              (long long)qLen, (long long)kvLen, pick->why.c_str());

  // Random inputs, the chosen kernel, and the float64 reference.
  mlir::MLIRContext context;
  auto reference = buildModule(context, (*jit)->module());
  attn::KernelOp kernel = *reference->getOps<attn::KernelOp>().begin();
  RandomInputSpec spec;
  spec.qLens.assign(batch, qLen);
  spec.kvLens.assign(batch, kvLen);
  spec.seed = 3;
  std::string error;
  auto inputs = makeRandomInputs(kernel, spec, error);
  auto expected = mlir::succeeded(inputs)
                      ? interpretKernel(kernel, *inputs, error)
                      : mlir::FailureOr<AttentionOutputs>();
  if (mlir::failed(inputs) || mlir::failed(expected)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  StagedTensors staged((*runtime)->backend(), (*jit)->info());
  AttentionTensors tensors;
  AttentionOutputs actual;
  Status s = staged.stage(*inputs, tensors);
  if (s.ok())
    s = (*runtime)->run(pick->kernel, tensors, nullptr, pick->numSplits);
  if (s.ok())
    s = (*runtime)->backend().synchronize(nullptr);
  if (s.ok())
    s = staged.fetch(tensors, actual);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.toString().c_str());
    return 1;
  }
  OutputDiff diff = compareOutputs(actual, *expected);
  bool pass = diff.within((*jit)->info().bf16 ? 1e-2 : 2e-3, 1e-3);
  std::printf("|o - ref| / |ref| = %.3e, max |lse - ref| = %.3e: %s\n",
              diff.oRelErr, diff.lseMaxAbsDiff, pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}
