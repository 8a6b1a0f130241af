//===- InterpTileOps.cpp - The tile-level attn ops ------------------------===//
//
// One function per op of AttnLoweredOps.td, following each op's description.
// f32 tiles hold what the GPU's f32 registers would; sums (q.k, P.V, row
// sums) are accumulated in double and rounded to f32 once, which is closer
// to exact than the GPU's order of additions and well inside the tolerances
// kernels are held to.
//
//===----------------------------------------------------------------------===//
#include "interp/InterpInternal.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attnc;
using namespace attnc::interp;

static constexpr float kNegInf = -std::numeric_limits<float>::infinity();

static std::shared_ptr<Tile> makeTile(llvm::ArrayRef<int64_t> shape,
                                      Type elementType) {
  auto tile = std::make_shared<Tile>();
  tile->shape.assign(shape.begin(), shape.end());
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  tile->data.assign(n, 0.0f);
  tile->elementType = elementType;
  return tile;
}

static std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleave(shape, os, "x");
  os << "]";
  return os.str();
}

/// The sequence index operand of `op`, checked against the batch.
static std::optional<int64_t> batchOf(Evaluator &ev, Operation *op,
                                      Value value) {
  std::optional<int64_t> b = ev.intOf(op, value);
  if (b && (*b < 0 || *b >= ev.problem.batch)) {
    (void)ev.fail(op, "sequence " + std::to_string(*b) +
                          " is outside the batch of " +
                          std::to_string(ev.problem.batch));
    return std::nullopt;
  }
  return b;
}

/// The block list of (sequence, head group, query tile) an attn.block_count
/// or attn.block_entry reads; null (after an error) when there is none.
static const Evaluator::BlockList *blockListOf(Evaluator &ev, Operation *op,
                                               Value batch, Value head,
                                               Value qTile) {
  std::optional<int64_t> b = batchOf(ev, op, batch);
  std::optional<int64_t> h = ev.intOf(op, head);
  std::optional<int64_t> qt = ev.intOf(op, qTile);
  if (!b || !h || !qt)
    return nullptr;
  auto it = ev.blockLists.find({*b, ev.blockMaskPerHead ? *h : 0, *qt});
  if (it == ev.blockLists.end()) {
    (void)ev.fail(op, "no block list for sequence " + std::to_string(*b) +
                          ", head group " + std::to_string(*h) +
                          ", query tile " + std::to_string(*qt));
    return nullptr;
  }
  return &it->second;
}

/// A head index operand, checked against `count` heads.
static std::optional<int64_t> headOf(Evaluator &ev, Operation *op, Value value,
                                     int64_t count, const char *what) {
  std::optional<int64_t> h = ev.intOf(op, value);
  if (h && (*h < 0 || *h >= count)) {
    (void)ev.fail(op, std::string(what) + " " + std::to_string(*h) +
                          " is outside [0, " + std::to_string(count) + ")");
    return std::nullopt;
  }
  return h;
}

/// Extent `dim` of `type`, or `dynamic` where the type says `?`.
static int64_t extentOf(RankedTensorType type, unsigned dim, int64_t dynamic) {
  return type.isDynamicDim(dim) ? dynamic : type.getDimSize(dim);
}

/// The tile size a num_tiles/tile_start op uses. A q tile must be the
/// program's block_q, or rows would be assigned to the wrong CTA.
static FailureOr<std::optional<int64_t>>
tileSizeOf(Evaluator &ev, Operation *op, attn::TileDim dim,
           std::optional<uint64_t> tile) {
  std::optional<int64_t> size;
  if (tile)
    size = static_cast<int64_t>(*tile);
  if (size && *size <= 0)
    return ev.fail(op, "tile size must be positive");
  std::optional<int64_t> queryRows = ev.blockQ;
  if (queryRows)
    *queryRows /= ev.pack;
  if (dim == attn::TileDim::q && ev.sink && size != queryRows) {
    auto show = [](std::optional<int64_t> v) {
      return v ? std::to_string(*v) : std::string("none");
    };
    return ev.fail(op, "q tile size (" + show(size) +
                           ") differs from the program's query rows per "
                           "tile (" +
                           show(queryRows) + ")");
  }
  return size;
}

//===----------------------------------------------------------------------===//
// Loads and stores
//===----------------------------------------------------------------------===//

