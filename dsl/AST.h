//===- AST.h - Abstract syntax tree of the attention DSL ------------------===//
//
// One `attention NAME { ... }` block becomes one AttentionSpec. Every node
// carries the 1-based line and column it was parsed from, so later stages
// (Sema, MLIRGen) can point diagnostics and MLIR locations at the source.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_AST_H
#define ATTNC_DSL_AST_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnc::dsl {

/// A 1-based position in the source; line 0 means "unknown".
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
};

/// Scalar types of the expression language: i32, f32 and i1.
enum class ValueType { Invalid, Int, Float, Bool };

/// Names that are bound inside every expression.
enum class BuiltinVar {
  Score,   ///< f32: the scaled logit q·k * scale (only in `score`)
  Batch,   ///< i32 `b`: index of the sequence in the batch
  Head,    ///< i32 `h`: query head
  Q,       ///< i32 `q`: absolute query position (bottom-right aligned)
  KV,      ///< i32 `kv`: absolute key position
  HeadDim, ///< i32 constant `head_dim`
  QHeads,  ///< i32 constant `q_heads`
  KVHeads, ///< i32 constant `kv_heads`
  QLen,    ///< i32 `q_len`: query rows of sequence b
  KVLen,   ///< i32 `kv_len`: keys of sequence b
};

enum class UnaryOp { Neg, Not };
enum class BinaryOp {
  Add, Sub, Mul, Div, Rem,
  Lt, Le, Gt, Ge, Eq, Ne,
  And, Or,
  BitAnd, BitOr, BitXor, Shl, Shr, ///< on Ints; shift counts are taken mod 32
};
enum class Builtin {
  Exp, Log, Tanh, Sqrt, Abs, Min, Max,
  Exp2, Pow, Floor, Ceil, Sin, Cos, Sigmoid,
  Int,   ///< Float -> Int: toward zero, saturating; NaN gives 0
  Float, ///< Int -> Float (Sema converts the argument; the call is then identity)
};

enum class ExprKind {
  IntLit,    ///< intValue
  FloatLit,  ///< floatValue
  BoolLit,   ///< boolValue (`true` / `false`)
  Var,       ///< var
  ParamRef,  ///< name; operands are the indices (empty for a scalar param)
  Unary,     ///< unaryOp; operands[0]
  Binary,    ///< binaryOp; operands[0], operands[1]
  Select,    ///< cond ? a : b; operands[0..2]
  Call,      ///< builtin; operands are the arguments
  Convert,   ///< inserted by Sema: operands[0] converted to `type`
};

/// One expression node. A tagged node keeps the parser, Sema and MLIRGen a
/// plain switch over `kind`; only the fields named for a kind are meaningful.
struct Expr {
  ExprKind kind;
  SourceLoc loc;
  /// Set by Sema. After Sema, operand types already agree with what the
  /// operation needs: implicit int->float promotions are explicit Convert
  /// nodes, so MLIRGen never has to infer a conversion.
  ValueType type = ValueType::Invalid;

  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  BuiltinVar var = BuiltinVar::Score;
  std::string name;
  UnaryOp unaryOp = UnaryOp::Neg;
  BinaryOp binaryOp = BinaryOp::Add;
  Builtin builtin = Builtin::Exp;
  std::vector<std::unique_ptr<Expr>> operands;
};
using ExprPtr = std::unique_ptr<Expr>;

/// Element types: fp16 and bf16 for Q, O and the mma; the K/V cache may also
/// hold float8 (e4m3fn, e5m2), widened on load and scaled (k_scale, v_scale).
enum class DType { F16, BF16, E4M3, E5M2 };
enum class KVCacheKind { Dense, Paged };

/// One dimension of a tensor parameter: `batch`, `q_heads`, `kv_heads`, an
/// integer extent, or `?` (set by the tensor passed at run time).
struct ParamDim {
  enum class Kind { Batch, QHeads, KVHeads, Fixed, Dynamic };
  Kind kind = Kind::Dynamic;
  int64_t extent = 0; ///< only for Fixed
  SourceLoc loc;
};

/// What a kernel's argument block holds (runtime/device/kernel_args.h, which
/// static_asserts the same numbers): Sema rejects specs beyond it.
constexpr int kMaxParams = 8;
constexpr int kMaxParamRank = 4;
/// A param's fixed extents multiply to at most this many elements.
constexpr int64_t kMaxParamFixedElements = int64_t(1) << 40;

/// `param NAME : f32` or `param NAME : i32[dims...]`.
struct ParamDecl {
  std::string name;
  SourceLoc loc;
  ValueType elementType = ValueType::Float; ///< Int or Float
  std::vector<ParamDim> dims;               ///< empty for a scalar
  /// `requires_grad`: the backward pass derives dL/d(param) (f32 only).
  bool requiresGrad = false;
  SourceLoc requiresGradLoc;
};

/// A whole `attention` block after Sema: every required key present, every
/// constant checked, `scale` folded to a number.
struct AttentionSpec {
  std::string name;
  SourceLoc loc;

  DType dtype = DType::F16;
  int64_t headDim = 0;
  /// Columns of V and O (`v_head_dim`; head_dim when not given): Q and K
  /// keep head_dim (DeepSeek's MLA prefill: 192 and 128).
  int64_t vHeadDim = 0;
  int64_t valueHeadDim() const { return vHeadDim ? vHeadDim : headDim; }
  int64_t qHeads = 0;
  int64_t kvHeads = 0;
  KVCacheKind kvCache = KVCacheKind::Dense;
  int64_t pageSize = 0; ///< only for Paged
  /// `kv_layout = latent`: one cache, K; V is its first v_head_dim columns
  /// (DeepSeek's MLA keeps one latent vector per token).
  bool latentKV = false;

  ExprPtr scaleExpr; ///< null when defaulted to 1/sqrt(head_dim)
  double scale = 0;  ///< folded by Sema

  ExprPtr score; ///< f32 expression; null means the identity (`score`)
  ExprPtr mask;  ///< i1 expression; null means every key is visible
  /// f32 expression of (b, h, q): a learned attention sink, one more logit
  /// in each row's softmax with no value row; null means none.
  ExprPtr sink;

  /// Element type of the K/V tensors: dtype, or an fp8 format (then K and
  /// V are `kScale * K8` and `vScale * V8`).
  DType kvDtype = DType::F16;
  /// f32 expressions of (b, h): the dequantization scales of an fp8 K/V
  /// cache; null means 1.
  ExprPtr kScale, vScale;

  std::vector<ParamDecl> params;
};

/// Whether `fn` maps Floats to a Float (after Sema, every argument of such
/// a call is a Float): all but abs, min, max and int.
bool isFloatFunction(Builtin fn);

/// A deep copy of `expr` (a `let` is expanded by copying its value).
ExprPtr cloneExpr(const Expr &expr);

/// Everything parsed from one file.
struct Module {
  std::string fileName;
  std::vector<AttentionSpec> specs;
};

/// Name of a builtin variable / function / type as written in the DSL.
const char *spelling(BuiltinVar var);
const char *spelling(Builtin fn);
const char *spelling(UnaryOp op);
const char *spelling(BinaryOp op);
const char *spelling(ValueType type);
const char *spelling(DType dtype);

} // namespace attnc::dsl

#endif // ATTNC_DSL_AST_H
