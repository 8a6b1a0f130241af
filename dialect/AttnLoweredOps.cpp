//===- AttnLoweredOps.cpp - Verifiers of the online/tile-level attn ops ---===//
#include "dialect/AttnDialect.h"

using namespace mlir;
using namespace attnc::attn;

//===----------------------------------------------------------------------===//
// attn.program
//===----------------------------------------------------------------------===//

void ProgramOp::getAsmBlockArgumentNames(Region &region,
                                         OpAsmSetValueNameFn setNameFn) {
  static const char *const names[] = {"b", "h", "qt"};
  for (auto [arg, name] : llvm::zip(region.getArguments(), names))
    setNameFn(arg, name);
}

LogicalResult ProgramOp::verifyRegions() {
  Block &block = getBody().front();
  if (block.getNumArguments() != 3 ||
      !llvm::all_of(block.getArgumentTypes(),
                    [](Type t) { return t.isSignlessInteger(32); }))
    return emitOpError("body must take (b, h, qt) as three i32 arguments");
  if (std::optional<int64_t> warps = getWarps()) {
    if (!getBlockQ())
      return emitOpError("sets warps before tile sizes (block_q)");
    if (getColumnWarps()) {
      if (*warps < 1 || !getBlockKv() || *getBlockKv() % (8 * *warps) != 0)
        return emitOpError("column_warps: warps = ")
               << *warps
               << " must split block_kv = " << getBlockKv().value_or(0)
               << " into whole 8-key n-tiles";
    } else if (*warps < 1 || *getBlockQ() % (16 * *warps) != 0)
      return emitOpError("warps = ")
             << *warps << " must divide block_q = " << *getBlockQ()
             << " into row slices of a multiple of 16 (the mma's M)";
  }
  if (getColumnWarps() && !getWarps())
    return emitOpError("column_warps needs warps");
  return success();
}

//===----------------------------------------------------------------------===//
// attn.k_prefix
//===----------------------------------------------------------------------===//

LogicalResult KPrefixOp::verify() {
  auto k = cast<RankedTensorType>(getK().getType());
  auto v = cast<RankedTensorType>(getV().getType());
  if (k.getElementType() != v.getElementType())
    return emitOpError("keeps the K tile's element type");
  if (k.getDimSize(0) != v.getDimSize(0))
    return emitOpError("keeps the K tile's rows (")
           << k.getDimSize(0) << "), not " << v.getDimSize(0);
  if (!ShapedType::isDynamic(k.getDimSize(1)) &&
      !ShapedType::isDynamic(v.getDimSize(1)) &&
      v.getDimSize(1) > k.getDimSize(1))
    return emitOpError("takes at most the K tile's ")
           << k.getDimSize(1) << " columns, not " << v.getDimSize(1);
  return success();
}

//===----------------------------------------------------------------------===//
// attn.load_k / attn.load_v
//===----------------------------------------------------------------------===//

/// An address region is empty (logical rows) or maps one i32 row to the
/// i32 physical row it yields.
static LogicalResult verifyAddressRegion(Operation *op, Region &region) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (block.getNumArguments() != 1 ||
      !block.getArgument(0).getType().isSignlessInteger(32))
    return op->emitOpError("addr region must take one i32 row argument");
  if (!isa<YieldRowOp>(block.getTerminator()))
    return op->emitOpError("addr region must end with attn.yield_row");
  return success();
}

static void nameAddressRegionArgs(Region &region,
                                  OpAsmSetValueNameFn setNameFn) {
  if (!region.empty() && region.getNumArguments() == 1)
    setNameFn(region.getArgument(0), "row");
}

LogicalResult LoadKOp::verifyRegions() {
  return verifyAddressRegion(*this, getAddr());
}
LogicalResult LoadVOp::verifyRegions() {
  return verifyAddressRegion(*this, getAddr());
}
void LoadKOp::getAsmBlockArgumentNames(Region &region,
                                       OpAsmSetValueNameFn setNameFn) {
  nameAddressRegionArgs(region, setNameFn);
}
void LoadVOp::getAsmBlockArgumentNames(Region &region,
                                       OpAsmSetValueNameFn setNameFn) {
  nameAddressRegionArgs(region, setNameFn);
}

//===----------------------------------------------------------------------===//
// attn.score_mod / attn.mask
//===----------------------------------------------------------------------===//

LogicalResult ScoreModOp::verifyRegions() {
  return verifyExpressionRegion(*this, getBody(), "score",
                                Float32Type::get(getContext()));
}

LogicalResult MaskOp::verifyRegions() {
  if (getBody().empty())
    return success();
  if (failed(verifyExpressionRegion(*this, getBody(), "mask",
                                    IntegerType::get(getContext(), 1))))
    return failure();
  if (!getBody().getArgument(SdpaOp::kScore).use_empty())
    return emitOpError("the mask must not depend on the score");
  return success();
}

void ScoreModOp::getAsmBlockArgumentNames(Region &region,
                                          OpAsmSetValueNameFn setNameFn) {
  nameExpressionRegionArgs(region, setNameFn);
}
void MaskOp::getAsmBlockArgumentNames(Region &region,
                                      OpAsmSetValueNameFn setNameFn) {
  nameExpressionRegionArgs(region, setNameFn);
}