static LogicalResult runLoadQ(Evaluator &ev, attn::LoadQOp op) {
  const Problem &p = ev.problem;
  std::optional<int64_t> b = batchOf(ev, op, op.getBatch());
  std::optional<int64_t> h =
      b ? headOf(ev, op, op.getHead(), p.qHeads / ev.pack,
                 ev.pack > 1 ? "query head group" : "query head")
        : std::nullopt;
  std::optional<int64_t> row0 = h ? ev.intOf(op, op.getRow0()) : std::nullopt;
  if (!row0)
    return failure();
  if (*row0 < 0)
    return ev.fail(op, "first row " + std::to_string(*row0) + " is negative");
  auto type = cast<RankedTensorType>(op.getType());
  int64_t qLen = p.qLen(*b);
  int64_t rows = extentOf(type, 0, qLen * ev.pack);
  int64_t cols = extentOf(type, 1, p.headDim);
  if (cols != p.headDim)
    return ev.fail(op, "tile has " + std::to_string(cols) +
                           " columns, the kernel's head_dim is " +
                           std::to_string(p.headDim));
  auto tile = makeTile({rows, cols}, type.getElementType());
  for (int64_t r = 0; r < rows && *row0 + r / ev.pack < qLen; ++r) {
    const double *src = p.qRow(*b, *row0 + r / ev.pack,
                               ev.pack > 1 ? *h * ev.pack + r % ev.pack : *h);
    for (int64_t d = 0; d < cols; ++d)
      tile->data[r * cols + d] = roundToType(src[d], tile->elementType);
  }
  ev.bind(op.getTile(), RtValue::ofTile(std::move(tile)));
  return success();
}

LogicalResult Evaluator::runLoadKV(Operation *op, bool isV, Region &addr,
                                   Value batch, Value kvHead, Value row0Value,
                                   Type resultType) {
  const Problem &p = problem;
  std::optional<int64_t> b = batchOf(*this, op, batch);
  std::optional<int64_t> hkv =
      b ? headOf(*this, op, kvHead, p.kvHeads, "KV head") : std::nullopt;
  std::optional<int64_t> row0 = hkv ? intOf(op, row0Value) : std::nullopt;
  if (!row0)
    return failure();
  if (*row0 < 0)
    return fail(op, "first row " + std::to_string(*row0) + " is negative");
  auto type = cast<RankedTensorType>(resultType);
  int64_t kvLen = p.kvLen(*b);
  int64_t rows = extentOf(type, 0, kvLen);
  int64_t width = isV ? p.vHeadDim : p.headDim;
  int64_t cols = extentOf(type, 1, width);
  if (cols != width)
    return fail(op, "tile has " + std::to_string(cols) + " columns, the " +
                        "kernel's " + (isV ? "v_head_dim" : "head_dim") +
                        " is " + std::to_string(width));
  auto tile = makeTile({rows, cols}, type.getElementType());
  SmallVector<RtValue, 1> yielded;
  for (int64_t r = 0; r < rows && *row0 + r < kvLen; ++r) {
    int64_t logical = *row0 + r;
    int64_t phys;
    if (addr.empty()) {
      std::string why;
      FailureOr<int64_t> row = p.logicalRow(*b, logical, why);
      if (failed(row))
        return fail(op, why);
      phys = *row;
    } else {
      bind(addr.getArgument(0), RtValue::ofInt(logical, 32));
      if (failed(runBlock(addr.front(), yielded)))
        return failure();
      if (yielded.size() != 1 || yielded[0].kind != RtValue::Kind::Int)
        return fail(op, "addr region must yield one integer row");
      phys = yielded[0].asSigned();
    }
    if (phys < 0 || phys >= p.kvRows)
      return fail(op, "key " + std::to_string(logical) + " of sequence " +
                          std::to_string(*b) + " maps to row " +
                          std::to_string(phys) + ", outside the " +
                          std::to_string(p.kvRows) + " rows of " +
                          p.kvName(isV));
    const double *src = p.kvRow(isV, phys, *hkv);
    for (int64_t d = 0; d < cols; ++d)
      tile->data[r * cols + d] = roundToType(src[d], tile->elementType);
  }
  bind(op->getResult(0), RtValue::ofTile(std::move(tile)));
  return success();
}

