//===- LowerForTest.h - Run the pipeline on a copy of a test module -------===//
#ifndef ATTNC_TESTS_INTERP_LOWERFORTEST_H
#define ATTNC_TESTS_INTERP_LOWERFORTEST_H

#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include <catch2/catch.hpp>

#include <string>

namespace attnc::test {

/// `module` cloned and run through the canonical pipeline with `options`;
/// REQUIREs success and shows the passes' errors when it fails.
inline mlir::OwningOpRef<mlir::ModuleOp>
lowerForTest(mlir::ModuleOp module, const PipelineOptions &options) {
  mlir::OwningOpRef<mlir::ModuleOp> clone = module.clone();
  mlir::PassManager pm(module.getContext());
  std::string error;
  bool built = mlir::succeeded(buildAttnPipeline(pm, options, &error));
  INFO(error);
  REQUIRE(built);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(
      module.getContext(), [&](mlir::Diagnostic &d) {
        if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
          diagnostics += d.str() + "\n";
        return mlir::success();
      });
  bool ok = mlir::succeeded(pm.run(*clone));
  INFO(diagnostics);
  REQUIRE(ok);
  return clone;
}

} // namespace attnc::test

#endif // ATTNC_TESTS_INTERP_LOWERFORTEST_H
