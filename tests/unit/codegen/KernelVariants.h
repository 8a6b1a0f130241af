//===- KernelVariants.h - The kernel matrix the codegen tests run ---------===//
#ifndef ATTNC_TESTS_KERNELVARIANTS_H
#define ATTNC_TESTS_KERNELVARIANTS_H

#include "codegen/CudaEmitter.h"
#include "dialect/AttnDialect.h"
#include "dsl/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attnc::test {

/// One spec, one tiling and one batch of sequence lengths.
struct KernelVariant {
  std::string name;
  std::string dtype = "fp16";
  int headDim = 64;
  int qHeads = 4, kvHeads = 4;
  int pageSize = 0;   ///< 0: dense
  std::string params; ///< `param ...` lines
  std::string score;  ///< empty: identity
  std::string mask;   ///< empty: none
  int blockQ = 64, blockKV = 64;
  std::vector<int64_t> qLens, kvLens;
  /// O must equal the reference exactly (each row sees one key: O is that
  /// key's V row).
  bool exact = false;
  /// Pack the query heads of a KV head into the tile rows (decode layout).
  bool packGQA = false;
  /// Split the KV loop (flash-decoding), with `splits` splits (0: chosen).
  bool splitKV = false;
  int splits = 0;
  /// Load K tile j+1 during tile j (false: one K tile in flight).
  bool prefetchKV = true;
  /// Warps sharing the Br rows (0: Br / 16).
  int warps = 0;
  /// The attention sink's logit (empty: none).
  std::string sink;
  /// An fp8 K/V cache ("e4m3", "e5m2"; empty: K/V have dtype) and its
  /// dequantization scales (empty: none).
  std::string kvDtype, kScale, vScale;
  /// Which masks iterate over a runtime block mask (PipelineOptions::
  /// blockMask): auto, always, never.
  std::string blockMask = "auto";
  /// Cascade attention (attn-cascade, Runtime::runCascade): consecutive
  /// groups of `groupSize` sequences (0: all) share the pages of their
  /// first `sharedPrefix` keys.
  bool cascade = false;
  int sharedPrefix = 0, groupSize = 0;
  /// Columns of V and O (`v_head_dim`); 0: head_dim.
  int vHeadDim = 0;
  /// kv_layout = latent: no V tensor, V is K's first v_head_dim columns.
  bool latentKV = false;

  std::string specText() const;
};

/// The matrix: masks, score modifiers, GQA ratios, dense and paged caches,
/// head dims, tile sizes, odd and empty lengths, fully masked rows.
const std::vector<KernelVariant> &kernelVariants();

/// A variant built to both stages.
struct BuiltVariant {
  /// The checked spec: what the AST reference (the tests' float64 oracle)
  /// evaluates.
  std::optional<dsl::Module> spec;
  mlir::OwningOpRef<mlir::ModuleOp> reference; ///< attn.sdpa form
  mlir::OwningOpRef<mlir::ModuleOp> lowered;   ///< after the pipeline
  std::string cuda;
  KernelInfo info;
};

/// Parses, lowers and emits `variant`; FAILs the test with the reason.
BuiltVariant buildVariant(mlir::MLIRContext &context,
                          const KernelVariant &variant);

attn::KernelOp onlyKernel(mlir::ModuleOp module);

} // namespace attnc::test

#endif // ATTNC_TESTS_KERNELVARIANTS_H