LogicalResult Evaluator::runStore(attn::StoreOp op) {
  if (!sink)
    return fail(op, "stores only inside an attn.program");
  const Problem &p = problem;
  auto type = cast<RankedTensorType>(op.getTile().getType());
  if (type.getRank() != 1 && type.getRank() != 2)
    return fail(op, "stores rank-1 (LSE) or rank-2 (O) tiles only");
  const Tile *t = tileOf(op, op.getTile(), type.getRank());
  std::optional<int64_t> b =
      t ? batchOf(*this, op, op.getBatch()) : std::nullopt;
  std::optional<int64_t> h =
      b ? headOf(*this, op, op.getHead(), p.qHeads / pack,
                 pack > 1 ? "query head group" : "query head")
        : std::nullopt;
  std::optional<int64_t> row0 = h ? intOf(op, op.getRow0()) : std::nullopt;
  if (!row0)
    return failure();
  if (*row0 < 0)
    return fail(op, "first row " + std::to_string(*row0) + " is negative");
  bool isO = type.getRank() == 2;
  if (isO && t->cols() != p.vHeadDim)
    return fail(op, "O tile has " + std::to_string(t->cols()) +
                        " columns, the kernel's v_head_dim is " +
                        std::to_string(p.vHeadDim));
  // A split's LSE is kept in the kernel's two parts, the scaled maximum
  // and the log of the sum, from the finalize that formed it.
  const Tile *partM = nullptr, *partL = nullptr;
  double partScale = 1;
  if (sink->split >= 0 && !isO) {
    auto finalize = op.getTile().getDefiningOp<attn::FinalizeOp>();
    if (!finalize)
      return fail(op, "stores a split's LSE that no attn.finalize formed");
    partM = tileOf(op, finalize.getM(), 1);
    partL = partM ? tileOf(op, finalize.getL(), 1) : nullptr;
    if (!partL)
      return failure();
    if (finalize.getScale())
      partScale = finalize.getScale()->convertToDouble();
  }
  int64_t qLen = p.qLen(*b);
  for (int64_t r = 0; r < t->rows() && *row0 + r / pack < qLen; ++r) {
    int64_t head = pack > 1 ? *h * pack + r % pack : *h;
    int64_t slot = (p.qStart(*b) + *row0 + r / pack) * p.qHeads + head;
    if (sink->split >= 0) {
      // A split's partial result: f32, unrounded, merged later.
      int64_t base = sink->split * p.totalQ * p.qHeads + slot;
      if (isO)
        for (int64_t d = 0; d < p.vHeadDim; ++d)
          sink->partialO[base * p.vHeadDim + d] = t->data[r * p.vHeadDim + d];
      else {
        const float ln2 = 0.693147180559945309f;
        float l = partL->data[r];
        bool none = l == 0;
        sink->partialLse[base] =
            none ? -INFINITY
                 : partM->data[r] * static_cast<float>(partScale) * ln2;
        sink->partialLseLo[base] = none ? -INFINITY : std::log(l);
      }
      continue;
    }
    if (isO) {
      for (int64_t d = 0; d < p.vHeadDim; ++d)
        sink->outputs->o[slot * p.vHeadDim + d] =
            roundToType(t->data[r * p.vHeadDim + d], p.dtype);
      sink->oWritten[slot] = 1;
    } else {
      sink->outputs->lse[slot] = t->data[r];
      sink->lseWritten[slot] = 1;
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Score modifier and mask on a tile
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::runElementwiseRegion(Operation *op, bool isMask,
                                              Region &body) {
  // Operands: s, b, h, q_pos0, kv_pos0 (, kv_len for the mask).
  const Tile *s = tileOf(op, op->getOperand(0), 2);
  std::optional<int64_t> b =
      s ? batchOf(*this, op, op->getOperand(1)) : std::nullopt;
  std::optional<int64_t> h = b ? intOf(op, op->getOperand(2)) : std::nullopt;
  std::optional<int64_t> q0 = h ? intOf(op, op->getOperand(3)) : std::nullopt;
  std::optional<int64_t> kv0 = q0 ? intOf(op, op->getOperand(4)) : std::nullopt;
  std::optional<int64_t> kvLenOperand =
      kv0 && isMask ? intOf(op, op->getOperand(5)) : kv0;
  if (!kvLenOperand)
    return failure();
  // The sequence ends at kv_len for keys and, bottom-right aligned, for
  // queries too: a query row at or past q_len sits at position >= kv_len.
  // Elements outside it are padding of a tile: the region is not run on
  // them (it may index params by position), the score modifier leaves them
  // as they are and the mask removes them.
  int64_t seqEnd = problem.kvLen(*b);
  auto out = std::make_shared<Tile>(*s);
  for (int64_t i = 0; i < s->rows(); ++i) {
    auto [q, head] = rowPosition(*q0, *h, i);
    for (int64_t j = 0; j < s->cols(); ++j) {
      int64_t kv = *kv0 + j;
      float &value = out->data[i * s->cols() + j];
      bool inSequence = q < seqEnd && kv >= 0 && kv < seqEnd;
      if (isMask && (kv < 0 || kv >= *kvLenOperand || q >= seqEnd)) {
        value = kNegInf;
        continue;
      }
      if (!inSequence || body.empty())
        continue;
      FailureOr<RtValue> r = runExpression(body, value, *b, head, q, kv);
      if (failed(r)) {
        error += " (b=" + std::to_string(*b) + ", h=" + std::to_string(head) +
                 ", q=" + std::to_string(q) + ", kv=" + std::to_string(kv) +
                 ")";
        return failure();
      }
      if (isMask) {
        if (r->kind != RtValue::Kind::Int)
          return fail(op, "mask region must yield i1");
        if (!r->i)
          value = kNegInf;
      } else {
        if (r->kind != RtValue::Kind::Float)
          return fail(op, "score region must yield f32");
        value = r->f;
      }
    }
  }
  bind(op->getResult(0), RtValue::ofTile(std::move(out)));
  return success();
}

/// attn.row_factor: entry i is the region's value at (b, h_i).
LogicalResult Evaluator::runRowFactor(attn::RowFactorOp op) {
  std::optional<int64_t> b = batchOf(*this, op, op.getBatch());
  std::optional<int64_t> h = b ? intOf(op, op.getHead()) : std::nullopt;
  if (!h)
    return failure();
  auto type = cast<RankedTensorType>(op.getType());
  int64_t n = type.getDimSize(0);
  if (ShapedType::isDynamic(n)) {
    std::optional<int64_t> rows =
        op.getRows() ? intOf(op, op.getRows()) : std::nullopt;
    if (!rows)
      return fail(op, "has a dynamic extent and no rows operand");
    n = *rows;
  }
  auto out = std::make_shared<Tile>();
  out->shape = {n};
  out->elementType = type.getElementType();
  out->data.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t head = rowPosition(0, *h, i).second;
    FailureOr<RtValue> r = runExpression(op.getBody(), 0.0f, *b, head, 0, 0);
    if (failed(r)) {
      error +=
          " (b=" + std::to_string(*b) + ", h=" + std::to_string(head) + ")";
      return failure();
    }
    if (r->kind != RtValue::Kind::Float)
      return fail(op, "row_factor region must yield f32");
    out->data[i] = r->f;
  }
  bind(op.getFactors(), RtValue::ofTile(std::move(out)));
  return success();
}

/// attn.sink: each row's logit, from the region at (b, h, q), joins the
/// state (m, l) as a key with a zero value row.
LogicalResult Evaluator::runSink(attn::SinkOp op) {
  const Tile *m = tileOf(op, op.getM(), 1);
  const Tile *l = m ? tileOf(op, op.getL(), 1) : nullptr;
  std::optional<int64_t> b =
      l ? batchOf(*this, op, op.getBatch()) : std::nullopt;
  std::optional<int64_t> h = b ? intOf(op, op.getHead()) : std::nullopt;
  std::optional<int64_t> q0 = h ? intOf(op, op.getQPos0()) : std::nullopt;
  if (!q0)
    return failure();
  if (l->rows() != m->rows())
    return fail(op, "l has " + std::to_string(l->rows()) + " rows, m " +
                        std::to_string(m->rows()));
  auto mNew = std::make_shared<Tile>(*m);
  auto lNew = std::make_shared<Tile>(*l);
  bool enabled = true;
  if (op.getEnabled()) {
    std::optional<int64_t> flag = intOf(op, op.getEnabled());
    if (!flag)
      return failure();
    enabled = *flag != 0;
  }
  const float c = op.getScale()
                      ? static_cast<float>(op.getScale()->convertToDouble())
                      : 1.0f;
  const float toState = static_cast<float>(1.4426950408889634 / c);
  for (int64_t i = 0; enabled && i < m->rows(); ++i) {
    auto [q, head] = rowPosition(*q0, *h, i);
    FailureOr<RtValue> r = runExpression(op.getBody(), 0.0f, *b, head, q, 0);
    if (failed(r)) {
      error += " (b=" + std::to_string(*b) + ", h=" + std::to_string(head) +
               ", q=" + std::to_string(q) + ")";
      return failure();
    }
    if (r->kind != RtValue::Kind::Float)
      return fail(op, "sink region must yield f32");
    float s = r->f * toState;
    float mi = m->data[i];
    float mx = std::isnan(s) ? s : std::fmax(mi, s); // a NaN sink poisons
    if (mx == kNegInf)
      continue;
    lNew->data[i] =
        l->data[i] * std::exp2((mi - mx) * c) + std::exp2((s - mx) * c);
    mNew->data[i] = mx;
  }
  bind(op.getMNew(), RtValue::ofTile(std::move(mNew)));
  bind(op.getLNew(), RtValue::ofTile(std::move(lNew)));
  return success();
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

/// Checks that rank-1 `rows` has one entry per row of `tile`.
static LogicalResult checkRows(Evaluator &ev, Operation *op, const Tile &tile,
                               const Tile &rows, const char *what) {
  if (rows.rows() == tile.rows())
    return success();
  return ev.fail(op, std::string(what) + " has " + std::to_string(rows.rows()) +
                         " rows, the tile " + std::to_string(tile.rows()));
}

static LogicalResult runQK(Evaluator &ev, attn::QKOp op) {
  const Tile *q = ev.tileOf(op, op.getQ(), 2);
  const Tile *k = q ? ev.tileOf(op, op.getK(), 2) : nullptr;
  if (!k)
    return failure();
  if (q->cols() != k->cols())
    return ev.fail(op, "Q has " + std::to_string(q->cols()) +
                           " columns, K has " + std::to_string(k->cols()));
  double scale = op.getScale().convertToDouble();
  int64_t d = q->cols();
  auto s = makeTile({q->rows(), k->rows()},
                    cast<ShapedType>(op.getType()).getElementType());
  for (int64_t i = 0; i < q->rows(); ++i)
    for (int64_t j = 0; j < k->rows(); ++j) {
      double dot = 0;
      for (int64_t e = 0; e < d; ++e)
        dot += double(q->data[i * d + e]) * double(k->data[j * d + e]);
      s->data[i * k->rows() + j] = static_cast<float>(scale * dot);
    }
  ev.bind(op.getS(), RtValue::ofTile(std::move(s)));
  return success();
}

static LogicalResult runFill(Evaluator &ev, attn::FillOp op) {
  auto type = cast<RankedTensorType>(op.getType());
  std::optional<int64_t> rows;
  if (op.getRows()) {
    rows = ev.intOf(op, op.getRows());
    if (!rows)
      return failure();
    if (*rows < 0)
      return ev.fail(op,
                     "rows must not be negative, got " + std::to_string(*rows));
  }
  SmallVector<int64_t, 2> shape;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d)) {
      shape.push_back(type.getDimSize(d));
      continue;
    }
    if (!rows || type.getNumDynamicDims() != 1)
      return ev.fail(op, "a dynamic extent needs `rows` (and only one "
                         "extent may be dynamic)");
    shape.push_back(*rows);
  }
  auto tile = makeTile(shape, type.getElementType());
  tile->data.assign(tile->data.size(), op.getValue().convertToFloat());
  ev.bind(op.getTile(), RtValue::ofTile(std::move(tile)));
  return success();
}

