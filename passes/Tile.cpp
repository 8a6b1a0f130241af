//===- Tile.cpp - Choose Br x Bc tiles for an online-softmax program ------===//
//
// The online form is already a loop over KV blocks with m, l, acc carried;
// tiling fixes the block sizes. Each program instance then owns Br query
// rows (the grid grows to ceildiv(q_len, Br) instances per sequence and
// head) and the KV loop steps Bc rows at a time. Every tile type becomes
// static, which is what the code generator needs to lay out fragments.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>
#include <numeric>

namespace attnc {
#define GEN_PASS_DEF_ATTNTILE
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

/// Rewrites the type of every tile value in `program` for Br x Bc tiles.
/// Walks in pre-order so operands are retyped before their users.
static void retypeTiles(ProgramOp program, int64_t blockQ, int64_t blockKV,
                        int64_t headDim, int64_t valueDim) {
  auto withShape = [](Value value, ArrayRef<int64_t> shape) {
    auto type = cast<RankedTensorType>(value.getType());
    value.setType(RankedTensorType::get(shape, type.getElementType()));
  };
  auto sameAs = [](Value value, Value like) { value.setType(like.getType()); };

  program.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto load = dyn_cast<LoadQOp>(op))
      return withShape(load, {blockQ, headDim});
    if (isa<LoadKOp>(op))
      return withShape(op->getResult(0), {blockKV, headDim});
    if (isa<LoadVOp>(op))
      return withShape(op->getResult(0), {blockKV, valueDim});
    if (auto factor = dyn_cast<RowFactorOp>(op)) {
      factor.getRowsMutable().clear();
      return withShape(factor, {blockQ});
    }
    if (auto fill = dyn_cast<FillOp>(op)) {
      fill.getRowsMutable().clear();
      if (fill.getType().getRank() == 1)
        return withShape(fill, {blockQ});
      return withShape(fill, {blockQ, valueDim}); // the accumulator
    }
    if (auto qk = dyn_cast<QKOp>(op))
      return withShape(qk, {blockQ, blockKV});
    if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      for (auto [init, arg, result] :
           llvm::zip(forOp.getInitArgs(), forOp.getRegionIterArgs(),
                     forOp.getResults())) {
        sameAs(arg, init);
        sameAs(result, init);
      }
      return;
    }
    if (auto finalize = dyn_cast<FinalizeOp>(op)) {
      sameAs(finalize.getO(), finalize.getAcc());
      sameAs(finalize.getLse(), finalize.getM());
      return;
    }
    // Element-wise and row-wise updates keep the shape of the operand they
    // update.
    if (auto o = dyn_cast<ScoreModOp>(op))
      return sameAs(o, o.getS());
    if (auto o = dyn_cast<MaskOp>(op))
      return sameAs(o, o.getS());
    if (auto o = dyn_cast<ScaleOp>(op))
      return sameAs(o, o.getS());
    if (auto o = dyn_cast<Exp2DiffOp>(op))
      return sameAs(o, o.getX());
    if (auto o = dyn_cast<SinkOp>(op)) {
      sameAs(o.getMNew(), o.getM());
      return sameAs(o.getLNew(), o.getL());
    }
    if (auto o = dyn_cast<RowMaxOp>(op))
      return sameAs(o, o.getM());
    if (auto o = dyn_cast<RowSumOp>(op))
      return sameAs(o, o.getL());
    if (auto o = dyn_cast<RescaleOp>(op))
      return sameAs(o, o.getAcc());
    if (auto o = dyn_cast<PVOp>(op))
      return sameAs(o, o.getAcc());
  });
}

bool attnc::usesColumnWarps(KernelOp kernel) {
  return std::max<int64_t>(kernel.getHeadDim(), kernel.getValueHeadDim()) >
         kRowWarpMaxHeadDim;
}

void attnc::defaultTileSizes(int64_t headDim, int64_t &blockQ, int64_t &blockKV,
                             int64_t pack, bool splitKV) {
  if (headDim > kRowWarpMaxHeadDim) {
    // Column warps: every warp holds every row, so one 16-row block (or
    // the least whole number of head groups); 32 keys keep two K and V
    // tiles of 576 columns (73 KiB) and the Q tile within the 99 KiB of
    // shared memory every sm_8x and sm_90 part has.
    if (blockQ == 0)
      blockQ = std::lcm<int64_t>(16, std::max<int64_t>(pack, 1));
    if (blockKV == 0)
      blockKV = 32;
    return;
  }
  if (blockQ == 0) {
    // Whole head groups in whole 16-row mma blocks: 64 rows, or the least
    // multiple of lcm(16, pack) from 64 up (112 for 7 heads, 80 for 5).
    int64_t unit = std::lcm<int64_t>(16, std::max<int64_t>(pack, 1));
    blockQ = unit * ((64 + unit - 1) / unit);
  }
  // Per thread, the O accumulator holds 16 x d / 32 floats and S / P
  // 16 x Bc / 32: at d = 256, Bc = 64 leaves ptxas no room (it spills), and
  // two 64-row K/V tiles take 66 KiB of shared memory. A decode program
  // (split over KV) takes FlashAttention-2's split-KV tile, 128 keys up to
  // d = 128: per 16-row warp the O rescale and the K/V page lookups then
  // come once per 128 keys (2.6-2.7 non-MMA instructions per HMMA on sm_80
  // at d = 128, against 3.5 at 64; bench/RESULTS.md).
  if (blockKV == 0)
    blockKV = headDim <= 128 ? (splitKV ? 128 : 64) : 32;
}

