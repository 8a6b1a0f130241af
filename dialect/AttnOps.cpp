//===- AttnOps.cpp - Verifiers and custom syntax of the attn ops ----------===//
#include "dialect/AttnDialect.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>

using namespace mlir;
using namespace attnc::attn;

//===----------------------------------------------------------------------===//
// `[batch, ?, 4]` syntax of attn.param dims
//===----------------------------------------------------------------------===//

static ParseResult parseParamDims(OpAsmParser &parser,
                                  DenseI64ArrayAttr &dims) {
  SmallVector<int64_t> values;
  if (succeeded(parser.parseOptionalLSquare())) {
    auto parseOne = [&]() -> ParseResult {
      if (succeeded(parser.parseOptionalQuestion())) {
        values.push_back(kDynamicDim);
        return success();
      }
      int64_t extent;
      OptionalParseResult number = parser.parseOptionalInteger(extent);
      if (number.has_value()) {
        if (failed(*number))
          return failure();
        if (extent <= 0)
          return parser.emitError(parser.getCurrentLocation(),
                                  "a fixed extent must be positive");
        values.push_back(extent);
        return success();
      }
      StringRef keyword;
      SMLoc loc = parser.getCurrentLocation();
      if (parser.parseKeyword(&keyword))
        return failure();
      int64_t code = llvm::StringSwitch<int64_t>(keyword)
                         .Case("batch", kBatchDim)
                         .Case("q_heads", kQHeadsDim)
                         .Case("kv_heads", kKVHeadsDim)
                         .Default(0);
      if (code == 0)
        return parser.emitError(loc, "expected 'batch', 'q_heads', "
                                     "'kv_heads', '?' or a positive extent");
      values.push_back(code);
      return success();
    };
    if (parser.parseCommaSeparatedList(parseOne) || parser.parseRSquare())
      return failure();
  }
  dims = DenseI64ArrayAttr::get(parser.getContext(), values);
  return success();
}

static void printParamDims(OpAsmPrinter &printer, Operation *,
                           DenseI64ArrayAttr dims) {
  if (dims.empty())
    return;
  printer << " [";
  llvm::interleaveComma(dims.asArrayRef(), printer, [&](int64_t dim) {
    switch (dim) {
    case kDynamicDim:
      printer << "?";
      break;
    case kBatchDim:
      printer << "batch";
      break;
    case kQHeadsDim:
      printer << "q_heads";
      break;
    case kKVHeadsDim:
      printer << "kv_heads";
      break;
    default:
      printer << dim;
    }
  });
  printer << "]";
}

#define GET_OP_CLASSES
#include "dialect/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// attn.kernel
//===----------------------------------------------------------------------===//

ParamOp KernelOp::lookupParam(StringRef name) {
  return lookupSymbol<ParamOp>(name);
}

LogicalResult KernelOp::verify() {
  Type dtype = getDtype();
  if (!dtype.isF16() && !dtype.isBF16())
    return emitOpError("dtype must be f16 or bf16, got ") << dtype;
  int64_t headDim = getHeadDim();
  if (headDim < 8 || headDim > 576 || headDim % 8 != 0)
    return emitOpError("head_dim must be a multiple of 8 in 8..576, got ")
           << headDim;
  if (std::optional<int64_t> dv = getVHeadDim();
      dv && (*dv < 16 || *dv > 512 || *dv % 16 != 0))
    return emitOpError("v_head_dim must be a multiple of 16 in 16..512, got ")
           << *dv;
  if (getLatentKv() && getValueHeadDim() > headDim)
    return emitOpError("latent_kv reads V from the first v_head_dim (")
           << getValueHeadDim() << ") columns of K; head_dim is " << headDim;
  if (getQHeads() < 1 || getKvHeads() < 1)
    return emitOpError("q_heads and kv_heads must be positive");
  if (getQHeads() % getKvHeads() != 0)
    return emitOpError("kv_heads (")
           << getKvHeads() << ") must divide q_heads (" << getQHeads() << ")";
  std::optional<int64_t> pageSize = getPageSize();
  if (getKvCache() == KVCacheKind::paged) {
    if (!pageSize)
      return emitOpError("a paged KV cache needs a page_size");
    if (*pageSize < 1 || *pageSize > 256)
      return emitOpError("page_size must be in 1..256, got ") << *pageSize;
  } else if (pageSize) {
    return emitOpError("page_size is only meaningful for a paged KV cache");
  }
  if (std::optional<Type> kvDtype = getKvDtype();
      kvDtype && !isa<Float8E4M3FNType, Float8E5M2Type>(*kvDtype))
    return emitOpError("kv_dtype must be f8E4M3FN or f8E5M2, got ") << *kvDtype;
  double scale = getScale().convertToDouble();
  if (!std::isfinite(scale) || scale <= 0)
    return emitOpError("scale must be finite and positive, got ") << scale;
  return success();
}