static LogicalResult runRowMax(Evaluator &ev, attn::RowMaxOp op) {
  const Tile *s = ev.tileOf(op, op.getS(), 2);
  const Tile *m = s ? ev.tileOf(op, op.getM(), 1) : nullptr;
  if (!m || failed(checkRows(ev, op, *s, *m, "m")))
    return failure();
  auto out = std::make_shared<Tile>(*m);
  for (int64_t i = 0; i < s->rows(); ++i)
    for (int64_t j = 0; j < s->cols(); ++j)
      out->data[i] = std::fmax(out->data[i], s->data[i * s->cols() + j]);
  ev.bind(op.getMNew(), RtValue::ofTile(std::move(out)));
  return success();
}

static LogicalResult runExp2Diff(Evaluator &ev, attn::Exp2DiffOp op) {
  unsigned rank = cast<RankedTensorType>(op.getX().getType()).getRank();
  const Tile *x = ev.tileOf(op, op.getX(), rank);
  const Tile *m = x ? ev.tileOf(op, op.getM(), 1) : nullptr;
  if (!m || failed(checkRows(ev, op, *x, *m, "m")))
    return failure();
  auto out = std::make_shared<Tile>(*x);
  // The softmax scale, when attn-fold-scale moved it here: exp2(c x - c m).
  float c = op.getScale() ? static_cast<float>(op.getScale()->convertToDouble())
                          : 1.0f;
  for (int64_t i = 0; i < x->rows(); ++i)
    for (int64_t j = 0; j < x->cols(); ++j) {
      float &v = out->data[i * x->cols() + j];
      // A row whose max is still -inf has seen only masked keys.
      v = m->data[i] == kNegInf ? 0.0f
                                : std::exp2(std::fma(v, c, -(m->data[i] * c)));
    }
  ev.bind(op.getResult(), RtValue::ofTile(std::move(out)));
  return success();
}

