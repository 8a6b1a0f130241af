//===- InterpRandom.cpp - Random inputs for interpreter and kernel tests --===//
//
// Values are never zero and everything a kernel must not read is NaN, so a
// kernel that reads past a sequence or through a wrong page poisons its
// output instead of passing by luck.
//
//===----------------------------------------------------------------------===//
#include "interp/Interpreter.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace attnc;

namespace {
/// splitmix64: small, and the same sequence on every platform (the standard
/// distributions are not).
class Rng {
public:
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double unit() { return (next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }
  /// Uniform in [0, n); n > 0.
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % n); }

private:
  uint64_t state;
};
} // namespace

/// A value uniform in [-1, 1] rounded to `dtype`, never zero.
static double randomValue(Rng &rng, Type dtype) {
  for (;;) {
    double x = roundToType(rng.uniform(-1, 1), dtype);
    if (x != 0)
      return x;
  }
}

static void fillRandom(std::vector<double> &values, Rng &rng, Type dtype) {
  for (double &x : values)
    x = randomValue(rng, dtype);
}

/// A K/V element: randomValue, or for an fp8 cache a value whose magnitude
/// spans 2^-8 .. 16 (subnormals of e4m3 and e5m2 included), never zero.
static double randomKV(Rng &rng, Type kvType) {
  if (!isa<Float8E4M3FNType, Float8E5M2Type>(kvType))
    return randomValue(rng, kvType);
  for (;;) {
    double x =
        roundToType(rng.uniform(-1, 1) *
                        std::ldexp(1.0, static_cast<int>(rng.below(13)) - 8),
                    kvType);
    if (x != 0)
      return x;
  }
}

static HostTensor randomParam(attn::ParamOp param, const RandomInputSpec &spec,
                              int64_t qHeads, int64_t kvHeads, Rng &rng) {
  int64_t batch = spec.qLens.size();
  int64_t maxKv = 1;
  for (int64_t len : spec.kvLens)
    maxKv = std::max(maxKv, len);
  std::vector<int64_t> shape;
  for (int64_t dim : param.getDims()) {
    switch (dim) {
    case attn::kBatchDim:
      shape.push_back(batch);
      break;
    case attn::kQHeadsDim:
      shape.push_back(qHeads);
      break;
    case attn::kKVHeadsDim:
      shape.push_back(kvHeads);
      break;
    case attn::kDynamicDim:
      shape.push_back(maxKv);
      break;
    default:
      shape.push_back(dim);
    }
  }
  HostTensor t;
  t.shape = shape;
  int64_t n = t.numElements();
  llvm::ArrayRef<int64_t> dims = param.getDims();

  if (param.getElementType().isF32()) {
    t.f.resize(n);
    bool overHeads = dims.size() == 1 && (dims[0] == attn::kQHeadsDim ||
                                          dims[0] == attn::kKVHeadsDim);
    for (int64_t e = 0; e < n; ++e)
      t.f[e] = overHeads ? std::exp2(-8.0 * (e + 1) / n)
                         : static_cast<float>(rng.uniform(0.5, 4));
    return t;
  }

  t.isInt = true;
  t.i.resize(n);
  if (dims.size() == 1 && dims[0] == attn::kBatchDim) {
    for (int64_t b = 0; b < n; ++b)
      t.i[b] = static_cast<int32_t>(rng.below(spec.kvLens[b] + 1));
  } else if (dims.size() == 2 && dims[0] == attn::kBatchDim &&
             dims[1] == attn::kDynamicDim) {
    // Document ids: runs of equal ids, starting a new document now and then.
    for (int64_t b = 0; b < shape[0]; ++b) {
      int32_t id = 0;
      for (int64_t j = 0; j < shape[1]; ++j) {
        if (j > 0 && rng.below(8) == 0)
          ++id;
        t.i[b * shape[1] + j] = id;
      }
    }
  } else {
    for (int32_t &x : t.i)
      x = static_cast<int32_t>(rng.below(4));
  }
  return t;
}