// Runs after the nested ops verified, so their own errors come first.
LogicalResult KernelOp::verifyRegions() {
  unsigned numComputations = 0;
  for (Operation &op : getBody().front()) {
    if (isa<ParamOp>(op))
      continue;
    // The merge step belongs to a split program's computation, the block
    // mask pre-pass to a program that reads it, the score's derivative to
    // the backward pass of the computation.
    if (isa<MergeSplitsOp, BlockMaskOp, ScoreGradOp, ParamGradOp>(op))
      continue;
    if (isa<SdpaOp>(op)) {
      ++numComputations;
      continue;
    }
    // Lowered forms of attn.sdpa live in the body too; they are attn ops.
    if (op.getDialect() != (*this)->getDialect())
      return op.emitOpError("is not allowed in an attn.kernel body; only attn "
                            "ops may appear there");
    ++numComputations;
  }
  if (numComputations != 1)
    return emitOpError("must hold exactly one attention computation, found ")
           << numComputations;
  return success();
}

//===----------------------------------------------------------------------===//
// attn.param
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  Type type = getElementType();
  if (!type.isF32() && !type.isSignlessInteger(32))
    return emitOpError("element type must be f32 or i32, got ") << type;
  for (int64_t dim : getDims())
    if (dim <= 0 && dim != kDynamicDim && dim != kBatchDim &&
        dim != kQHeadsDim && dim != kKVHeadsDim)
      return emitOpError("invalid dimension code ") << dim;
  return success();
}

//===----------------------------------------------------------------------===//
// attn.param_load
//===----------------------------------------------------------------------===//

LogicalResult
ParamLoadOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto kernel = (*this)->getParentOfType<KernelOp>();
  if (!kernel)
    return emitOpError("must be nested in an attn.kernel");
  auto param = symbolTable.lookupSymbolIn<ParamOp>(kernel, getParamAttr());
  if (!param)
    return emitOpError("references unknown parameter @") << getParam();
  if (static_cast<int64_t>(getIndices().size()) != param.getRank())
    return emitOpError("parameter @")
           << getParam() << " has " << param.getRank() << " dimension(s), but "
           << getIndices().size() << " index(es) were given";
  if (getResult().getType() != param.getElementType())
    return emitOpError("result type ")
           << getResult().getType() << " does not match parameter @"
           << getParam() << " of element type " << param.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// attn.sdpa
//===----------------------------------------------------------------------===//

void attnc::attn::nameExpressionRegionArgs(Region &region,
                                           OpAsmSetValueNameFn setNameFn) {
  static const char *const names[SdpaOp::kNumRegionArgs] = {"score", "b", "h",
                                                            "q", "kv"};
  for (auto [arg, name] : llvm::zip(region.getArguments(), names))
    setNameFn(arg, name);
}

void SdpaOp::getAsmBlockArgumentNames(Region &region,
                                      OpAsmSetValueNameFn setNameFn) {
  nameExpressionRegionArgs(region, setNameFn);
}

