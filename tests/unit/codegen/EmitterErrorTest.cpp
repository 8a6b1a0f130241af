//===- EmitterErrorTest.cpp - IR the code generator refuses ---------------===//
//
// The pipeline can stop after any stage (PipelineOptions::stopAfter); the
// code generator must then refuse IR it cannot print rather than print a
// wrong kernel.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compile.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace attnc;

TEST_CASE("a latent cache's V load without attn-latent-kv is refused",
          "[codegen]") {
  MLIRContext context;
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    diagnostics += diag.str() + "\n";
    return success();
  });
  const std::string spec =
      "attention mla {\n"
      "  dtype = bf16; head_dim = 576; v_head_dim = 512; q_heads = 16; "
      "kv_heads = 1\n"
      "  kv_layout = latent\n"
      "}\n";
  PipelineOptions options;
  std::string error;
  // The whole pipeline prints it.
  REQUIRE(
      succeeded(compileSpecText(context, "mla.attn", spec, options, error)));
  // Stopped before attn-latent-kv, V is still a load of a tensor there is
  // none of.
  options.stopAfter = "attn-split-kv";
  CHECK(failed(compileSpecText(context, "mla.attn", spec, options, error)));
  CHECK_THAT(diagnostics,
             Catch::Contains("loads V of a latent cache (latent_kv), which is "
                             "a view of the K tile; run attn-latent-kv first"));
}
