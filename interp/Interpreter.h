//===- Interpreter.h - Reference interpreter for attn kernels -------------===//
//
// Runs an `attn.kernel` on concrete host tensors, at any stage of the
// pipeline: the `attn.sdpa` form straight from the DSL, or a lowered
// `attn.program` (untiled or tiled, logical or paged addressing). Tests run
// one kernel before and after a pass and compare the outputs, so every pass
// is checked to preserve the computation without a GPU.
//
// Numerics. The `attn.sdpa` form is the float64 reference: q.k, the softmax
// and P.V are computed in double; only the score and mask regions run in the
// precision their IR says (f32 arithmetic in float, i32 with wraparound).
// Lowered programs run as the GPU would: tiles hold f32 values, loads round
// to the tile's f16/bf16 element type, `attn.pv` rounds P to V's element
// type, and `attn.store` rounds O to the kernel's dtype.
//
// Errors are values: a shape that does not match the kernel, a missing
// parameter, an index outside a tensor (a param, the block table, the page
// pool) or an op the interpreter does not know each give failure() and a
// message naming the tensor or the op.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_INTERP_INTERPRETER_H
#define ATTNC_INTERP_INTERPRETER_H

#include "dialect/AttnDialect.h"
#include "reference/AttentionData.h"

#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnc {

/// Runs `kernel` on `inputs`. The kernel's computation is either `attn.sdpa`
/// or an `attn.program`, which runs once per (sequence, query head, query
/// tile). On failure, `error` says what went wrong and where.
mlir::FailureOr<AttentionOutputs> interpretKernel(attn::KernelOp kernel,
                                                  const AttentionInputs &inputs,
                                                  std::string &error);

/// What `makeRandomInputs` builds.
/// Evaluates an expression region of `kernel` (the score, mask or sink of
/// its attn.sdpa, an attn.score_grad: (score, b, h, q, kv) -> value) at one
/// element, with the kernel's params from `inputs`, in the interpreter's
/// arithmetic (f32 for float ops). An i1 or integer result is returned as
/// its value.
mlir::FailureOr<double>
evaluateExpression(attn::KernelOp kernel, mlir::Region &region,
                   const AttentionInputs &inputs, float score, int32_t b,
                   int32_t h, int32_t q, int32_t kv, std::string &error);

/// Evaluates an attn.param_grad of `kernel` at one element: the partial it
/// yields and the row-major element index of the read it is for (-1 when
/// that read falls outside the parameter, which reads as 0 and gets no
/// gradient).
struct ParamGradValue {
  double partial = 0;
  int64_t element = -1;
};
mlir::FailureOr<ParamGradValue>
evaluateParamGrad(attn::KernelOp kernel, attn::ParamGradOp grad,
                  const AttentionInputs &inputs, float score, int32_t b,
                  int32_t h, int32_t q, int32_t kv, std::string &error);

struct RandomInputSpec {
  /// Query and key lengths of each sequence (same size: the batch).
  std::vector<int64_t> qLens, kvLens;
  uint64_t seed = 0;
  /// Paged: pages beyond those the sequences need, filled with NaN. Unused
  /// block-table slots point at them too, so a read past a sequence's pages
  /// poisons the result instead of reading plausible data.
  int64_t sparePages = 3;
};

/// Random inputs for `kernel`: values uniform in [-1, 1], rounded to the
/// kernel's dtype and never zero; paged caches with shuffled block tables,
/// NaN in spare pages and in the slots of a last page past kv_len.
/// Parameters get plausible values by shape and type: f32 over heads gets
/// ALiBi slopes 2^(-8(h+1)/H); other f32 values lie in [0.5, 4]; i32 over
/// [batch] lies in [0, kv_len[b]] (prefix lengths); i32 over [batch, ?] is a
/// nondecreasing run of small ints per sequence (document ids); other i32
/// values lie in [0, 4). A `?` extent is the longest kv_len (at least 1).
mlir::FailureOr<AttentionInputs> makeRandomInputs(attn::KernelOp kernel,
                                                  const RandomInputSpec &spec,
                                                  std::string &error);

/// How far `actual` is from `expected`.
struct OutputDiff {
  /// ‖actual − expected‖ / ‖expected‖ over the O entries finite in both
  /// (the absolute norm when ‖expected‖ is 0).
  double oRelErr = 0;
  /// max |actual − expected| over the LSE entries finite in both, less two
  /// f32 ulps of the expected value (what an f32 LSE cannot resolve).
  double lseMaxAbsDiff = 0;
  /// Entries where one side is not finite and the two differ (-inf must
  /// meet -inf, NaN must meet NaN), plus a size mismatch.
  int64_t nonFiniteMismatches = 0;
  /// Describes the first such mismatch.
  std::string firstMismatch;

  bool within(double oTol, double lseTol) const {
    return nonFiniteMismatches == 0 && oRelErr <= oTol &&
           lseMaxAbsDiff <= lseTol;
  }
};
OutputDiff compareOutputs(const AttentionOutputs &actual,
                          const AttentionOutputs &expected);

/// Rounds `value` to the float type `type` (f16, bf16 or f32) with
/// round-to-nearest-even; other types leave it unchanged.
double roundToType(double value, mlir::Type type);
/// Round-to-nearest-even to IEEE binary16 and to bfloat16, computed from
/// the double directly (no double rounding through f32).
double roundToF16(double value);
double roundToBF16(double value);

} // namespace attnc

#endif // ATTNC_INTERP_INTERPRETER_H
