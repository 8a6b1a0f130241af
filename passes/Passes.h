//===- Passes.h - attn transformation passes ------------------------------===//
#ifndef ATTNC_PASSES_PASSES_H
#define ATTNC_PASSES_PASSES_H

#include "dialect/AttnDialect.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace attnc {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Rewrites the `attn.sdpa` of `kernel` into an online-softmax
/// `attn.program`; returns it.
mlir::FailureOr<attn::ProgramOp>
convertToOnlineSoftmax(mlir::RewriterBase &rewriter, attn::KernelOp kernel);

/// How many of a group's `group` query heads one tile of `blockQ` rows
/// (0: attn-tile's default) packs: the largest divisor of `group` that
/// divides blockQ, or, with blockQ = 0, whose 16-row multiple fits 256 rows.
int64_t packFactorFor(int64_t group, int64_t blockQ);

/// Packs `heads` (0: packFactorFor(group, blockQ)) of the query heads
/// sharing a KV head into the rows of `program`'s tiles (gqa_pack); a no-op
/// for MHA, a packed program, or a pack factor of 1.
mlir::LogicalResult packGQA(mlir::RewriterBase &rewriter, attn::KernelOp kernel,
                            attn::ProgramOp program, int64_t heads = 0,
                            int64_t blockQ = 0);

/// Splits the KV loop of tiled `program` across program instances and adds
/// the kernel's attn.merge_splits; a no-op for a split program.
mlir::LogicalResult splitKV(mlir::RewriterBase &rewriter, attn::KernelOp kernel,
                            attn::ProgramOp program);

/// Head dims (of Q and K, or of V and O) past this many columns are tiled
/// with `column_warps`: the warps share the rows and split the columns
/// (runtime/device/column_warps.cuh), kColumnWarps of them by default.
constexpr int64_t kRowWarpMaxHeadDim = 256;
constexpr int64_t kColumnWarps = 4;
bool usesColumnWarps(attn::KernelOp kernel);

/// Fills tile sizes left at 0 with the defaults for `headDim`; with `pack`
/// heads packed per tile, the default block-q is a multiple of both 16 and
/// `pack` (64 when it can be); `splitKV` (a decode program, split over KV
/// next) widens the default block-kv.
void defaultTileSizes(int64_t headDim, int64_t &blockQ, int64_t &blockKV,
                      int64_t pack = 1, bool splitKV = false);

/// Sets the tile sizes of `program` (untiled online form) to Br = blockQ and
/// Bc = blockKV (0: the default for its head_dim) and makes its tile types
/// static.
mlir::LogicalResult tileProgram(mlir::RewriterBase &rewriter,
                                attn::ProgramOp program, int64_t blockQ,
                                int64_t blockKV, int64_t warps = 0,
                                bool splitKV = false);

/// Gives every K/V load of `program` an explicit address region.
mlir::LogicalResult lowerKVAddressing(mlir::RewriterBase &rewriter,
                                      attn::KernelOp kernel,
                                      attn::ProgramOp program);

/// Loads the K tile of iteration j + 1 of `loop` (a KV loop) during
/// iteration j, carrying it as a loop value.
mlir::LogicalResult prefetchKTiles(mlir::RewriterBase &rewriter,
                                   mlir::scf::ForOp loop);

/// Options of the canonical pipeline.
struct PipelineOptions {
  /// 0: chosen from the kernel's head_dim (defaultTileSizes).
  int64_t blockQ = 0;
  int64_t blockKV = 0;
  /// Warps per CTA sharing the Br rows (0: Br / 16, 16 rows each).
  int64_t warps = 0;
  /// Pack GQA query heads into tile rows (the decode layout).
  bool packGQA = false;
  /// Split the KV loop across program instances (flash-decoding).
  bool splitKV = false;
  /// One launch of cascade attention: query positions and each batch
  /// entry's first key given at launch (attn-cascade).
  bool cascade = false;
  /// Load the next K tile while the current one is used (two K tiles in
  /// flight); off, each iteration loads and waits for its own K tile.
  bool prefetchKV = true;
  /// Move the softmax scale from Q K^T into the exponent where no score
  /// modifier reads the scores (attn-fold-scale).
  bool foldScale = true;
  /// Most runs of visible KV tiles the mask analysis iterates over (1: one
  /// contiguous range per Q tile).
  int64_t maxTileRanges = 4;
  /// A remark at each mask naming the form its tile skipping took.
  bool maskRemarks = false;
  /// Which masks iterate over a runtime block mask built by a pre-pass:
  /// "auto" (those interval arithmetic cannot bound), "always", "never".
  std::string blockMask = "auto";
  /// Stop after the pass with this command-line name (empty: run all).
  std::string stopAfter;
};

/// The command-line names of the pipeline's stages, in order.
llvm::ArrayRef<llvm::StringRef> attnPipelineStages();

/// Adds the canonical lowering pipeline (online softmax, tile, block table,
/// mask analysis, cleanup) for kernels nested in a module. Fails, naming the
/// valid stages, if `options.stopAfter` names none of them.
mlir::LogicalResult buildAttnPipeline(mlir::OpPassManager &pm,
                                      const PipelineOptions &options,
                                      std::string *error = nullptr);

/// Registers the passes and the `attn-pipeline` pass pipeline.
void registerAttnPipelines();

} // namespace attnc

#endif // ATTNC_PASSES_PASSES_H