LogicalResult attnc::attn::verifyExpressionRegion(Operation *op, Region &region,
                                                  StringRef what,
                                                  Type yieldType) {
  Block &block = region.front();
  Builder b(op->getContext());
  Type expected[SdpaOp::kNumRegionArgs] = {b.getF32Type(), b.getI32Type(),
                                           b.getI32Type(), b.getI32Type(),
                                           b.getI32Type()};
  if (block.getNumArguments() != SdpaOp::kNumRegionArgs)
    return op->emitOpError() << what << " region must take 5 arguments "
                             << "(score: f32, b, h, q, kv: i32), found "
                             << block.getNumArguments();
  for (auto [arg, type] : llvm::zip(block.getArguments(), expected))
    if (arg.getType() != type)
      return op->emitOpError()
             << what << " region argument #" << arg.getArgNumber()
             << " must be " << type << ", found " << arg.getType();
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return op->emitOpError() << what << " region must end with attn.yield";
  if (yield.getValue().getType() != yieldType)
    return yield.emitOpError()
           << "the " << what << " region must yield " << yieldType << ", found "
           << yield.getValue().getType();
  return success();
}

LogicalResult ScoreGradOp::verifyRegions() {
  return verifyExpressionRegion(*this, getBody(), "score gradient",
                                Float32Type::get(getContext()));
}

void ScoreGradOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setNameFn) {
  nameExpressionRegionArgs(region, setNameFn);
}

LogicalResult ParamGradOp::verifyRegions() {
  Block &block = getBody().front();
  if (block.getNumArguments() != SdpaOp::kNumRegionArgs)
    return emitOpError("region must take 5 arguments (score: f32, b, h, q, "
                       "kv: i32), found ")
           << block.getNumArguments();
  for (BlockArgument arg : block.getArguments()) {
    Type expected = arg.getArgNumber() == SdpaOp::kScore
                        ? Type(Float32Type::get(getContext()))
                        : Type(IntegerType::get(getContext(), 32));
    if (arg.getType() != expected)
      return emitOpError("region argument #")
             << arg.getArgNumber() << " must be " << expected << ", found "
             << arg.getType();
  }
  auto yield = dyn_cast<YieldParamGradOp>(block.getTerminator());
  if (!yield)
    return emitOpError("region must end with attn.yield_param_grad");
  auto load = yield.getRead().getDefiningOp<ParamLoadOp>();
  if (!load || load->getParentRegion() != &getBody() ||
      load.getParam() != getParam())
    return yield.emitOpError("must name a read of @")
           << getParam() << " in the region (an attn.param_load of it)";
  return success();
}

LogicalResult
ParamGradOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param =
      symbolTable.lookupSymbolIn<ParamOp>(getParentOp(), getParamAttr());
  if (!param)
    return emitOpError("references unknown parameter @") << getParam();
  if (!param.getRequiresGrad() || !param.getElementType().isF32())
    return emitOpError("parameter @")
           << getParam() << " is not an f32 parameter marked requires_grad";
  return success();
}

void ParamGradOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setNameFn) {
  nameExpressionRegionArgs(region, setNameFn);
}

LogicalResult SdpaOp::verifyRegions() {
  if (failed(verifyExpressionRegion(*this, getScoreMod(), "score",
                                    Float32Type::get(getContext()))) ||
      failed(verifyExpressionRegion(*this, getMask(), "mask",
                                    IntegerType::get(getContext(), 1))))
    return failure();
  BlockArgument maskScore = getMask().getArgument(kScore);
  if (!maskScore.use_empty())
    return emitOpError("the mask must not depend on the score; put score "
                       "changes in the score region");
  if (!getSink().empty() && failed(verifySinkRegion(*this, getSink())))
    return failure();
  for (Region *region : {&getKScale(), &getVScale()})
    if (!region->empty() && failed(verifyRowFactorRegion(*this, *region)))
      return failure();
  bool fp8 = static_cast<bool>(getParentOp().getKvDtype());
  if (!fp8 && (!getKScale().empty() || !getVScale().empty()))
    return emitOpError("k_scale and v_scale dequantize an fp8 K/V cache; "
                       "the kernel has no kv_dtype");
  return success();
}