/// The sink region (of attn.sdpa or attn.sink) yields an f32 per query row:
/// it may read b, h and q but neither the score nor the key position.
LogicalResult attnc::attn::verifySinkRegion(Operation *op, Region &region) {
  if (failed(verifyExpressionRegion(op, region, "sink",
                                    Float32Type::get(op->getContext()))))
    return failure();
  if (!region.getArgument(SdpaOp::kScore).use_empty() ||
      !region.getArgument(SdpaOp::kKV).use_empty())
    return op->emitOpError("the sink must depend on neither the score nor "
                           "the key position");
  return success();
}

LogicalResult attnc::attn::verifyRowFactorRegion(Operation *op,
                                                 Region &region) {
  if (failed(verifyExpressionRegion(op, region, "factor",
                                    Float32Type::get(op->getContext()))))
    return failure();
  if (!region.getArgument(SdpaOp::kScore).use_empty() ||
      !region.getArgument(SdpaOp::kQ).use_empty() ||
      !region.getArgument(SdpaOp::kKV).use_empty())
    return op->emitOpError("a K/V scale depends on the sequence and head "
                           "only, not on the score or a position");
  return success();
}

LogicalResult RowFactorOp::verifyRegions() {
  return verifyRowFactorRegion(*this, getBody());
}

void RowFactorOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setNameFn) {
  nameExpressionRegionArgs(region, setNameFn);
}

LogicalResult SinkOp::verifyRegions() {
  return verifySinkRegion(*this, getBody());
}

void SinkOp::getAsmBlockArgumentNames(Region &region,
                                      OpAsmSetValueNameFn setNameFn) {
  nameExpressionRegionArgs(region, setNameFn);
}

//===----------------------------------------------------------------------===//
// attn.tile_of_ranges
//===----------------------------------------------------------------------===//

LogicalResult TileOfRangesOp::verify() {
  size_t n = getBounds().size();
  if (n == 0 || n % 2 != 0)
    return emitOpError("needs (lo, hi) pairs of bounds, got ")
           << n << " value" << (n == 1 ? "" : "s");
  return success();
}

//===----------------------------------------------------------------------===//
// attn.block_mask, attn.block_count, attn.block_entry
//===----------------------------------------------------------------------===//

LogicalResult BlockMaskOp::verifyRegions() {
  if (failed(verifyExpressionRegion(*this, getBody(), "mask",
                                    IntegerType::get(getContext(), 1))))
    return failure();
  if (!getBody().getArgument(SdpaOp::kScore).use_empty())
    return emitOpError("the mask must not depend on the score");
  if (getBlockQ() <= 0 || getBlockKv() <= 0 || getGqaPack() <= 0 ||
      getBlockQ() % getGqaPack() != 0)
    return emitOpError("needs positive block_q, block_kv and gqa_pack, "
                       "block_q a multiple of gqa_pack");
  if (getPerHead() == getBody().getArgument(SdpaOp::kHead).use_empty())
    return emitOpError(getPerHead()
                           ? "is per_head but its mask does not read h"
                           : "reads h in its mask but is not per_head");
  if (getClassify().empty())
    return success();
  Block &classify = getClassify().front();
  Type i32 = IntegerType::get(getContext(), 32);
  if (classify.getNumArguments() != kNumClassifyArgs ||
      llvm::any_of(classify.getArgumentTypes(),
                   [&](Type t) { return t != i32; }))
    return emitOpError("classify region must take 7 i32 arguments (b, "
                       "head_first, head_last, q_first, q_last, kv_first, "
                       "kv_last)");
  auto yield = dyn_cast<YieldOp>(classify.getTerminator());
  if (!yield || yield.getValue().getType() != i32)
    return emitOpError("classify region must yield an i32");
  return success();
}

void BlockMaskOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setNameFn) {
  if (&region == &getBody()) {
    nameExpressionRegionArgs(region, setNameFn);
    return;
  }
  static const char *const names[kNumClassifyArgs] = {
      "b",      "head_first", "head_last", "q_first",
      "q_last", "kv_first",   "kv_last"};
  if (!region.empty())
    for (auto [arg, name] : llvm::zip(region.getArguments(), names))
      setNameFn(arg, name);
}

/// The kernel's attn.block_mask, which attn.block_count and attn.block_entry
/// read.
static LogicalResult verifyHasBlockMask(Operation *op) {
  auto kernel = op->getParentOfType<KernelOp>();
  if (!kernel || kernel.getBody().front().getOps<BlockMaskOp>().empty())
    return op->emitOpError("needs an attn.block_mask in its kernel");
  return success();
}

LogicalResult BlockCountOp::verify() { return verifyHasBlockMask(*this); }
LogicalResult BlockEntryOp::verify() { return verifyHasBlockMask(*this); }

//===----------------------------------------------------------------------===//
// attn.param_range
//===----------------------------------------------------------------------===//

LogicalResult ParamRangeOp::verify() {
  auto dims = static_cast<int64_t>(getIndices().size());
  if (getDim() < 0 || getDim() >= dims)
    return emitOpError("ranges over index ")
           << getDim() << ", but has " << dims << " indices";
  return success();
}
