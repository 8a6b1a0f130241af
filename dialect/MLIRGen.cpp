//===- MLIRGen.cpp - Build attn dialect IR from a checked DSL module ------===//
//
// A direct walk of the AST. Sema has already made every implicit conversion
// an explicit Convert node, so each expression node maps to exactly one
// arith/math/attn op of the type Sema assigned it.
//
//===----------------------------------------------------------------------===//
#include "dialect/MLIRGen.h"
#include "dialect/AttnDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::dsl;

namespace {

class MLIRGen {
public:
  MLIRGen(MLIRContext &context, const dsl::Module &module)
      : builder(&context), module(module) {}

  OwningOpRef<ModuleOp> build() {
    OwningOpRef<ModuleOp> result = ModuleOp::create(
        FileLineColLoc::get(builder.getContext(), module.fileName, 1, 1));
    builder.setInsertionPointToEnd(result->getBody());
    for (const AttentionSpec &spec : module.specs)
      buildKernel(spec);
    if (failed(verify(*result)))
      return nullptr;
    return result;
  }

private:
  Location loc(SourceLoc at) {
    return FileLineColLoc::get(builder.getContext(), module.fileName, at.line,
                               at.col);
  }

  Type typeOf(ValueType type) {
    switch (type) {
    case ValueType::Int:
      return builder.getI32Type();
    case ValueType::Float:
      return builder.getF32Type();
    case ValueType::Bool:
    case ValueType::Invalid:
      break;
    }
    return builder.getI1Type();
  }

  /// The kernel's kv_dtype: an fp8 type, or null when K/V have dtype.
  TypeAttr kvDtypeAttr(const AttentionSpec &spec) {
    if (spec.kvDtype == DType::E4M3)
      return TypeAttr::get(builder.getFloat8E4M3FNType());
    if (spec.kvDtype == DType::E5M2)
      return TypeAttr::get(builder.getFloat8E5M2Type());
    return TypeAttr();
  }

  /// An f32 expression region of the sdpa (sink, k_scale, v_scale).
  void buildFloatRegion(Region &region, const Expr &expr,
                        const AttentionSpec &spec) {
    Block &block = createRegionBlock(region, spec.loc);
    builder.setInsertionPointToStart(&block);
    Value value = buildExpr(expr, block);
    if (value.getType().isInteger(32))
      value = builder.create<arith::SIToFPOp>(value.getLoc(),
                                              builder.getF32Type(), value);
    builder.create<attn::YieldOp>(value.getLoc(), value);
  }

  void buildKernel(const AttentionSpec &spec) {
    Type dtype = spec.dtype == DType::F16 ? Type(builder.getF16Type())
                                          : Type(builder.getBF16Type());
    auto kvCache = spec.kvCache == KVCacheKind::Paged
                       ? attn::KVCacheKind::paged
                       : attn::KVCacheKind::dense;
    IntegerAttr pageSize;
    if (spec.kvCache == KVCacheKind::Paged)
      pageSize = builder.getI64IntegerAttr(spec.pageSize);
    auto kernel = builder.create<attn::KernelOp>(
        loc(spec.loc), builder.getStringAttr(spec.name), TypeAttr::get(dtype),
        builder.getI64IntegerAttr(spec.headDim),
        builder.getI64IntegerAttr(spec.qHeads),
        builder.getI64IntegerAttr(spec.kvHeads),
        attn::KVCacheKindAttr::get(builder.getContext(), kvCache), pageSize,
        builder.getF64FloatAttr(spec.scale), kvDtypeAttr(spec),
        spec.valueHeadDim() != spec.headDim
            ? builder.getI64IntegerAttr(spec.valueHeadDim())
            : IntegerAttr(),
        spec.latentKV ? builder.getUnitAttr() : UnitAttr());
    currentSpec = &spec;

    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(&kernel.getBody().emplaceBlock());
    for (const ParamDecl &param : spec.params)
      buildParam(param);

    auto sdpa = builder.create<attn::SdpaOp>(loc(spec.loc));
    Block &scoreBlock = createRegionBlock(sdpa.getScoreMod(), spec.loc);
    builder.setInsertionPointToStart(&scoreBlock);
    Value score = spec.score ? buildExpr(*spec.score, scoreBlock)
                             : scoreBlock.getArgument(attn::SdpaOp::kScore);
    if (score.getType().isInteger(32)) // Sema promotes; stay safe regardless.
      score = builder.create<arith::SIToFPOp>(score.getLoc(),
                                              builder.getF32Type(), score);
    builder.create<attn::YieldOp>(score.getLoc(), score);

    Block &maskBlock = createRegionBlock(sdpa.getMask(), spec.loc);
    builder.setInsertionPointToStart(&maskBlock);
    Value mask = spec.mask ? buildExpr(*spec.mask, maskBlock)
                           : builder.create<arith::ConstantOp>(
                                 loc(spec.loc), builder.getBoolAttr(true));
    builder.create<attn::YieldOp>(mask.getLoc(), mask);

    if (spec.sink)
      buildFloatRegion(sdpa.getSink(), *spec.sink, spec);
    if (spec.kScale)
      buildFloatRegion(sdpa.getKScale(), *spec.kScale, spec);
    if (spec.vScale)
      buildFloatRegion(sdpa.getVScale(), *spec.vScale, spec);
  }

