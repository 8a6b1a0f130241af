//===- NumericsTest.cpp - Generated kernels vs float64, on sim and a GPU --===//
//
// Each kernel of the matrix is printed as CUDA, built for the backend and
// run on random inputs (never zeros; spare pages and unused page slots hold
// NaN; O and LSE are pre-filled with NaN so every element must be written).
// Under sim it runs in checked mode, which fails the launch on any access
// outside the tensors; the [gpu] test runs the same matrix on the machine's
// GPU (and warns that it did not run where there is none). O and LSE are
// compared with the float64 reference evaluated from the spec's checked AST
// (reference/AstReference: no MLIR in between):
//   fp16: ‖o − ref‖/‖ref‖ ≤ 2e-3,  bf16: ≤ 1e-2,  |lse − ref| ≤ 1e-3,
// and fully masked rows must give o = 0 and lse = -inf exactly.
//
//===----------------------------------------------------------------------===//
#include "KernelVariants.h"

#include "interp/Interpreter.h"
#include "reference/AstReference.h"
#include "runtime/api/Runtime.h"
#include "runtime/sim/Launch.h"
#include "tests/unit/Skip.h"
#include "tune/CascadeInputs.h"
#include "tune/StagedTensors.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace attnc;
using namespace attnc::test;

namespace {

/// One launch of `kernel` on `inputs`.
AttentionOutputs runPlain(Runtime &runtime, const Kernel &kernel,
                          const BuiltVariant &built,
                          const KernelVariant &variant,
                          const AttentionInputs &inputs) {
  StagedTensors staged(runtime.backend(), built.info);
  AttentionTensors tensors;
  Status s = staged.stage(inputs, tensors);
  if (!s.ok())
    FAIL(s.toString());
  s = runtime.run(kernel, tensors, nullptr, variant.splits);
  if (s.ok())
    s = runtime.backend().synchronize(nullptr);
  if (!s.ok())
    FAIL("the launch failed: " << s.toString() << "\n--- kernel ---\n"
                               << built.cuda);
  AttentionOutputs actual;
  REQUIRE(staged.fetch(tensors, actual).ok());
  return actual;
}

/// Cascade attention: `inputs`' groups share their first pages (the block
/// tables change, and the reference reads them after), then the prefix
/// launch, the suffix launch and the merge.
AttentionOutputs runCascade(Runtime &runtime, const Kernel &kernel,
                            const BuiltVariant &built,
                            const KernelVariant &variant,
                            AttentionInputs &inputs) {
  Expected<CascadeLayout> layout = shareLeadingPages(
      inputs, variant.pageSize, variant.sharedPrefix, variant.groupSize);
  if (!layout)
    FAIL(layout.status().toString());
  StagedCascade staged(runtime.backend(), built.info);
  CascadeTensors tensors;
  Status s = staged.stage(inputs, *layout, tensors);
  if (!s.ok())
    FAIL(s.toString());
  CascadeReport report;
  s = runtime.runCascade(kernel, tensors, nullptr, variant.splits, &report);
  if (!s.ok())
    FAIL("the cascade failed: " << s.toString() << "\n--- kernel ---\n"
                                << built.cuda);
  // The layout shares something, and the launches read less than one
  // launch over whole sequences would.
  CHECK(report.prefixRows > 0);
  CHECK(report.prefixRows + report.suffixRows < report.plainRows);
  AttentionOutputs actual;
  REQUIRE(staged.fetch(tensors, actual).ok());
  return actual;
}

/// Runs every kernel of the matrix on `runtime`'s backend and checks it.
void checkMatrix(Runtime &runtime) {
  mlir::MLIRContext context;
  uint64_t seed = 7;
  for (const KernelVariant &variant : kernelVariants()) {
    INFO("variant " << variant.name << "\n" << variant.specText());
    BuiltVariant built = buildVariant(context, variant);

    std::string error;
    Expected<Kernel> kernel = runtime.load(built.cuda, built.info);
    if (!kernel)
      FAIL(kernel.status().toString());

    attn::KernelOp reference = onlyKernel(*built.reference);
    RandomInputSpec spec;
    spec.qLens = variant.qLens;
    spec.kvLens = variant.kvLens;
    spec.seed = ++seed;
    mlir::FailureOr<AttentionInputs> inputs =
        makeRandomInputs(reference, spec, error);
    if (failed(inputs))
      FAIL(error);

    // Through the runtime: validation, then the launch. The sim backend's
    // allocations are known to checked mode.
    AttentionOutputs actual;
    if (variant.cascade)
      actual = runCascade(runtime, *kernel, built, variant, *inputs);
    else
      actual = runPlain(runtime, *kernel, built, variant, *inputs);
    // The oracle evaluates the AST: it shares no lowering with the kernel.
    // (A cascade layout changed the block tables: evaluate it after.)
    std::optional<AttentionOutputs> expected =
        astReference(built.spec->specs.front(), *inputs, error);
    if (!expected)
      FAIL(error);
    OutputDiff diff = compareOutputs(actual, *expected);
    double oTol = built.info.bf16 ? 1e-2 : 2e-3;
    INFO("o rel err " << diff.oRelErr << ", lse max diff " << diff.lseMaxAbsDiff
                      << ", non-finite mismatches " << diff.nonFiniteMismatches
                      << " " << diff.firstMismatch);
    CHECK(diff.within(oTol, 1e-3));
    if (variant.exact)
      CHECK(diff.oRelErr == 0.0);
    // Every O element written (no NaN left), fully masked rows exactly 0.
    for (size_t i = 0; i < actual.o.size(); ++i)
      if (!std::isfinite(actual.o[i]))
        FAIL("o[" << i << "] = " << actual.o[i] << " was not written");
    WARN(variant.name << ": o rel err " << diff.oRelErr << ", lse max diff "
                      << diff.lseMaxAbsDiff);
  }
}

} // namespace

TEST_CASE("generated kernels under sim match the float64 reference",
          "[codegen][sim]") {
  sim::SimOptions simOptions = sim::getOptions();
  simOptions.checked = true;
  sim::ScopedOptions scoped(simOptions);
  RuntimeOptions options;
  options.backend = "sim";
  Expected<std::unique_ptr<Runtime>> runtime = Runtime::create(options);
  REQUIRE(runtime);
  checkMatrix(**runtime);
}

TEST_CASE("generated kernels on the GPU match the float64 reference",
          "[codegen][gpu]") {
  RuntimeOptions options;
  options.backend = "cuda";
  Expected<std::unique_ptr<Runtime>> runtime = Runtime::create(options);
  if (!runtime) {
    ATTNC_SKIP("no CUDA device: " << runtime.status().message());
  }
  WARN("on " << (*runtime)->backend().describe());
  checkMatrix(**runtime);
}
