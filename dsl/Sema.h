//===- Sema.h - Meaning and types of the attention DSL --------------------===//
//
// Sema turns the parser's BlockSyntax into checked AttentionSpecs:
//   - block level (Sema.cpp): duplicate and missing keys, value ranges, the
//     head ratio, param declarations, duplicate block names;
//   - expressions (TypeCheck.cpp): names resolved, every node typed, and
//     implicit int -> float promotions made explicit Convert nodes;
//   - `scale` (ConstantFold.cpp): folded to a double.
// It reports every error it can find rather than stopping at the first.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_SEMA_H
#define ATTNC_DSL_SEMA_H

#include "dsl/Diagnostics.h"
#include "dsl/Syntax.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace attnc::dsl {

/// Which entry an expression is the value of; each allows different names.
/// KVScale: k_scale and v_scale, one factor per (b, h).
enum class ExprContext { Scale, Score, Mask, Sink, KVScale };

/// Params of one block, by name.
using ParamTable = std::map<std::string, const ParamDecl *, std::less<>>;
/// A `let` value and what it expands to (lets used in it expanded too).
struct LetValue {
  const Expr *value = nullptr;
  int64_t nodes = 0; ///< expanded node count
  int64_t depth = 0; ///< expanded depth
};
/// `let` values of one block, by name: each use is replaced by a copy of the
/// value, which is then checked where it is used.
using LetTable = std::map<std::string, LetValue, std::less<>>;
/// Limits on what lets expand to: the depth the parser allows one
/// expression (so walkers stay within about twice it), and a node count
/// that keeps a chain of doubling lets from exhausting memory.
constexpr int64_t kMaxLetDepth = 256;
constexpr int64_t kMaxExpandedNodes = 100000;

/// Types one expression tree in place.
class TypeChecker {
public:
  TypeChecker(DiagnosticEngine &diags, const ParamTable &params,
              ExprContext context, const LetTable *lets = nullptr)
      : diags(diags), params(params), context(context), lets(lets) {}

  /// Types `expr` and everything below it and wraps int operands that must
  /// be floats in Convert nodes. Returns the type, or Invalid after an error
  /// (already reported; errors are not repeated for enclosing nodes).
  ValueType check(ExprPtr &expr);

private:
  ValueType checkVar(Expr &expr);
  ValueType checkParamRef(Expr &expr);
  ValueType checkUnary(Expr &expr);
  ValueType checkBinary(Expr &expr);
  ValueType checkSelect(Expr &expr);
  ValueType checkCall(Expr &expr);
  /// Makes two numeric operands the same type, converting an Int to Float
  /// when the other is Float. Returns that type.
  static ValueType promote(ExprPtr &lhs, ExprPtr &rhs);

  DiagnosticEngine &diags;
  const ParamTable &params;
  ExprContext context;
  const LetTable *lets;
  /// Nodes added to this entry by let expansion so far.
  int64_t expandedNodes = 0;
};

/// Wraps `expr`, an Int expression, in a Convert node of type Float.
void convertToFloat(ExprPtr &expr);

/// The numeric and named constants a `scale` expression may use; a constant
/// that is missing or invalid is nullopt.
struct ScaleConstants {
  std::optional<int64_t> headDim, qHeads, kvHeads;
};

/// Folds a typed constant expression to a double (Int operations keep their
/// i32 meaning: `/` truncates; Float ones run in extended precision and are
/// rounded once). Reports integer overflow and
/// division by zero at the operation. Returns nullopt after an error, or
/// when it needs a constant that is itself invalid (already reported).
std::optional<double> foldScale(const Expr &expr,
                                const ScaleConstants &constants,
                                DiagnosticEngine &diags);

/// Checks every block of a file; builds the Module when nothing is wrong.
class Sema {
public:
  /// Sema stops after this many diagnostics: past it they are noise.
  static constexpr size_t kMaxDiagnostics = 100;

  explicit Sema(DiagnosticEngine &diags) : diags(diags) {}

  std::optional<Module> checkModule(std::string fileName,
                                    std::vector<BlockSyntax> blocks);

private:
  std::optional<AttentionSpec> checkBlock(BlockSyntax &block);
  void checkEntryValue(EntrySyntax &entry, AttentionSpec &spec);
  /// `requires_grad` params: f32, and read by the score.
  void checkRequiresGrad(const AttentionSpec &spec);
  void checkParam(EntrySyntax &entry, AttentionSpec &spec,
                  std::map<std::string, SourceLoc, std::less<>> &declared);
  bool takeNumber(EntrySyntax &entry, ValueType type, const char *mustBe);
  LetTable checkLets(const std::vector<EntrySyntax *> &lets,
                     const ParamTable &params);
  void checkExprEntry(EntrySyntax &entry, AttentionSpec &spec,
                      const ParamTable &params, const ScaleConstants &constants,
                      const LetTable &lets);
  /// kv_dtype against dtype; k_scale / v_scale only with an fp8 cache.
  void checkKVDType(const EntrySyntax *kvDtype, AttentionSpec &spec,
                    const EntrySyntax *kScale, const EntrySyntax *vScale);
  bool tooManyErrors() const;

  DiagnosticEngine &diags;
  bool reportedTooMany = false;
};

} // namespace attnc::dsl

#endif // ATTNC_DSL_SEMA_H