  void buildParam(const ParamDecl &param) {
    SmallVector<int64_t> dims;
    for (const ParamDim &dim : param.dims) {
      switch (dim.kind) {
      case ParamDim::Kind::Batch:
        dims.push_back(attn::kBatchDim);
        break;
      case ParamDim::Kind::QHeads:
        dims.push_back(attn::kQHeadsDim);
        break;
      case ParamDim::Kind::KVHeads:
        dims.push_back(attn::kKVHeadsDim);
        break;
      case ParamDim::Kind::Fixed:
        dims.push_back(dim.extent);
        break;
      case ParamDim::Kind::Dynamic:
        dims.push_back(attn::kDynamicDim);
        break;
      }
    }
    builder.create<attn::ParamOp>(
        loc(param.loc), builder.getStringAttr(param.name),
        TypeAttr::get(typeOf(param.elementType)),
        builder.getDenseI64ArrayAttr(dims),
        param.requiresGrad ? builder.getUnitAttr() : UnitAttr());
  }

  Block &createRegionBlock(Region &region, SourceLoc at) {
    Block &block = region.emplaceBlock();
    Type i32 = builder.getI32Type();
    Location l = loc(at);
    block.addArguments({builder.getF32Type(), i32, i32, i32, i32},
                       {l, l, l, l, l});
    return block;
  }

  Value constantInt(Location l, int64_t value) {
    return builder.create<arith::ConstantOp>(
        l, builder.getI32IntegerAttr(static_cast<int32_t>(value)));
  }

  Value buildVar(const Expr &expr, Block &block) {
    Location l = loc(expr.loc);
    switch (expr.var) {
    case BuiltinVar::Score:
      return block.getArgument(attn::SdpaOp::kScore);
    case BuiltinVar::Batch:
      return block.getArgument(attn::SdpaOp::kBatch);
    case BuiltinVar::Head:
      return block.getArgument(attn::SdpaOp::kHead);
    case BuiltinVar::Q:
      return block.getArgument(attn::SdpaOp::kQ);
    case BuiltinVar::KV:
      return block.getArgument(attn::SdpaOp::kKV);
    case BuiltinVar::HeadDim:
      return constantInt(l, currentSpec->headDim);
    case BuiltinVar::QHeads:
      return constantInt(l, currentSpec->qHeads);
    case BuiltinVar::KVHeads:
      return constantInt(l, currentSpec->kvHeads);
    case BuiltinVar::QLen:
      return builder.create<attn::QLenOp>(
          l, builder.getI32Type(), block.getArgument(attn::SdpaOp::kBatch));
    case BuiltinVar::KVLen:
      return builder.create<attn::KVLenOp>(
          l, builder.getI32Type(), block.getArgument(attn::SdpaOp::kBatch));
    }
    llvm_unreachable("unknown builtin variable");
  }

