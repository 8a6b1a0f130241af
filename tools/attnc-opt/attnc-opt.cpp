//===- attnc-opt.cpp - The attn dialect's mlir-opt-style driver -----------===//
//
// Parses IR, runs the attn passes named on the command line, prints the
// result. Registers only the dialects attn IR uses and attn's own passes, so
// `attnc-opt --help` lists what attnc provides and nothing else.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  attnc::registerAttnPipelines();
  mlir::DialectRegistry registry;
  registry.insert<attnc::attn::AttnDialect, mlir::arith::ArithDialect,
                  mlir::math::MathDialect, mlir::scf::SCFDialect,
                  mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "attnc optimizer driver: attn dialect and passes\n",
      registry));
}