static LogicalResult runRowSum(Evaluator &ev, attn::RowSumOp op) {
  const Tile *p = ev.tileOf(op, op.getP(), 2);
  const Tile *l = p ? ev.tileOf(op, op.getL(), 1) : nullptr;
  const Tile *alpha = l ? ev.tileOf(op, op.getAlpha(), 1) : nullptr;
  if (!alpha || failed(checkRows(ev, op, *p, *l, "l")) ||
      failed(checkRows(ev, op, *p, *alpha, "alpha")))
    return failure();
  auto out = std::make_shared<Tile>(*l);
  for (int64_t i = 0; i < p->rows(); ++i) {
    double sum = double(alpha->data[i] * l->data[i]);
    for (int64_t j = 0; j < p->cols(); ++j)
      sum += p->data[i * p->cols() + j];
    out->data[i] = static_cast<float>(sum);
  }
  ev.bind(op.getLNew(), RtValue::ofTile(std::move(out)));
  return success();
}

static LogicalResult runRescale(Evaluator &ev, attn::RescaleOp op) {
  const Tile *acc = ev.tileOf(op, op.getAcc(), 2);
  const Tile *alpha = acc ? ev.tileOf(op, op.getAlpha(), 1) : nullptr;
  if (!alpha || failed(checkRows(ev, op, *acc, *alpha, "alpha")))
    return failure();
  auto out = std::make_shared<Tile>(*acc);
  for (int64_t i = 0; i < acc->rows(); ++i)
    for (int64_t j = 0; j < acc->cols(); ++j)
      out->data[i * acc->cols() + j] *= alpha->data[i];
  ev.bind(op.getResult(), RtValue::ofTile(std::move(out)));
  return success();
}

