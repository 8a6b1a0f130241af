//===- BackwardReferenceTest.cpp - Float64 gradients by finite differences -//
//
// astBackwardReference gives dL/dQ, dL/dK, dL/dV for L = sum(O * dO). Each
// case checks it against central differences of L computed with the
// forward astReference, element by element at random entries of Q, K and
// V, on specs with GQA, a sink, a score modifier, masks that leave rows
// fully masked, and a paged cache whose pool holds rows no sequence reads
// (their gradient must be 0).
//
//===----------------------------------------------------------------------===//
#include "dsl/Frontend.h"
#include "reference/AstReference.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace attnc;

namespace {

struct Case {
  std::string spec;
  std::vector<int32_t> qLens, kvLens;
  int pageSize = 0; ///< 0: dense
};

/// L = sum over the finite entries of O * dO.
double loss(const dsl::AttentionSpec &spec, const AttentionInputs &in,
            const std::vector<double> &dO) {
  std::string error;
  std::optional<AttentionOutputs> out = astReference(spec, in, error);
  INFO(error);
  REQUIRE(out);
  double l = 0;
  for (size_t e = 0; e < dO.size(); ++e)
    l += out->o[e] * dO[e];
  return l;
}

void checkCase(const Case &c, uint64_t seed) {
  std::string diagnostics;
  std::optional<dsl::Module> module =
      dsl::parseAndCheckText("grad.attn", c.spec, diagnostics);
  INFO(diagnostics << c.spec);
  REQUIRE(module);
  const dsl::AttentionSpec &spec = module->specs.front();
  const int64_t d = spec.headDim, hq = spec.qHeads, hkv = spec.kvHeads;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  auto randoms = [&](int64_t n) {
    std::vector<double> v(n);
    for (double &x : v)
      x = u(rng);
    return v;
  };

  AttentionInputs in;
  in.qoIndptr = {0};
  for (int32_t len : c.qLens)
    in.qoIndptr.push_back(in.qoIndptr.back() + len);
  const int64_t totalQ = in.qoIndptr.back();
  in.q = HostTensor::floats({totalQ, hq, d}, randoms(totalQ * hq * d));
  if (c.pageSize == 0) {
    in.kvIndptr = {0};
    for (int32_t len : c.kvLens)
      in.kvIndptr.push_back(in.kvIndptr.back() + len);
    const int64_t totalKV = in.kvIndptr.back();
    in.k = HostTensor::floats({totalKV, hkv, d}, randoms(totalKV * hkv * d));
    in.v = HostTensor::floats({totalKV, hkv, d}, randoms(totalKV * hkv * d));
  } else {
    // Pages handed out back to front, and one spare page nobody reads.
    int64_t pages = 1;
    for (int32_t len : c.kvLens)
      in.maxPages =
          std::max<int64_t>(in.maxPages, (len + c.pageSize - 1) / c.pageSize);
    for (int32_t len : c.kvLens)
      pages += (len + c.pageSize - 1) / c.pageSize;
    int32_t next = static_cast<int32_t>(pages) - 1;
    for (int32_t len : c.kvLens) {
      int64_t used = (len + c.pageSize - 1) / c.pageSize;
      for (int64_t pg = 0; pg < in.maxPages; ++pg)
        in.blockTable.push_back(pg < used ? next-- : 0);
      in.kvLens.push_back(len);
    }
    const int64_t n = pages * c.pageSize * hkv * d;
    in.kCache = HostTensor::floats({pages, c.pageSize, hkv, d}, randoms(n));
    in.vCache = HostTensor::floats({pages, c.pageSize, hkv, d}, randoms(n));
  }
  for (const dsl::ParamDecl &decl : spec.params) // f32[q_heads] params
    in.params[decl.name] = HostTensor::floats({hq}, [&] {
      std::vector<double> v(hq);
      for (int64_t h = 0; h < hq; ++h)
        v[h] = 0.25 * (h + 1);
      return v;
    }());
  std::vector<double> dO = randoms(totalQ * hq * d);

  std::string error;
  std::optional<AttentionGradients> grads =
      astBackwardReference(spec, in, dO, error);
  INFO(error);
  REQUIRE(grads);

  HostTensor &kT = c.pageSize ? in.kCache : in.k;
  HostTensor &vT = c.pageSize ? in.vCache : in.v;
  struct Target {
    const char *name;
    std::vector<double> *values;
    const std::vector<double> *grad;
  } targets[] = {{"q", &in.q.f, &grads->dq},
                 {"k", &kT.f, &grads->dk},
                 {"v", &vT.f, &grads->dv}};
  int nonzero = 0;
  for (Target &t : targets) {
    REQUIRE(t.grad->size() == t.values->size());
    for (int trial = 0; trial < 24; ++trial) {
      size_t e =
          std::uniform_int_distribution<size_t>(0, t.values->size() - 1)(rng);
      double saved = (*t.values)[e], step = 1e-5;
      (*t.values)[e] = saved + step;
      double up = loss(spec, in, dO);
      (*t.values)[e] = saved - step;
      double down = loss(spec, in, dO);
      (*t.values)[e] = saved;
      double fd = (up - down) / (2 * step);
      INFO(t.name << "[" << e << "]: reference " << (*t.grad)[e]
                  << ", finite differences " << fd);
      CHECK(std::fabs((*t.grad)[e] - fd) <= 1e-6 + 1e-5 * std::fabs(fd));
      nonzero += (*t.grad)[e] != 0;
    }
  }
  // The checks above mean something: most sampled entries have a gradient.
  CHECK(nonzero >= 36);

  // Every element of every requires_grad param, the same way.
  for (const dsl::ParamDecl &decl : spec.params) {
    if (!decl.requiresGrad)
      continue;
    REQUIRE(grads->params.count(decl.name) == 1);
    const std::vector<double> &grad = grads->params.at(decl.name);
    std::vector<double> &values = in.params.at(decl.name).f;
    REQUIRE(grad.size() == values.size());
    int moved = 0;
    for (size_t e = 0; e < values.size(); ++e) {
      double saved = values[e], step = 1e-5;
      values[e] = saved + step;
      double up = loss(spec, in, dO);
      values[e] = saved - step;
      double down = loss(spec, in, dO);
      values[e] = saved;
      double fd = (up - down) / (2 * step);
      INFO(decl.name << "[" << e << "]: reference " << grad[e]
                     << ", finite differences " << fd);
      CHECK(std::fabs(grad[e] - fd) <= 1e-6 + 1e-4 * std::fabs(fd));
      moved += grad[e] != 0;
    }
    CHECK(moved == static_cast<int>(values.size()));
  }
  // And no gradient for a param that does not ask for one.
  for (const auto &[name, grad] : grads->params) {
    INFO(name);
    CHECK(std::any_of(spec.params.begin(), spec.params.end(),
                      [&, n = name](const dsl::ParamDecl &p) {
                        return p.name == n && p.requiresGrad;
                      }));
  }
}

} // namespace