FailureOr<AttentionInputs> attnc::makeRandomInputs(attn::KernelOp kernel,
                                                   const RandomInputSpec &spec,
                                                   std::string &error) {
  if (spec.qLens.size() != spec.kvLens.size()) {
    error = "qLens and kvLens must have one entry per sequence";
    return failure();
  }
  for (size_t b = 0; b < spec.qLens.size(); ++b)
    if (spec.qLens[b] < 0 || spec.kvLens[b] < 0 ||
        spec.qLens[b] > std::numeric_limits<int32_t>::max() / 2 ||
        spec.kvLens[b] > std::numeric_limits<int32_t>::max() / 2) {
      error = "sequence " + std::to_string(b) + " has a length out of range";
      return failure();
    }
  if (spec.sparePages < 0) {
    error = "sparePages must not be negative";
    return failure();
  }

  Rng rng(spec.seed);
  Type dtype = kernel.getDtype();
  Type kvType = kernel.getKvDtype().value_or(dtype);
  int64_t batch = spec.qLens.size();
  int64_t qHeads = kernel.getQHeads(), kvHeads = kernel.getKvHeads();
  int64_t headDim = kernel.getHeadDim(), vHeadDim = kernel.getValueHeadDim();
  double nan = std::numeric_limits<double>::quiet_NaN();
  // A latent cache (latent_kv) is K alone: V is read from K's rows.
  bool latent = kernel.getLatentKv();

  AttentionInputs in;
  in.qoIndptr.assign(1, 0);
  for (int64_t len : spec.qLens)
    in.qoIndptr.push_back(in.qoIndptr.back() + len);
  int64_t totalQ = in.qoIndptr.back();
  in.q.shape = {totalQ, qHeads, headDim};
  in.q.f.resize(totalQ * qHeads * headDim);
  fillRandom(in.q.f, rng, dtype);

  if (kernel.getKvCache() == attn::KVCacheKind::dense) {
    in.kvIndptr.assign(1, 0);
    for (int64_t len : spec.kvLens)
      in.kvIndptr.push_back(in.kvIndptr.back() + len);
    int64_t totalKv = in.kvIndptr.back();
    for (HostTensor *t : {&in.k, &in.v}) {
      if (latent && t == &in.v)
        continue;
      int64_t width = t == &in.v ? vHeadDim : headDim;
      t->shape = {totalKv, kvHeads, width};
      t->f.resize(totalKv * kvHeads * width);
      for (double &x : t->f)
        x = randomKV(rng, kvType);
    }
  } else {
    int64_t pageSize = *kernel.getPageSize();
    std::vector<int64_t> pagesOf;
    int64_t usedPages = 0, maxPages = 0;
    for (int64_t len : spec.kvLens) {
      pagesOf.push_back((len + pageSize - 1) / pageSize);
      usedPages += pagesOf.back();
      maxPages = std::max(maxPages, pagesOf.back());
    }
    // One slot more than the longest sequence needs, so every row of the
    // table has an unused slot to poison.
    in.maxPages = maxPages + 1;
    int64_t numPages = usedPages + spec.sparePages;
    std::vector<int32_t> order(numPages);
    for (int64_t p = 0; p < numPages; ++p)
      order[p] = static_cast<int32_t>(p);
    for (int64_t p = numPages - 1; p > 0; --p)
      std::swap(order[p], order[rng.below(p + 1)]);

    for (HostTensor *t : {&in.kCache, &in.vCache}) {
      if (latent && t == &in.vCache)
        continue;
      int64_t width = t == &in.vCache ? vHeadDim : headDim;
      t->shape = {numPages, pageSize, kvHeads, width};
      t->f.assign(numPages * pageSize * kvHeads * width, nan);
    }
    in.kvLens.assign(spec.kvLens.begin(), spec.kvLens.end());
    in.blockTable.assign(batch * in.maxPages, 0);
    int64_t next = 0;
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t slot = 0; slot < in.maxPages; ++slot) {
        int32_t page = 0;
        if (slot < pagesOf[b])
          page = order[next++];
        else if (spec.sparePages > 0)
          page = order[usedPages + rng.below(spec.sparePages)];
        else if (numPages > 0)
          page = order[rng.below(numPages)];
        in.blockTable[b * in.maxPages + slot] = page;
      }
      for (int64_t row = 0; row < spec.kvLens[b]; ++row) {
        int64_t page = in.blockTable[b * in.maxPages + row / pageSize];
        int64_t phys = page * pageSize + row % pageSize;
        for (HostTensor *t : {&in.kCache, &in.vCache}) {
          if (latent && t == &in.vCache)
            continue;
          int64_t width = kvHeads * (t == &in.vCache ? vHeadDim : headDim);
          for (int64_t e = 0; e < width; ++e)
            t->f[phys * width + e] = randomKV(rng, kvType);
        }
      }
    }
  }

  for (auto param : kernel.getBody().front().getOps<attn::ParamOp>())
    in.params[param.getSymName().str()] =
        randomParam(param, spec, qHeads, kvHeads, rng);
  return in;
}
