//===- InterpProgram.cpp - attn.program run as a grid of CTAs -------------===//
//
// The body runs once per (sequence, query head, query tile), in order; CTAs
// share nothing but the outputs, so the order does not matter. Outputs start
// as NaN and every (query row, head) must be stored by some CTA, so a tiling
// that leaves rows uncovered is an error rather than a silent hole.
//
//===----------------------------------------------------------------------===//
#include "interp/InterpInternal.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attnc;
using namespace attnc::interp;

/// attn.merge_splits: with each split's LSE as (hi_s, lo_s) = (scaled max,
/// log sum), LSE = m + log sum_s exp(hi_s - m + lo_s) where m = max hi_s,
/// O = sum_s exp(hi_s - m + lo_s) O_s / that sum; O = 0 and LSE = -inf
/// where every split saw nothing.
static void mergeSplits(OutputSink &sink, const Problem &p, int64_t numSplits) {
  const double negInf = -std::numeric_limits<double>::infinity();
  int64_t slots = p.totalQ * p.qHeads;
  for (int64_t slot = 0; slot < slots; ++slot) {
    double m = negInf;
    for (int64_t s = 0; s < numSplits; ++s)
      m = std::max(m, sink.partialLse[s * slots + slot]);
    double sum = 0;
    std::vector<double> o(p.vHeadDim, 0.0);
    if (m != negInf)
      for (int64_t s = 0; s < numSplits; ++s) {
        double w = std::exp((sink.partialLse[s * slots + slot] - m) +
                            sink.partialLseLo[s * slots + slot]);
        sum += w;
        for (int64_t d = 0; d < p.vHeadDim; ++d)
          o[d] += w * sink.partialO[(s * slots + slot) * p.vHeadDim + d];
      }
    for (int64_t d = 0; d < p.vHeadDim; ++d)
      sink.outputs->o[slot * p.vHeadDim + d] =
          roundToType(sum > 0 ? o[d] / sum : 0.0, p.dtype);
    sink.outputs->lse[slot] = sum > 0 ? m + std::log(sum) : negInf;
    sink.oWritten[slot] = sink.lseWritten[slot] = 1;
  }
}

/// The pre-pass of attn.block_mask, written again: every element of every
/// (query tile, KV tile) pair, rows past q_len and keys past kv_len left
/// out.
LogicalResult Evaluator::buildBlockLists(attn::BlockMaskOp mask) {
  const Problem &p = problem;
  int64_t rows = mask.getBlockQ(), pack = mask.getGqaPack();
  int64_t queryRows = rows / pack, blockKV = mask.getBlockKv();
  int64_t maskHeads = mask.getPerHead() ? p.qHeads / pack : 1;
  blockMaskPerHead = mask.getPerHead();
  int64_t maxKV = 0;
  for (int64_t b = 0; b < p.batch; ++b)
    maxKV = std::max(maxKV, p.kvLen(b));
  tilePastEnd = (maxKV + blockKV - 1) / blockKV;
  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t qLen = p.qLen(b), kvLen = p.kvLen(b);
    int64_t qTiles = (qLen + queryRows - 1) / queryRows;
    for (int64_t h = 0; h < maskHeads; ++h)
      for (int64_t qt = 0; qt < qTiles; ++qt) {
        BlockList &list = blockLists[{b, h, qt}];
        int64_t first = qt * queryRows;
        int64_t count = std::min(queryRows, qLen - first);
        for (int64_t j = 0; j * blockKV < kvLen; ++j) {
          bool visible = false, masked = false;
          for (int64_t r = 0; r < count * pack; ++r)
            for (int64_t kv = j * blockKV;
                 kv < std::min(kvLen, (j + 1) * blockKV); ++kv) {
              int64_t q = kvLen - qLen + first + r / pack;
              int64_t head = h * pack + r % pack;
              FailureOr<RtValue> keep = runExpression(
                  mask.getBody(), 0.0f, static_cast<int32_t>(b),
                  static_cast<int32_t>(head), static_cast<int32_t>(q),
                  static_cast<int32_t>(kv));
              if (failed(keep))
                return failure();
              bool k = keep->i != 0;
              visible |= k;
              masked |= !k;
            }
          if (visible)
            list.tiles.push_back({j, !masked});
        }
      }
  }
  return success();
}