  Value buildBinary(const Expr &expr, Value lhs, Value rhs) {
    Location l = loc(expr.loc);
    bool isFloat = isa<FloatType>(lhs.getType());
    switch (expr.binaryOp) {
    case BinaryOp::Add:
      return isFloat ? builder.create<arith::AddFOp>(l, lhs, rhs).getResult()
                     : builder.create<arith::AddIOp>(l, lhs, rhs).getResult();
    case BinaryOp::Sub:
      return isFloat ? builder.create<arith::SubFOp>(l, lhs, rhs).getResult()
                     : builder.create<arith::SubIOp>(l, lhs, rhs).getResult();
    case BinaryOp::Mul:
      return isFloat ? builder.create<arith::MulFOp>(l, lhs, rhs).getResult()
                     : builder.create<arith::MulIOp>(l, lhs, rhs).getResult();
    case BinaryOp::Div:
      return isFloat ? builder.create<arith::DivFOp>(l, lhs, rhs).getResult()
                     : builder.create<arith::DivSIOp>(l, lhs, rhs).getResult();
    case BinaryOp::Rem:
      return builder.create<arith::RemSIOp>(l, lhs, rhs);
    case BinaryOp::And:
      return builder.create<arith::AndIOp>(l, lhs, rhs);
    case BinaryOp::Or:
    case BinaryOp::BitOr:
      return builder.create<arith::OrIOp>(l, lhs, rhs);
    case BinaryOp::BitAnd:
      return builder.create<arith::AndIOp>(l, lhs, rhs);
    case BinaryOp::BitXor:
      return builder.create<arith::XOrIOp>(l, lhs, rhs);
    case BinaryOp::Shl:
    case BinaryOp::Shr: {
      // The count is taken mod 32, so every shift is defined (arith's
      // shifts by 32 or more are poison).
      // Folded when the count is a constant, which the mask analysis needs
      // to bound `x >> k`.
      Value count =
          builder.createOrFold<arith::AndIOp>(l, rhs, constantInt(l, 31));
      if (expr.binaryOp == BinaryOp::Shl)
        return builder.create<arith::ShLIOp>(l, lhs, count);
      return builder.create<arith::ShRSIOp>(l, lhs, count);
    }
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::Eq:
    case BinaryOp::Ne:
      return buildCompare(l, expr.binaryOp, lhs, rhs, isFloat);
    }
    llvm_unreachable("unknown binary operator");
  }

  Value buildCompare(Location l, BinaryOp op, Value lhs, Value rhs,
                     bool isFloat) {
    if (isFloat) {
      // Ordered predicates: a NaN score compares false, except for `!=`.
      arith::CmpFPredicate pred;
      switch (op) {
      case BinaryOp::Lt:
        pred = arith::CmpFPredicate::OLT;
        break;
      case BinaryOp::Le:
        pred = arith::CmpFPredicate::OLE;
        break;
      case BinaryOp::Gt:
        pred = arith::CmpFPredicate::OGT;
        break;
      case BinaryOp::Ge:
        pred = arith::CmpFPredicate::OGE;
        break;
      case BinaryOp::Eq:
        pred = arith::CmpFPredicate::OEQ;
        break;
      default:
        pred = arith::CmpFPredicate::UNE;
        break;
      }
      return builder.create<arith::CmpFOp>(l, pred, lhs, rhs);
    }
    arith::CmpIPredicate pred;
    switch (op) {
    case BinaryOp::Lt:
      pred = arith::CmpIPredicate::slt;
      break;
    case BinaryOp::Le:
      pred = arith::CmpIPredicate::sle;
      break;
    case BinaryOp::Gt:
      pred = arith::CmpIPredicate::sgt;
      break;
    case BinaryOp::Ge:
      pred = arith::CmpIPredicate::sge;
      break;
    case BinaryOp::Eq:
      pred = arith::CmpIPredicate::eq;
      break;
    default:
      pred = arith::CmpIPredicate::ne;
      break;
    }
    return builder.create<arith::CmpIOp>(l, pred, lhs, rhs);
  }

  Value buildCall(const Expr &expr, ArrayRef<Value> args) {
    Location l = loc(expr.loc);
    bool isFloat = isa<FloatType>(args[0].getType());
    switch (expr.builtin) {
    case Builtin::Exp:
      return builder.create<math::ExpOp>(l, args[0]);
    case Builtin::Log:
      return builder.create<math::LogOp>(l, args[0]);
    case Builtin::Tanh:
      return builder.create<math::TanhOp>(l, args[0]);
    case Builtin::Sqrt:
      return builder.create<math::SqrtOp>(l, args[0]);
    case Builtin::Abs:
      return isFloat ? builder.create<math::AbsFOp>(l, args[0]).getResult()
                     : builder.create<math::AbsIOp>(l, args[0]).getResult();
    case Builtin::Min:
      return isFloat ? builder.create<arith::MinimumFOp>(l, args[0], args[1])
                           .getResult()
                     : builder.create<arith::MinSIOp>(l, args[0], args[1])
                           .getResult();
    case Builtin::Max:
      return isFloat ? builder.create<arith::MaximumFOp>(l, args[0], args[1])
                           .getResult()
                     : builder.create<arith::MaxSIOp>(l, args[0], args[1])
                           .getResult();
    case Builtin::Exp2:
      return builder.create<math::Exp2Op>(l, args[0]);
    case Builtin::Pow:
      return builder.create<math::PowFOp>(l, args[0], args[1]);
    case Builtin::Floor:
      return builder.create<math::FloorOp>(l, args[0]);
    case Builtin::Ceil:
      return builder.create<math::CeilOp>(l, args[0]);
    case Builtin::Sin:
      return builder.create<math::SinOp>(l, args[0]);
    case Builtin::Cos:
      return builder.create<math::CosOp>(l, args[0]);
    case Builtin::Sigmoid: {
      // 1 / (1 + exp(-x)).
      Value one = constantFloat(l, 1.0f);
      Value e = builder.create<math::ExpOp>(
          l, builder.create<arith::NegFOp>(l, args[0]));
      return builder.create<arith::DivFOp>(
          l, one, builder.create<arith::AddFOp>(l, one, e));
    }
    case Builtin::Float:
      return args[0]; // Sema converted an Int argument already.
    case Builtin::Int:
      return isFloat ? buildFloatToInt(l, args[0]) : args[0];
    }
    llvm_unreachable("unknown builtin function");
  }

