//===- InterpInternal.h - Pieces shared by the interpreter's sources ------===//
//
// Not a public header: the problem view over checked inputs, the runtime
// value of an SSA value, and the evaluator that walks blocks of ops.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_INTERP_INTERPINTERNAL_H
#define ATTNC_INTERP_INTERPINTERNAL_H

#include "interp/Interpreter.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"

#include <utility>

#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

namespace attnc::interp {

/// The launch as the kernel sees it: lengths and offsets of every sequence,
/// and checked access to the Q/K/V tensors and the parameters.
class Problem {
public:
  /// Checks `inputs` against `kernel` (shapes, heads, head_dim, indptrs,
  /// block table, parameters) and builds the view over them.
  static mlir::FailureOr<Problem> create(attn::KernelOp kernel,
                                         const AttentionInputs &inputs,
                                         std::string &error);

  attn::KernelOp kernel;
  const AttentionInputs *in = nullptr;
  mlir::Type dtype;
  int64_t batch = 0, qHeads = 0, kvHeads = 0, headDim = 0, groupSize = 1;
  /// Columns of V and O (v_head_dim, else headDim).
  int64_t vHeadDim = 0;
  /// latent_kv: V is the first vHeadDim columns of K's rows.
  bool latentKV = false;
  int64_t totalQ = 0;
  bool paged = false;
  int64_t pageSize = 0, numPages = 0;
  /// Rows of the [rows, kv_heads, head_dim] view of K and V (dense: total_kv;
  /// paged: num_pages * page_size).
  int64_t kvRows = 0;
  llvm::StringMap<const HostTensor *> params;

  int64_t qStart(int64_t b) const { return in->qoIndptr[b]; }
  int64_t qLen(int64_t b) const {
    return in->qoIndptr[b + 1] - in->qoIndptr[b];
  }
  int64_t kvLen(int64_t b) const {
    return paged ? in->kvLens[b] : in->kvIndptr[b + 1] - in->kvIndptr[b];
  }
  /// head_dim values of query row `row` (within sequence b) of head h.
  const double *qRow(int64_t b, int64_t row, int64_t h) const {
    return &in->q.f[((qStart(b) + row) * qHeads + h) * headDim];
  }
  /// head_dim values of physical K/V row `row` of KV head `kvHead`; the row
  /// must be in [0, kvRows).
  const double *kvRow(bool isV, int64_t row, int64_t kvHead) const;
  /// The tensor name users know K or V by ("k", "v", "k_cache", "v_cache").
  const char *kvName(bool isV) const;
  /// Physical row of logical row `row` (0 <= row < kvLen(b)) by the layout's
  /// own addressing: kv_indptr[b] + row, or through the block table. Fails
  /// on a block-table entry outside the page pool.
  mlir::FailureOr<int64_t> logicalRow(int64_t b, int64_t row,
                                      std::string &error) const;
  /// block_table[b][index], checked against the table's shape.
  mlir::FailureOr<int32_t> blockTableEntry(int64_t b, int64_t index,
                                           std::string &error) const;
};

/// A tile: a rank-1 or rank-2 tensor of f32 values. f16/bf16 tiles hold
/// values already rounded to their element type.
struct Tile {
  llvm::SmallVector<int64_t, 2> shape;
  std::vector<float> data;
  mlir::Type elementType;

  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  int64_t cols() const { return shape.size() < 2 ? 1 : shape[1]; }
};

/// The run-time value of an SSA value: an integer of some bit width (index
/// is 64 bits), an f32, or a tile. Integers are kept sign-extended from their
/// width, except i1, which is 0 or 1.
struct RtValue {
  enum class Kind : uint8_t { None, Int, Float, Tile };
  Kind kind = Kind::None;
  unsigned width = 0;
  int64_t i = 0;
  float f = 0;
  std::shared_ptr<const Tile> tile;

  static RtValue ofInt(int64_t value, unsigned width);
  static RtValue ofFloat(float value) {
    RtValue v;
    v.kind = Kind::Float;
    v.f = value;
    return v;
  }
  static RtValue ofTile(std::shared_ptr<const Tile> tile) {
    RtValue v;
    v.kind = Kind::Tile;
    v.tile = std::move(tile);
    return v;
  }
  /// The integer read as signed (i1 true is -1).
  int64_t asSigned() const { return width == 1 ? -i : i; }
  /// The integer read as unsigned.
  uint64_t asUnsigned() const;
};

/// Where `attn.store` writes, and which rows it has written.
struct OutputSink {
  AttentionOutputs *outputs = nullptr;
  std::vector<uint8_t> oWritten, lseWritten; ///< per (query row, head)
  /// Split-KV programs: the split being run, and each split's partial O
  /// ([split, total_q, q_heads, head_dim]) and LSE, which attn.merge_splits
  /// combines. split < 0: stores write the outputs.
  int64_t split = -1;
  /// A split's LSE as the kernel keeps it: the scaled maximum
  /// (partialLse) and the log of the sum (partialLseLo).
  std::vector<double> partialO, partialLse, partialLseLo;
};

/// Walks blocks of ops on run-time values. One evaluator serves one kernel
/// run; `attn.program` runs rebind the block arguments for each CTA.
class Evaluator {
public:
  Evaluator(const Problem &problem, std::string &error)
      : problem(problem), error(error) {}