static LogicalResult runPV(Evaluator &ev, attn::PVOp op) {
  const Tile *p = ev.tileOf(op, op.getP(), 2);
  const Tile *v = p ? ev.tileOf(op, op.getV(), 2) : nullptr;
  const Tile *acc = v ? ev.tileOf(op, op.getAcc(), 2) : nullptr;
  if (!acc)
    return failure();
  if (p->cols() != v->rows() || acc->rows() != p->rows() ||
      acc->cols() != v->cols())
    return ev.fail(op, "shapes do not chain: P " + formatShape(p->shape) +
                           ", V " + formatShape(v->shape) + ", acc " +
                           formatShape(acc->shape));
  int64_t rows = p->rows(), inner = p->cols(), d = v->cols();
  // The tensor-core product takes P in V's element type.
  std::vector<double> pRounded(p->data.size());
  for (size_t e = 0; e < p->data.size(); ++e)
    pRounded[e] = roundToType(p->data[e], v->elementType);
  auto out = std::make_shared<Tile>(*acc);
  std::vector<double> row(d);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t c = 0; c < d; ++c)
      row[c] = acc->data[i * d + c];
    for (int64_t j = 0; j < inner; ++j) {
      // No skipping of zeros: a masked key read from a wrong page must
      // still poison the row with 0 * NaN, as it does on the GPU.
      double pij = pRounded[i * inner + j];
      const float *vRow = &v->data[j * d];
      for (int64_t c = 0; c < d; ++c)
        row[c] += pij * vRow[c];
    }
    for (int64_t c = 0; c < d; ++c)
      out->data[i * d + c] = static_cast<float>(row[c]);
  }
  ev.bind(op.getResult(), RtValue::ofTile(std::move(out)));
  return success();
}