  Value constantFloat(Location l, float value) {
    return builder.create<arith::ConstantOp>(l, builder.getF32FloatAttr(value));
  }

  /// int(x): toward zero, saturating at the i32 limits, NaN to 0. arith's
  /// fptosi is poison outside the range, so x is clamped into it first.
  Value buildFloatToInt(Location l, Value x) {
    Type i32 = builder.getI32Type();
    Value isNaN =
        builder.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNE, x, x);
    Value tooBig = builder.create<arith::CmpFOp>(
        l, arith::CmpFPredicate::OGE, x, constantFloat(l, 2147483648.0f));
    // 2147483520 is the largest f32 below 2^31; -2^31 is exact.
    Value clamped = builder.create<arith::MaximumFOp>(
        l,
        builder.create<arith::MinimumFOp>(l, x,
                                          constantFloat(l, 2147483520.0f)),
        constantFloat(l, -2147483648.0f));
    Value safe = builder.create<arith::SelectOp>(
        l, isNaN, constantFloat(l, 0.0f), clamped);
    Value truncated = builder.create<arith::FPToSIOp>(l, i32, safe);
    return builder.create<arith::SelectOp>(
        l, tooBig, constantInt(l, 2147483647), truncated);
  }

  Value buildExpr(const Expr &expr, Block &block) {
    Location l = loc(expr.loc);
    SmallVector<Value, 3> operands;
    if (expr.kind != ExprKind::Var)
      for (const ExprPtr &operand : expr.operands)
        operands.push_back(buildExpr(*operand, block));

    switch (expr.kind) {
    case ExprKind::IntLit:
      return constantInt(l, expr.intValue);
    case ExprKind::FloatLit:
      return builder.create<arith::ConstantOp>(
          l, builder.getF32FloatAttr(static_cast<float>(expr.floatValue)));
    case ExprKind::BoolLit:
      return builder.create<arith::ConstantOp>(
          l, builder.getBoolAttr(expr.boolValue));
    case ExprKind::Var:
      return buildVar(expr, block);
    case ExprKind::ParamRef:
      return builder.create<attn::ParamLoadOp>(
          l, typeOf(expr.type),
          SymbolRefAttr::get(builder.getContext(), expr.name), operands);
    case ExprKind::Unary:
      if (expr.unaryOp == UnaryOp::Not)
        return builder.create<arith::XOrIOp>(
            l, operands[0],
            builder.create<arith::ConstantOp>(l, builder.getBoolAttr(true)));
      if (isa<FloatType>(operands[0].getType()))
        return builder.create<arith::NegFOp>(l, operands[0]);
      return builder.create<arith::SubIOp>(l, constantInt(l, 0), operands[0]);
    case ExprKind::Binary:
      return buildBinary(expr, operands[0], operands[1]);
    case ExprKind::Select:
      return builder.create<arith::SelectOp>(l, operands[0], operands[1],
                                             operands[2]);
    case ExprKind::Call:
      return buildCall(expr, operands);
    case ExprKind::Convert:
      return builder.create<arith::SIToFPOp>(l, builder.getF32Type(),
                                             operands[0]);
    }
    llvm_unreachable("unknown expression kind");
  }

  OpBuilder builder;
  const dsl::Module &module;
  const AttentionSpec *currentSpec = nullptr;
};

} // namespace

OwningOpRef<ModuleOp> attnc::buildModule(MLIRContext &context,
                                         const dsl::Module &module) {
  context.getOrLoadDialect<attn::AttnDialect>();
  return MLIRGen(context, module).build();
}