  /// Runs the ops of `block` in order. The block's terminator (scf.yield,
  /// attn.yield, attn.yield_row), if any, hands its operands to `yielded`.
  mlir::LogicalResult runBlock(mlir::Block &block,
                               llvm::SmallVectorImpl<RtValue> &yielded);
  /// Runs an expression region (score or mask) of `attn.sdpa`,
  /// `attn.score_mod` or `attn.mask` on one element.
  mlir::FailureOr<RtValue> runExpression(mlir::Region &region, float score,
                                         int32_t b, int32_t h, int32_t q,
                                         int32_t kv);

  void bind(mlir::Value value, RtValue rt) { env[value] = std::move(rt); }
  void clear() { env.clear(); }

  /// Records `message` about `op` as the error, and returns failure().
  mlir::LogicalResult fail(mlir::Operation *op, const llvm::Twine &message);

  // Typed reads of bound values; each records an error and returns null or
  // nullopt when the value is unbound or of another kind.
  const RtValue *valueOf(mlir::Operation *op, mlir::Value value);
  /// The row-major element of `t` that `op` reads with its indices' bound
  /// values, or -1 outside the tensor.
  mlir::FailureOr<int64_t> elementOf(attn::ParamLoadOp op, const HostTensor &t);
  std::optional<int64_t> intOf(mlir::Operation *op, mlir::Value value);
  std::optional<float> floatOf(mlir::Operation *op, mlir::Value value);
  const Tile *tileOf(mlir::Operation *op, mlir::Value value, unsigned rank);

  const Problem &problem;
  /// Set when running an `attn.program`: its block_q (checked against the
  /// q tile size of tile_start/num_tiles) and where stores go.
  std::optional<int64_t> blockQ;
  /// Query heads packed into each tile's rows (gqa_pack; 1: none): row r is
  /// query row r / pack of the tile, query head h * pack + r % pack.
  int64_t pack = 1;
  /// Query position and head of tile row `row` (the packing above).
  std::pair<int64_t, int64_t> rowPosition(int64_t q0, int64_t h,
                                          int64_t row) const {
    return {q0 + row / pack, pack > 1 ? h * pack + row % pack : h};
  }
  OutputSink *sink = nullptr;
  /// The kernel's runtime block mask, when it has one: per (sequence, mask
  /// head, query tile) the visible KV tiles and whether each is full
  /// (attn.block_count, attn.block_entry), built by buildBlockLists.
  struct BlockList {
    std::vector<std::pair<int64_t, bool>> tiles;
  };
  std::map<std::tuple<int64_t, int64_t, int64_t>, BlockList> blockLists;
  bool blockMaskPerHead = false;
  /// The tile attn.block_entry gives past a list's end: past every
  /// sequence.
  int64_t tilePastEnd = 0;
  /// Evaluates the region of `mask` on every element, as its pre-pass does.
  mlir::LogicalResult buildBlockLists(attn::BlockMaskOp mask);

private:
  mlir::LogicalResult runOp(mlir::Operation &op);

  // InterpScalar.cpp: arith, math, scf, attn.param_load.
  mlir::LogicalResult runArith(mlir::Operation &op, bool &handled);
  mlir::LogicalResult runMath(mlir::Operation &op, bool &handled);
  mlir::LogicalResult runScf(mlir::Operation &op, bool &handled);
  mlir::LogicalResult runParamLoad(attn::ParamLoadOp op);
  mlir::LogicalResult runParamRange(attn::ParamRangeOp op);

  // InterpTileOps.cpp: the ops of AttnLoweredOps.td.
  mlir::LogicalResult runTileOp(mlir::Operation &op, bool &handled);
  mlir::LogicalResult runLoadKV(mlir::Operation *op, bool isV,
                                mlir::Region &addr, mlir::Value batch,
                                mlir::Value kvHead, mlir::Value row0,
                                mlir::Type type);
  mlir::LogicalResult runElementwiseRegion(mlir::Operation *op, bool isMask,
                                           mlir::Region &body);
  mlir::LogicalResult runSink(attn::SinkOp op);
  mlir::LogicalResult runRowFactor(attn::RowFactorOp op);
  mlir::LogicalResult runStore(attn::StoreOp op);

  std::string &error;
  llvm::DenseMap<mlir::Value, RtValue> env;
};

/// Wraps `value` to `width` bits: sign-extended, or 0/1 for i1.
int64_t wrapToWidth(int64_t value, unsigned width);
/// Bit width of an integer or index type; 0 for anything else.
unsigned intWidth(mlir::Type type);
/// "op-name at file:line:col".
std::string describeOp(mlir::Operation *op);

/// The stage-0 and lowered runs (InterpSdpa.cpp, InterpProgram.cpp).
mlir::FailureOr<AttentionOutputs>
interpretSdpa(attn::SdpaOp sdpa, const Problem &problem, std::string &error);
mlir::FailureOr<AttentionOutputs> interpretProgram(attn::ProgramOp program,
                                                   const Problem &problem,
                                                   std::string &error);

} // namespace attnc::interp

#endif // ATTNC_INTERP_INTERPINTERNAL_H
