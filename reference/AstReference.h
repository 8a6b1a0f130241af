//===- AstReference.h - Float64 attention evaluated from the DSL's AST ----===//
//
// An independent oracle for the compiler: attention computed straight from
// the checked AST (dsl/AST.h) on host tensors, with no MLIR, no MLIRGen and
// no IR interpreter in between. It shares only the front end up to Sema with
// the compiler, so a wrong lowering of an expression (`<` lowered as `<=`, a
// lost wraparound, a wrong head mapping) shows up as a mismatch against it.
//
// Semantics (docs/dsl.md, section 1 and 5):
//
//  - Query row i of sequence b (q_len M, kv_len N) sits at the absolute
//    position q = N - M + i; query head h reads KV head h / (q_heads /
//    kv_heads). s = (Q . K) * spec.scale in double; the score expression
//    sees `score` = s; the mask is evaluated for the keys 0 <= kv < N only;
//    p = mask ? score' : -inf.
//  - Softmax in double with m = max p: o = sum exp(p - m) V / l, lse = m +
//    log(l) with l = sum exp(p - m). A row where every p is -inf (all keys
//    masked, or N == 0) has o = 0 and lse = -inf. NaN in p propagates to the
//    row's o and lse.
//  - Expressions: Int is i32 with two's-complement wraparound for + - * and
//    unary -, `/` truncates, `%` has the dividend's sign; x / 0 == 0,
//    x % 0 == x, INT32_MIN / -1 == INT32_MIN, INT32_MIN % -1 == 0. Float
//    arithmetic is done in double (float literals keep their f32 value);
//    Int -> Float is exact. Both sides of && || ?: are evaluated. A param
//    read with any index outside its dimension's extent gives 0.
//
// Every input is checked before anything is read: shapes, indptrs, the block
// table entries that hold keys, params against their declarations. An
// inconsistency gives nullopt and a message naming the tensor.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_REFERENCE_ASTREFERENCE_H
#define ATTNC_REFERENCE_ASTREFERENCE_H

#include "dsl/AST.h"
#include "reference/AttentionData.h"

#include <map>
#include <optional>
#include <string>

namespace attnc {

/// O and LSE of `spec` on `inputs`, in float64, from the AST. On failure
/// returns nullopt and sets `error`; on success `error` is left unchanged.
std::optional<AttentionOutputs> astReference(const dsl::AttentionSpec &spec,
                                             const AttentionInputs &inputs,
                                             std::string &error);

/// Gradients of a loss L by Q, K and V, given dO = dL/dO, in the layouts
/// of q and of k / v (k_cache / v_cache when paged).
struct AttentionGradients {
  std::vector<double> dq, dk, dv;
  /// dL/d(param) of each `requires_grad` param, laid out as the param.
  std::map<std::string, std::vector<double>> params;
};
/// The backward pass of `spec` in float64, from the AST: with P the
/// attention weights (the sink in their denominator), dP = dO V^T,
/// D = rowsum(P dP), dS' = P (dP - D), dS = dS' f'(s) for the score
/// expression f (its derivative by central differences in double),
/// dQ = scale dS K, dK = scale dS^T Q, dV = P^T dO, summed over the query
/// heads sharing a KV head. Masked keys and rows with no visible key get
/// no gradient. For a `requires_grad` param p, dL/dp[i] = sum of
/// dS' df/dp[i] over the visible elements, df/dp[i] by central differences
/// of the logits in double with p[i] moved. 16-bit K/V only (no k_scale /
/// v_scale). nullopt and `error` on bad inputs.
std::optional<AttentionGradients>
astBackwardReference(const dsl::AttentionSpec &spec,
                     const AttentionInputs &inputs,
                     const std::vector<double> &dO, std::string &error);

/// The tiles of a kernel's programs: `blockQ` rows per program, holding
/// `blockQ` / G query rows of the G heads of a KV head when `packHeads`.
struct TileShape {
  int64_t blockQ = 64, blockKV = 64;
  bool packHeads = false;
};

/// What exact tile skipping visits, counted from the AST: over every
/// program and KV tile of its sequence (the key range cut in blockKV
/// tiles), those holding at least one visible element of the program's
/// valid query rows (`kvTilesVisible`), and among them those with a masked
/// element as well, keys past kv_len counting as masked (`kvTilesPartial`).
struct TileCounts {
  int64_t kvTilesAll = 0, kvTilesVisible = 0, kvTilesPartial = 0;
};

std::optional<TileCounts> astTileCounts(const dsl::AttentionSpec &spec,
                                        const AttentionInputs &inputs,
                                        const TileShape &shape,
                                        std::string &error);

} // namespace attnc

#endif // ATTNC_REFERENCE_ASTREFERENCE_H
