// Lists the kernels attnc compiled into this program at build time, runs
// one of them on random inputs and checks it against a float64 attention
// computed here.
#include "runtime/aot/Registry.h"
#include "runtime/api/Runtime.h"
#include "runtime/sim/HalfTypes.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace attnc;

int main() {
  for (const aot::AotKernel *k : aot::kernels()) {
    std::printf("registered: %s (", k->info.name.c_str());
    for (size_t i = 0; i < k->images.size(); ++i)
      std::printf("%s%s", i ? ", " : "", k->images[i].arch);
    std::printf(")\n");
  }
  if (!aot::findKernel("aot_paged_decode")) {
    std::fprintf(stderr, "aot_paged_decode is not in the registry\n");
    return 1;
  }
  const aot::AotKernel *aot = aot::findKernel("aot_causal_gqa");
  if (!aot) {
    std::fprintf(stderr, "aot_causal_gqa is not in the registry\n");
    return 1;
  }
  auto runtime = Runtime::create(RuntimeOptions{});
  if (!runtime) {
    std::fprintf(stderr, "%s\n", runtime.status().toString().c_str());
    return 1;
  }
  std::printf("backend: %s\n", (*runtime)->selection().c_str());
  Expected<Kernel> kernel = (*runtime)->loadAot(*aot);
  if (!kernel) {
    std::fprintf(stderr, "%s\n", kernel.status().toString().c_str());
    return 1;
  }

  const int hq = 8, hkv = 2, d = 64;
  const std::vector<int> qLens = {5, 1}, kvLens = {37, 20};
  std::vector<int32_t> qo = {0}, kvIndptr = {0};
  for (size_t b = 0; b < qLens.size(); ++b) {
    qo.push_back(qo.back() + qLens[b]);
    kvIndptr.push_back(kvIndptr.back() + kvLens[b]);
  }
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  auto fill = [&](size_t n) {
    std::vector<uint16_t> v(n);
    for (uint16_t &x : v)
      x = sim::floatToHalfBits(u(rng));
    return v;
  };
  std::vector<uint16_t> q = fill(qo.back() * hq * d),
                        k = fill(kvIndptr.back() * hkv * d),
                        v = fill(kvIndptr.back() * hkv * d),
                        o(qo.back() * hq * d, 0x7e00);
  std::vector<float> lse(qo.back() * hq, NAN);

  // Stage the tensors in the backend's memory (device memory on a GPU).
  Backend &backend = (*runtime)->backend();
  std::vector<void *> owned;
  auto stage = [&](const void *host, size_t bytes, DType t,
                   std::vector<int64_t> shape, const char *name) {
    TensorRef ref;
    ref.dtype = t;
    ref.shape = std::move(shape);
    ref.memory = backend.memoryKind();
    Expected<void *> p = backend.allocate(bytes, name);
    if (!p || !backend.copyIn(*p, host, bytes).ok()) {
      std::fprintf(stderr, "cannot stage %s\n", name);
      std::exit(1);
    }
    owned.push_back(*p);
    ref.data = *p;
    return ref;
  };
  AttentionTensors t;
  t.q = stage(q.data(), q.size() * 2, DType::F16, {qo.back(), hq, d}, "q");
  t.o = stage(o.data(), o.size() * 2, DType::F16, {qo.back(), hq, d}, "o");
  t.lse = stage(lse.data(), lse.size() * 4, DType::F32, {qo.back(), hq}, "lse");
  t.qoIndptr = stage(qo.data(), qo.size() * 4, DType::I32, {(int64_t)qo.size()},
                     "qo_indptr");
  t.k =
      stage(k.data(), k.size() * 2, DType::F16, {kvIndptr.back(), hkv, d}, "k");
  t.v =
      stage(v.data(), v.size() * 2, DType::F16, {kvIndptr.back(), hkv, d}, "v");
  t.kvIndptr = stage(kvIndptr.data(), kvIndptr.size() * 4, DType::I32,
                     {(int64_t)kvIndptr.size()}, "kv_indptr");
  Status s = (*runtime)->run(*kernel, t);
  if (s.ok())
    s = backend.synchronize(nullptr);
  if (s.ok())
    s = backend.copyOut(o.data(), t.o.data, o.size() * 2);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.toString().c_str());
    return 1;
  }
  for (void *p : owned)
    backend.release(p);

  // float64 reference: causal, bottom-right aligned, KV head h / 4.
  double err = 0, norm = 0;
  for (size_t b = 0; b < qLens.size(); ++b)
    for (int i = 0; i < qLens[b]; ++i)
      for (int h = 0; h < hq; ++h) {
        int pos = kvLens[b] - qLens[b] + i, kh = h / (hq / hkv);
        const uint16_t *qr = &q[((qo[b] + i) * hq + h) * d];
        std::vector<double> s(kvLens[b], -INFINITY), acc(d, 0);
        double m = -INFINITY, l = 0;
        for (int j = 0; j <= pos && j < kvLens[b]; ++j) {
          const uint16_t *kr = &k[((kvIndptr[b] + j) * hkv + kh) * d];
          double dot = 0;
          for (int c = 0; c < d; ++c)
            dot += sim::halfBitsToFloat(qr[c]) * sim::halfBitsToFloat(kr[c]);
          s[j] = dot / std::sqrt(double(d));
          m = std::max(m, s[j]);
        }
        for (int j = 0; j <= pos && j < kvLens[b]; ++j) {
          double p = std::exp(s[j] - m);
          l += p;
          const uint16_t *vr = &v[((kvIndptr[b] + j) * hkv + kh) * d];
          for (int c = 0; c < d; ++c)
            acc[c] += p * sim::halfBitsToFloat(vr[c]);
        }
        for (int c = 0; c < d; ++c) {
          double ref = l > 0 ? acc[c] / l : 0;
          double got = sim::halfBitsToFloat(o[((qo[b] + i) * hq + h) * d + c]);
          err += (got - ref) * (got - ref);
          norm += ref * ref;
        }
      }
  double rel = std::sqrt(err / norm);
  bool pass = rel <= 2e-3;
  std::printf("aot_causal_gqa: |o - ref| / |ref| = %.3e: %s\n", rel,
              pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}
