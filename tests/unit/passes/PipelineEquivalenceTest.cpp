//===- PipelineEquivalenceTest.cpp - Every pass preserves the attention ---===//
//
// Each example spec (and a few more masks) is run through the pipeline one
// stage at a time; after every stage the IR interpreter computes O and LSE
// on the same random inputs, which must match the attn.sdpa form (computed
// in float64) within the dtype's rounding: the lowered stages round P to
// fp16/bf16 before P·V, as the kernel does.
//
//===----------------------------------------------------------------------===//
#include "ReadExample.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "interp/Interpreter.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace mlir;
using namespace attnc;

namespace {
using test::readExample;

OwningOpRef<ModuleOp> build(MLIRContext &context, const std::string &name,
                            const std::string &text) {
  dsl::SourceFile file{name, text};
  dsl::DiagnosticEngine diags(file);
  std::optional<dsl::Module> module = dsl::parseAndCheck(file, diags);
  REQUIRE(module);
  return buildModule(context, *module);
}
} // namespace

TEST_CASE("every pipeline stage computes the attention of attn.sdpa",
          "[passes][interp]") {
  MLIRContext context;
  // Remarks (document masks) are expected; errors fail the test below.
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  std::vector<std::pair<std::string, std::string>> sources;
  for (const char *example :
       {"llama3_gqa_causal.attn", "mistral_sliding_window.attn",
        "gemma2_softcap_local.attn", "alibi.attn", "prefix_lm.attn",
        "document_mask.attn", "paged_decode.attn"})
    sources.push_back({example, readExample(example)});
  sources.push_back({"chunked.attn",
                     "attention chunked { dtype = fp16; head_dim = 32; "
                     "q_heads = 4; kv_heads = 2\n kv_cache = paged(page_size "
                     "= 5)\n mask = q / 24 == kv / 24 }\n"});

  uint64_t seed = 100;
  for (auto &[name, text] : sources) {
    OwningOpRef<ModuleOp> reference = build(context, name, text);
    for (attn::KernelOp kernel : reference->getOps<attn::KernelOp>()) {
      INFO(name << ": " << kernel.getSymName().str());
      // Small heads keep the interpreter quick; shapes come from the spec.
      RandomInputSpec spec;
      spec.qLens = {37, 1, 0, 70};
      spec.kvLens = {37, 100, 5, 50}; // the last: q longer than kv
      spec.seed = ++seed;
      std::string error;
      FailureOr<AttentionInputs> inputs = makeRandomInputs(kernel, spec, error);
      if (failed(inputs))
        FAIL(error);
      FailureOr<AttentionOutputs> expected =
          interpretKernel(kernel, *inputs, error);
      if (failed(expected))
        FAIL(error);
      double oTol = kernel.getDtype().isBF16() ? 1e-2 : 2e-3;

      AttentionInputs split3 = *inputs;
      split3.numSplits = 3; // chunks of 0..n tiles, some empty
      for (bool split : {false, true})
        for (bool pack : {false, true})
          for (StringRef stage : attnPipelineStages()) {
            INFO("after " << stage.str() << (pack ? " (GQA packed)" : "")
                          << (split ? " (split KV, 3 splits)" : ""));
            OwningOpRef<ModuleOp> module = build(context, name, text);
            PassManager pm(&context, ModuleOp::getOperationName());
            PipelineOptions options;
            options.blockQ = 32;
            options.blockKV = 16;
            options.stopAfter = stage.str();
            options.packGQA = pack;
            options.splitKV = split;
            REQUIRE(succeeded(buildAttnPipeline(pm, options)));
            REQUIRE(succeeded(pm.run(*module)));
            attn::KernelOp lowered;
            for (attn::KernelOp k : module->getOps<attn::KernelOp>())
              if (k.getSymName() == kernel.getSymName())
                lowered = k;
            REQUIRE(lowered);
            FailureOr<AttentionOutputs> actual =
                interpretKernel(lowered, split ? split3 : *inputs, error);
            if (failed(actual))
              FAIL(error);
            OutputDiff diff = compareOutputs(*actual, *expected);
            INFO("o rel err " << diff.oRelErr << ", lse diff "
                              << diff.lseMaxAbsDiff << ", "
                              << diff.firstMismatch);
            CHECK(diff.within(oTol, 1e-3));
          }
    }
  }
}