FailureOr<AttentionOutputs> interp::interpretProgram(attn::ProgramOp program,
                                                     const Problem &p,
                                                     std::string &error) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  AttentionOutputs out;
  out.o.assign(p.totalQ * p.qHeads * p.vHeadDim, nan);
  out.lse.assign(p.totalQ * p.qHeads, nan);
  OutputSink sink;
  sink.outputs = &out;
  sink.oWritten.assign(p.totalQ * p.qHeads, 0);
  sink.lseWritten.assign(p.totalQ * p.qHeads, 0);

  Evaluator ev(p, error);
  ev.sink = &sink;
  if (auto kernel = program->getParentOfType<attn::KernelOp>())
    for (attn::BlockMaskOp mask :
         kernel.getBody().front().getOps<attn::BlockMaskOp>())
      if (failed(ev.buildBlockLists(mask)))
        return failure();
  if (std::optional<uint64_t> blockQ = program.getBlockQ()) {
    if (*blockQ == 0 || *blockQ > uint64_t(std::numeric_limits<int32_t>::max()))
      return ev.fail(program, "block_q must be positive");
    ev.blockQ = static_cast<int64_t>(*blockQ);
  }

  ev.pack = program.getPackFactor();
  // With packed heads a program covers `pack` query heads of one KV head, and
  // a tile of block_q rows holds block_q / pack query rows.
  int64_t heads = p.qHeads / ev.pack;
  std::optional<int64_t> queryRowsPerTile;
  if (ev.blockQ)
    queryRowsPerTile = *ev.blockQ / ev.pack;
  Block &body = program.getBody().front();
  SmallVector<RtValue, 1> yielded;
  bool split = program.getKvSplit();
  int64_t numSplits = split ? p.in->numSplits : 1;
  if (numSplits < 1)
    return ev.fail(program, "numSplits must be at least 1");
  if (split) {
    sink.partialO.assign(numSplits * p.totalQ * p.qHeads * p.vHeadDim, nan);
    sink.partialLse.assign(numSplits * p.totalQ * p.qHeads, nan);
    sink.partialLseLo.assign(numSplits * p.totalQ * p.qHeads, nan);
  }
  for (int64_t s = 0; s < numSplits; ++s)
    for (int64_t b = 0; b < p.batch; ++b) {
      if (split)
        sink.split = s;
      int64_t qLen = p.qLen(b);
      int64_t numQTiles =
          queryRowsPerTile ? (qLen + *queryRowsPerTile - 1) / *queryRowsPerTile
                           : (qLen > 0 ? 1 : 0);
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t qt = 0; qt < numQTiles; ++qt) {
          ev.clear();
          ev.bind(program.getBatch(), RtValue::ofInt(b, 32));
          ev.bind(program.getHead(), RtValue::ofInt(h, 32));
          ev.bind(program.getQTile(), RtValue::ofInt(qt, 32));
          if (failed(ev.runBlock(body, yielded))) {
            error += " [program b=" + std::to_string(b) +
                     ", h=" + std::to_string(h) + ", qt=" + std::to_string(qt) +
                     "]";
            return failure();
          }
        }
    }

  if (split)
    mergeSplits(sink, p, numSplits);

  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t i = 0; i < p.qLen(b); ++i)
      for (int64_t h = 0; h < p.qHeads; ++h) {
        int64_t slot = (p.qStart(b) + i) * p.qHeads + h;
        const char *missing = !sink.oWritten[slot]     ? "O"
                              : !sink.lseWritten[slot] ? "LSE"
                                                       : nullptr;
        if (missing)
          return ev.fail(program, std::string(missing) + " of query row " +
                                      std::to_string(i) + " of sequence " +
                                      std::to_string(b) + ", head " +
                                      std::to_string(h) + " was never stored");
      }
  return out;
}
