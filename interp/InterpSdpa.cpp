//===- InterpSdpa.cpp - attn.sdpa evaluated as the float64 reference ------===//
//
// Attention straight from attn.sdpa's definition: one query row at a time,
// every key visited, the mask and score regions run per element. q.k, the
// softmax and P.V are computed in double, so this is the reference every
// lowered form is compared with.
//
//===----------------------------------------------------------------------===//
#include "interp/InterpInternal.h"

#include <cmath>
#include <limits>
#include <tuple>

using namespace mlir;
using namespace attnc;
using namespace attnc::interp;

/// attn.sdpa's logits as the kernels carry them, in base 2 as f32: beyond
/// +-FLT_MAX / log2(e) a logit is infinite (docs/runtime.md, "Numeric
/// semantics").
static double inBase2Range(float logit) {
  const double limit = std::numeric_limits<float>::max() / M_LOG2E;
  const double inf = std::numeric_limits<double>::infinity();
  return logit > limit ? inf : logit < -limit ? -inf : logit;
}

static std::string elementContext(const char *region, int64_t b, int64_t h,
                                  int64_t q, int64_t kv) {
  return std::string(" (in the ") + region +
         " region at b=" + std::to_string(b) + ", h=" + std::to_string(h) +
         ", q=" + std::to_string(q) + ", kv=" + std::to_string(kv) + ")";
}

FailureOr<AttentionOutputs>
interp::interpretSdpa(attn::SdpaOp sdpa, const Problem &p, std::string &error) {
  const double inf = std::numeric_limits<double>::infinity();
  AttentionOutputs out;
  out.o.assign(p.totalQ * p.qHeads * p.vHeadDim, 0.0);
  out.lse.assign(p.totalQ * p.qHeads, -inf);

  Evaluator ev(p, error);
  attn::KernelOp kernel = p.kernel;
  double scale = kernel.getScale().convertToDouble();
  Region &scoreRegion = sdpa.getScoreMod();
  Region &maskRegion = sdpa.getMask();
  int64_t d = p.headDim, dv = p.vHeadDim;

  std::vector<int64_t> physRows;
  std::vector<int64_t> keys;
  std::vector<double> scores, acc(dv);
  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t qLen = p.qLen(b), kvLen = p.kvLen(b);
    physRows.resize(kvLen);
    for (int64_t kv = 0; kv < kvLen; ++kv) {
      FailureOr<int64_t> row = p.logicalRow(b, kv, error);
      if (failed(row))
        return failure();
      physRows[kv] = *row;
    }
    for (int64_t h = 0; h < p.qHeads; ++h) {
      int64_t hkv = h / p.groupSize;
      for (int64_t i = 0; i < qLen; ++i) {
        int64_t q = kvLen - qLen + i;
        const double *qRow = p.qRow(b, i, h);
        // An fp8 cache's dequantization factors of (b, h): the K/V values
        // here are the stored fp8 values.
        double kScale = 1, vScale = 1;
        for (auto [region, factor, what] :
             {std::tuple{&sdpa.getKScale(), &kScale, "k_scale"},
              std::tuple{&sdpa.getVScale(), &vScale, "v_scale"}}) {
          if (region->empty())
            continue;
          FailureOr<RtValue> value =
              ev.runExpression(*region, 0.0f, b, h, 0, 0);
          if (failed(value)) {
            error += elementContext(what, b, h, q, 0);
            return failure();
          }
          if (value->kind != RtValue::Kind::Float)
            return ev.fail(sdpa, std::string(what) + " region must yield f32");
          *factor = value->f;
        }
        keys.clear();
        scores.clear();
        for (int64_t kv = 0; kv < kvLen; ++kv) {
          FailureOr<RtValue> visible =
              ev.runExpression(maskRegion, 0.0f, b, h, q, kv);
          if (failed(visible)) {
            error += elementContext("mask", b, h, q, kv);
            return failure();
          }
          if (visible->kind != RtValue::Kind::Int)
            return ev.fail(sdpa, "mask region must yield i1");
          if (!visible->i)
            continue;
          const double *kRow = p.kvRow(/*isV=*/false, physRows[kv], hkv);
          double dot = 0;
          for (int64_t e = 0; e < d; ++e)
            dot += qRow[e] * (kScale * kRow[e]);
          FailureOr<RtValue> score = ev.runExpression(
              scoreRegion, static_cast<float>(scale * dot), b, h, q, kv);
          if (failed(score)) {
            error += elementContext("score", b, h, q, kv);
            return failure();
          }
          if (score->kind != RtValue::Kind::Float)
            return ev.fail(sdpa, "score region must yield f32");
          // A score of -inf weighs nothing, like a masked key.
          double logit = inBase2Range(score->f);
          if (logit == -inf)
            continue;
          keys.push_back(kv);
          scores.push_back(logit);
        }
        // The attention sink: one more logit, with no value row.
        double sink = -inf;
        if (!sdpa.getSink().empty()) {
          FailureOr<RtValue> value =
              ev.runExpression(sdpa.getSink(), 0.0f, b, h, q, 0);
          if (failed(value)) {
            error += elementContext("sink", b, h, q, 0);
            return failure();
          }
          if (value->kind != RtValue::Kind::Float)
            return ev.fail(sdpa, "sink region must yield f32");
          sink = inBase2Range(value->f);
        }
        if (keys.empty() && sink == -inf)
          continue; // o = 0, lse = -inf
        double m = sink;
        for (double s : scores)
          if (!(s <= m))
            m = s; // NaN wins, so it reaches the output
        double sum = sink == -inf ? 0.0 : std::exp(sink - m);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (size_t n = 0; n < keys.size(); ++n) {
          double w = std::exp(scores[n] - m);
          sum += w;
          const double *vRow = p.kvRow(/*isV=*/true, physRows[keys[n]], hkv);
          for (int64_t e = 0; e < dv; ++e)
            acc[e] += w * (vScale * vRow[e]);
        }
        int64_t slot = (p.qStart(b) + i) * p.qHeads + h;
        for (int64_t e = 0; e < dv; ++e)
          out.o[slot * dv + e] = acc[e] / sum;
        out.lse[slot] = m + std::log(sum);
      }
    }
  }
  return out;
}