static LogicalResult runFinalize(Evaluator &ev, attn::FinalizeOp op) {
  const Tile *acc = ev.tileOf(op, op.getAcc(), 2);
  const Tile *m = acc ? ev.tileOf(op, op.getM(), 1) : nullptr;
  const Tile *l = m ? ev.tileOf(op, op.getL(), 1) : nullptr;
  if (!l || failed(checkRows(ev, op, *acc, *m, "m")) ||
      failed(checkRows(ev, op, *acc, *l, "l")))
    return failure();
  auto o = std::make_shared<Tile>(*acc);
  auto lse = std::make_shared<Tile>(*l);
  const float ln2 = 0.693147180559945309f;
  // m is unscaled after attn-fold-scale.
  const float c = op.getScale()
                      ? static_cast<float>(op.getScale()->convertToDouble())
                      : 1.0f;
  for (int64_t i = 0; i < acc->rows(); ++i) {
    float li = l->data[i];
    for (int64_t j = 0; j < acc->cols(); ++j) {
      float &v = o->data[i * acc->cols() + j];
      v = li == 0 ? 0.0f : v / li;
    }
    lse->data[i] = li == 0 ? kNegInf : ln2 * (c * m->data[i] + std::log2(li));
  }
  ev.bind(op.getO(), RtValue::ofTile(std::move(o)));
  ev.bind(op.getLse(), RtValue::ofTile(std::move(lse)));
  return success();
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::runTileOp(Operation &op, bool &handled) {
  handled = true;
  LogicalResult result =
      llvm::TypeSwitch<Operation *, LogicalResult>(&op)
          .Case([&](attn::QLenOp o) -> LogicalResult {
            std::optional<int64_t> b = batchOf(*this, o, o.getBatch());
            if (!b)
              return failure();
            bind(o.getLen(), RtValue::ofInt(problem.qLen(*b), 32));
            return success();
          })
          .Case([&](attn::KVLenOp o) -> LogicalResult {
            std::optional<int64_t> b = batchOf(*this, o, o.getBatch());
            if (!b)
              return failure();
            bind(o.getLen(), RtValue::ofInt(problem.kvLen(*b), 32));
            return success();
          })
          .Case([&](attn::NumTilesOp o) -> LogicalResult {
            auto tile = tileSizeOf(*this, o, o.getDim(), o.getTile());
            std::optional<int64_t> len =
                succeeded(tile) ? intOf(o, o.getLen()) : std::nullopt;
            if (!len)
              return failure();
            if (*len < 0)
              return fail(o, "length " + std::to_string(*len) + " is negative");
            int64_t count =
                *tile ? (*len + **tile - 1) / **tile : (*len > 0 ? 1 : 0);
            bind(o.getCount(), RtValue::ofInt(count, 32));
            return success();
          })
          .Case([&](attn::TileStartOp o) -> LogicalResult {
            auto tile = tileSizeOf(*this, o, o.getDim(), o.getTile());
            std::optional<int64_t> index =
                succeeded(tile) ? intOf(o, o.getIndex()) : std::nullopt;
            if (!index)
              return failure();
            if (!*tile && *index != 0)
              return fail(o, "without a tile size only tile 0 exists, got " +
                                 std::to_string(*index));
            bind(o.getRow(), RtValue::ofInt(*tile ? *index * **tile : 0, 32));
            return success();
          })
          .Case([&](attn::TileOfRangesOp o) -> LogicalResult {
            std::optional<int64_t> t = intOf(o, o.getT());
            if (!t)
              return failure();
            // The last non-empty range starting at or before t; range 0
            // when none is non-empty (attn.tile_of_ranges).
            int64_t before = 0, tile = 0;
            bool chosen = false;
            for (size_t r = 0; r + 1 < o.getBounds().size(); r += 2) {
              std::optional<int64_t> lo = intOf(o, o.getBounds()[r]);
              std::optional<int64_t> hi = intOf(o, o.getBounds()[r + 1]);
              if (!lo || !hi)
                return failure();
              int64_t length = std::max<int64_t>(*hi - *lo, 0);
              if (!chosen || (length > 0 && before <= *t)) {
                tile = *lo + (*t - before);
                chosen = true;
              }
              before += length;
            }
            bind(o.getTile(), RtValue::ofInt(tile, 32));
            return success();
          })
          .Case([&](attn::BlockCountOp o) -> LogicalResult {
            const BlockList *list =
                blockListOf(*this, o, o.getBatch(), o.getHead(), o.getQTile());
            if (!list)
              return failure();
            bind(o.getCount(), RtValue::ofInt(list->tiles.size(), 32));
            return success();
          })
          .Case([&](attn::BlockEntryOp o) -> LogicalResult {
            const BlockList *list =
                blockListOf(*this, o, o.getBatch(), o.getHead(), o.getQTile());
            std::optional<int64_t> t = intOf(o, o.getT());
            std::optional<int64_t> count = intOf(o, o.getCount());
            if (!list || !t || !count)
              return failure();
            if (*count != static_cast<int64_t>(list->tiles.size()))
              return fail(o, "count is not the list's attn.block_count");
            bool inside = *t >= 0 && *t < *count;
            bind(o.getTile(),
                 RtValue::ofInt(inside ? list->tiles[*t].first : tilePastEnd,
                                32));
            bind(o.getFull(),
                 RtValue::ofInt(inside && list->tiles[*t].second, 1));
            return success();
          })
          .Case([&](attn::KVStartOp o) -> LogicalResult {
            if (problem.paged)
              return fail(o, "needs a dense KV cache (kv_indptr)");
            std::optional<int64_t> b = batchOf(*this, o, o.getBatch());
            if (!b)
              return failure();
            bind(o.getRow(), RtValue::ofInt(problem.in->kvIndptr[*b], 32));
            return success();
          })
          .Case([&](attn::PageRowsOp o) -> LogicalResult {
            // The interpreter's caches are contiguous.
            if (!problem.paged)
              return fail(o, "needs a paged KV cache");
            bind(o.getRows(), RtValue::ofInt(problem.pageSize, 32));
            return success();
          })
          .Case([&](attn::BlockTableOp o) -> LogicalResult {
            std::optional<int64_t> b = batchOf(*this, o, o.getBatch());
            std::optional<int64_t> index =
                b ? intOf(o, o.getIndex()) : std::nullopt;
            if (!index)
              return failure();
            std::string why;
            FailureOr<int32_t> page = problem.blockTableEntry(*b, *index, why);
            if (failed(page))
              return fail(o, why);
            bind(o.getPage(), RtValue::ofInt(*page, 32));
            return success();
          })
          .Case([&](attn::LoadQOp o) { return runLoadQ(*this, o); })
          .Case([&](attn::LoadKOp o) {
            return runLoadKV(o, /*isV=*/false, o.getAddr(), o.getBatch(),
                             o.getKvHead(), o.getRow0(), o.getType());
          })
          .Case([&](attn::LoadVOp o) {
            return runLoadKV(o, /*isV=*/true, o.getAddr(), o.getBatch(),
                             o.getKvHead(), o.getRow0(), o.getType());
          })
          .Case([&](attn::KPrefixOp o) -> LogicalResult {
            // The first v_head_dim columns of each K row.
            const Tile *k = tileOf(o, o.getK(), 2);
            if (!k)
              return failure();
            int64_t cols = problem.vHeadDim;
            if (cols > k->cols())
              return fail(o, "takes " + std::to_string(cols) +
                                 " columns of a K tile of " +
                                 std::to_string(k->cols()));
            auto v = makeTile({k->rows(), cols}, k->elementType);
            for (int64_t r = 0; r < k->rows(); ++r)
              for (int64_t c = 0; c < cols; ++c)
                v->data[r * cols + c] = k->data[r * k->cols() + c];
            bind(o.getV(), RtValue::ofTile(v));
            return success();
          })
          .Case([&](attn::StoreOp o) { return runStore(o); })
          .Case([&](attn::SplitIndexOp o) -> LogicalResult {
            if (!sink || sink->split < 0)
              return fail(o, "used outside a split-KV program");
            bind(o, RtValue::ofInt(sink->split, 32));
            return success();
          })
          .Case([&](attn::NumSplitsOp o) {
            bind(o, RtValue::ofInt(problem.in->numSplits, 32));
            return success();
          })
          .Case([&](attn::FillOp o) { return runFill(*this, o); })
          .Case([&](attn::QKOp o) { return runQK(*this, o); })
          .Case([&](attn::ScoreModOp o) {
            return runElementwiseRegion(o, /*isMask=*/false, o.getBody());
          })
          .Case([&](attn::MaskOp o) {
            return runElementwiseRegion(o, /*isMask=*/true, o.getBody());
          })
          .Case([&](attn::SinkOp o) { return runSink(o); })
          .Case([&](attn::RowFactorOp o) { return runRowFactor(o); })
          // Synchronization only: the interpreter has one thread.
          .Case([&](attn::WaitOp) { return success(); })
          .Case([&](attn::ScaleOp o) -> LogicalResult {
            const Tile *s = tileOf(o, o.getS(), 2);
            if (!s)
              return failure();
            auto out = std::make_shared<Tile>(*s);
            float factor = static_cast<float>(o.getFactor().convertToDouble());
            for (float &v : out->data)
              v *= factor;
            bind(o.getResult(), RtValue::ofTile(std::move(out)));
            return success();
          })
          .Case([&](attn::RowMaxOp o) { return runRowMax(*this, o); })
          .Case([&](attn::Exp2DiffOp o) { return runExp2Diff(*this, o); })
          .Case([&](attn::RowSumOp o) { return runRowSum(*this, o); })
          .Case([&](attn::RescaleOp o) { return runRescale(*this, o); })
          .Case([&](attn::PVOp o) { return runPV(*this, o); })
          .Case([&](attn::FinalizeOp o) { return runFinalize(*this, o); })
          .Default([&](Operation *) {
            handled = false;
            return success();
          });
  if (failed(result) || !handled)
    return result;

  // Every tile must fit the static extents its type promises: a pass that
  // mixes up tile sizes shows here, at the op that went wrong.
  for (Value res : op.getResults()) {
    auto type = dyn_cast<RankedTensorType>(res.getType());
    if (!type)
      continue;
    const Tile *t = tileOf(&op, res, type.getRank());
    if (!t)
      return failure();
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (!type.isDynamicDim(d) && type.getDimSize(d) != t->shape[d]) {
        std::string typeName;
        llvm::raw_string_ostream os(typeName);
        os << type;
        return fail(&op, "computed a " + formatShape(t->shape) +
                             " tile, but the result type is " + os.str());
      }
  }
  return success();
}