TEST_CASE("the float64 backward reference matches finite differences",
          "[reference][backward]") {
  SECTION("GQA, a learned sink, softcap, a causal window, an empty query "
          "sequence") {
    checkCase({"attention g {\n dtype = bf16; head_dim = 16; q_heads = 4; "
               "kv_heads = 2\n param sinks : f32[q_heads]\n sink = sinks[h]\n"
               " score = 20.0 * tanh(score / 20.0)\n"
               " mask = kv <= q && q - kv < 9\n}\n",
               {5, 3, 0},
               {12, 3, 4}},
              1);
  }
  SECTION("ALiBi over a paged cache, rows with no visible key") {
    // Sequence 1 has 7 queries over 5 keys: its first two rows see nothing.
    checkCase({"attention a {\n dtype = fp16; head_dim = 16; q_heads = 2; "
               "kv_heads = 1\n kv_cache = paged(page_size = 4)\n"
               " param slope : f32[q_heads] requires_grad\n"
               " score = score - slope[h] * float(q - kv)\n"
               " mask = kv <= q\n}\n",
               {4, 7},
               {9, 5},
               4},
              2);
  }
  SECTION("learnable slope and gain under a softcap, GQA, a window") {
    checkCase({"attention l {\n dtype = bf16; head_dim = 16; q_heads = 4; "
               "kv_heads = 2\n param slope : f32[q_heads] requires_grad\n"
               " param gain : f32[q_heads] requires_grad\n"
               " param fixed : f32[q_heads]\n"
               " score = 20.0 * tanh((gain[h] * score - slope[h] * float(q - "
               "kv) + fixed[h]) / 20.0)\n"
               " mask = kv <= q && q - kv < 7\n}\n",
               {5, 6},
               {9, 6}},
              4);
  }
  SECTION("a select and a power of |score|, no mask") {
    checkCase({"attention m {\n dtype = fp16; head_dim = 16; q_heads = 2; "
               "kv_heads = 2\n"
               " score = q > kv ? score * 1.5 : score - 0.1 * "
               "pow(abs(score), 1.5)\n}\n",
               {6},
               {8}},
              3);
  }
}

TEST_CASE("the backward reference gives masked rows and unread rows no "
          "gradient",
          "[reference][backward]") {
  std::string diagnostics;
  std::optional<dsl::Module> module = dsl::parseAndCheckText(
      "g.attn",
      "attention z {\n dtype = fp16; head_dim = 8; q_heads = 1; kv_heads = 1\n"
      " mask = kv <= q\n}\n",
      diagnostics);
  REQUIRE(module);
  AttentionInputs in;
  // 3 queries over 2 keys: query 0 sits at position -1 and sees nothing.
  in.qoIndptr = {0, 3};
  in.kvIndptr = {0, 2};
  in.q = HostTensor::floats({3, 1, 8}, std::vector<double>(24, 0.5));
  in.k = HostTensor::floats({2, 1, 8}, std::vector<double>(16, -0.25));
  in.v = HostTensor::floats({2, 1, 8}, std::vector<double>(16, 0.75));
  std::vector<double> dO(24, 1.0);
  std::string error;
  std::optional<AttentionGradients> g =
      astBackwardReference(module->specs.front(), in, dO, error);
  INFO(error);
  REQUIRE(g);
  for (int e = 0; e < 8; ++e)
    CHECK(g->dq[e] == 0.0); // the fully masked row
  for (double x : g->dv)
    CHECK(std::isfinite(x));
  // dO = 1 everywhere: each visible row gives every V row its P, summing
  // to 1 per row over 2 rows.
  double total = 0;
  for (int kv = 0; kv < 2; ++kv)
    total += g->dv[kv * 8];
  CHECK(total == Approx(2.0));
}