LogicalResult attnc::tileProgram(RewriterBase &rewriter, ProgramOp program,
                                 int64_t blockQ, int64_t blockKV, int64_t warps,
                                 bool splitKV) {
  KernelOp owner = program->getParentOfType<KernelOp>();
  defaultTileSizes(
      std::max<int64_t>(owner.getHeadDim(), owner.getValueHeadDim()), blockQ,
      blockKV, program.getPackFactor(), splitKV);
  for (auto [name, size] :
       {std::pair{"block-q", blockQ}, {"block-kv", blockKV}})
    if (size < 16 || size > 256 || size % 16 != 0)
      return program.emitOpError("tile size ")
             << name << " = " << size
             << " must be a multiple of 16 in 16..256 (one mma.m16n8k16 row "
                "block per warp)";
  if (program.getBlockQ() || program.getBlockKv())
    return program.emitOpError("is already tiled (block_q = ")
           << program.getBlockQ().value_or(0)
           << ", block_kv = " << program.getBlockKv().value_or(0) << ")";

  auto kernel = program->getParentOfType<KernelOp>();
  int64_t pack = program.getPackFactor();
  if (blockQ % pack != 0)
    return program.emitOpError("block-q = ")
           << blockQ << " must be a multiple of the " << pack
           << " query heads packed into each tile";
  bool columnWarps = usesColumnWarps(kernel);
  if (columnWarps) {
    // The warps split Bc's keys in whole n8 tiles (the V and O columns are
    // padded to a multiple of 16 per warp by the code generator).
    if (warps == 0)
      warps = kColumnWarps;
    if (warps < 1 || blockKV % (8 * warps) != 0)
      return program.emitOpError("warps = ")
             << warps << " must split block-kv = " << blockKV
             << " into whole 8-key n-tiles (head_dim " << kernel.getHeadDim()
             << " / v_head_dim " << kernel.getValueHeadDim() << " > "
             << kRowWarpMaxHeadDim
             << ": the warps share the rows and split the columns)";
  } else if (warps < 0 || (warps > 0 && blockQ % (16 * warps) != 0)) {
    return program.emitOpError("warps = ")
           << warps << " must divide block-q = " << blockQ
           << " into row slices of a multiple of 16 (the mma's M)";
  }
  rewriter.modifyOpInPlace(program, [&] {
    program.setBlockQ(blockQ);
    program.setBlockKv(blockKV);
    // Only a non-default count is recorded: absent means one per 16 rows.
    if (columnWarps || (warps > 0 && warps != blockQ / 16))
      program.setWarps(warps);
    if (columnWarps)
      program.setColumnWarps(true);
  });
  // With packed heads a Q tile of Br rows holds Br / G query rows.
  auto tileOf = [&](TileDim dim) {
    return rewriter.getI64IntegerAttr(dim == TileDim::q ? blockQ / pack
                                                        : blockKV);
  };
  program.walk([&](Operation *op) {
    if (auto start = dyn_cast<TileStartOp>(op))
      rewriter.modifyOpInPlace(
          start, [&] { start.setTileAttr(tileOf(start.getDim())); });
    else if (auto count = dyn_cast<NumTilesOp>(op))
      rewriter.modifyOpInPlace(
          count, [&] { count.setTileAttr(tileOf(count.getDim())); });
  });
  retypeTiles(program, blockQ, blockKV, kernel.getHeadDim(),
              kernel.getValueHeadDim());
  // A warp of 32 or more rows keeps Q in shared memory: in registers, its
  // fragments would crowd out the O and S accumulators.
  // So does a program whose warps split the columns: each reads every row.
  int64_t rowsPerWarp = warps > 0 ? blockQ / warps : 16;
  if (rowsPerWarp >= 32 || columnWarps)
    program.walk([&](LoadQOp load) {
      rewriter.modifyOpInPlace(load, [&] { load.setShared(true); });
    });
  return success();
}

namespace {
struct AttnTilePass : public attnc::impl::AttnTileBase<AttnTilePass> {
  using AttnTileBase::AttnTileBase;

  void runOnOperation() override {
    KernelOp kernel = getOperation();
    for (SdpaOp sdpa : kernel.getBody().front().getOps<SdpaOp>()) {
      sdpa.emitOpError("cannot be tiled before it is in online-softmax form; "
                       "run --attn-online-softmax first");
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (ProgramOp program : kernel.getBody().front().getOps<ProgramOp>())
      if (failed(
              tileProgram(rewriter, program, blockQ, blockKV, warps, splitKV)))
        return signalPassFailure();
  }
};
} // namespace
