//===- DenseCheck.h - Run a kernel and check it in float64 ----------------===//
//
// For programs built against the installed package (this example and the
// consumers in tests/aot/): runs a loaded kernel of an fp16, dense-KV, causal spec on random inputs (never zeros;
// outputs pre-filled with NaN) on the runtime's backend and compares O and
// LSE with attention computed here in float64, bottom-right aligned, query
// head h reading KV head h / (q_heads / kv_heads).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_EXAMPLES_AOT_CONSUMER_DENSECHECK_H
#define ATTNC_EXAMPLES_AOT_CONSUMER_DENSECHECK_H

#include "runtime/api/Runtime.h"
#include "runtime/sim/HalfTypes.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace densecheck {

struct Problem {
  int qHeads = 0, kvHeads = 0, headDim = 0;
  std::vector<int> qLens, kvLens;
  unsigned seed = 1;
};

/// Runs `kernel` on `problem` (`numSplits` for a split-KV kernel; 0: the
/// runtime's choice) and prints one line; true when O is within 2e-3
/// relative and LSE within 1e-3 absolute of the float64 reference.
inline bool runAndCheck(attnc::Runtime &runtime, const attnc::Kernel &kernel,
                        const Problem &p, int numSplits, const char *label) {
  using namespace attnc;
  const int hq = p.qHeads, hkv = p.kvHeads, d = p.headDim;
  std::vector<int32_t> qo = {0}, kvIndptr = {0};
  for (size_t b = 0; b < p.qLens.size(); ++b) {
    qo.push_back(qo.back() + p.qLens[b]);
    kvIndptr.push_back(kvIndptr.back() + p.kvLens[b]);
  }
  std::mt19937 rng(p.seed);
  std::uniform_real_distribution<float> u(-1, 1);
  auto random = [&](size_t n) {
    std::vector<uint16_t> v(n);
    for (uint16_t &x : v)
      x = sim::floatToHalfBits(u(rng));
    return v;
  };
  std::vector<uint16_t> q = random(size_t(qo.back()) * hq * d),
                        k = random(size_t(kvIndptr.back()) * hkv * d),
                        v = random(size_t(kvIndptr.back()) * hkv * d),
                        o(size_t(qo.back()) * hq * d, 0x7e00);
  std::vector<float> lse(size_t(qo.back()) * hq, NAN);

  Backend &backend = runtime.backend();
  std::vector<void *> owned;
  bool staged = true;
  auto stage = [&](const void *host, size_t bytes, DType t,
                   std::vector<int64_t> shape, const char *name) {
    TensorRef ref;
    ref.dtype = t;
    ref.shape = std::move(shape);
    ref.memory = backend.memoryKind();
    Expected<void *> ptr = backend.allocate(bytes, name);
    if (!ptr || !backend.copyIn(*ptr, host, bytes).ok()) {
      std::printf("%s: cannot stage %s\n", label, name);
      staged = false;
      return ref;
    }
    owned.push_back(*ptr);
    ref.data = *ptr;
    return ref;
  };
  const int64_t totalQ = qo.back(), totalKV = kvIndptr.back();
  AttentionTensors t;
  t.q = stage(q.data(), q.size() * 2, DType::F16, {totalQ, hq, d}, "q");
  t.o = stage(o.data(), o.size() * 2, DType::F16, {totalQ, hq, d}, "o");
  t.lse = stage(lse.data(), lse.size() * 4, DType::F32, {totalQ, hq}, "lse");
  t.qoIndptr = stage(qo.data(), qo.size() * 4, DType::I32, {int64_t(qo.size())},
                     "qo_indptr");
  t.k = stage(k.data(), k.size() * 2, DType::F16, {totalKV, hkv, d}, "k");
  t.v = stage(v.data(), v.size() * 2, DType::F16, {totalKV, hkv, d}, "v");
  t.kvIndptr = stage(kvIndptr.data(), kvIndptr.size() * 4, DType::I32,
                     {int64_t(kvIndptr.size())}, "kv_indptr");
  Status s = staged ? runtime.run(kernel, t, nullptr, numSplits)
                    : Status::error(ErrorCode::OutOfMemory, "staging failed");
  if (s.ok())
    s = backend.synchronize(nullptr);
  if (s.ok())
    s = backend.copyOut(o.data(), t.o.data, o.size() * 2);
  if (s.ok())
    s = backend.copyOut(lse.data(), t.lse.data, lse.size() * 4);
  for (void *ptr : owned)
    backend.release(ptr);
  if (!s.ok()) {
    std::printf("%s: %s\n", label, s.toString().c_str());
    return false;
  }

  double err = 0, norm = 0, lseErr = 0;
  for (size_t b = 0; b < p.qLens.size(); ++b)
    for (int i = 0; i < p.qLens[b]; ++i)
      for (int h = 0; h < hq; ++h) {
        const int last = p.kvLens[b] - p.qLens[b] + i; // causal horizon
        const int kh = h / (hq / hkv);
        const size_t row = size_t(qo[b] + i) * hq + h;
        std::vector<double> score;
        double m = -INFINITY;
        for (int j = 0; j <= last; ++j) {
          const size_t key = (size_t(kvIndptr[b] + j) * hkv + kh) * d;
          double dot = 0;
          for (int c = 0; c < d; ++c)
            dot += double(sim::halfBitsToFloat(q[row * d + c])) *
                   sim::halfBitsToFloat(k[key + c]);
          score.push_back(dot / std::sqrt(double(d)));
          m = std::max(m, score.back());
        }
        std::vector<double> acc(d, 0);
        double l = 0;
        for (int j = 0; j <= last; ++j) {
          const double w = std::exp(score[j] - m);
          const size_t key = (size_t(kvIndptr[b] + j) * hkv + kh) * d;
          l += w;
          for (int c = 0; c < d; ++c)
            acc[c] += w * sim::halfBitsToFloat(v[key + c]);
        }
        for (int c = 0; c < d; ++c) {
          const double ref = l > 0 ? acc[c] / l : 0;
          const double got = sim::halfBitsToFloat(o[row * d + c]);
          err += (got - ref) * (got - ref);
          norm += ref * ref;
        }
        const double refLse = l > 0 ? m + std::log(l) : -INFINITY;
        if (std::isinf(refLse))
          lseErr = std::max(lseErr, lse[row] == refLse ? 0.0 : INFINITY);
        else
          lseErr = std::max(lseErr, std::fabs(lse[row] - refLse));
      }
  const double rel = std::sqrt(err / norm);
  const bool pass = rel <= 2e-3 && lseErr <= 1e-3; // false on NaN
  std::printf("%s: |o - ref| / |ref| = %.3e, max |lse - ref| = %.3e: %s\n",
              label, rel, lseErr, pass ? "PASS" : "FAIL");
  return pass;
}

} // namespace densecheck

#endif // ATTNC_EXAMPLES_AOT_CONSUMER_DENSECHECK_H
