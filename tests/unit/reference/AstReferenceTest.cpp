//===- AstReferenceTest.cpp - The AST reference against hand formulas -----===//
//
// Each test parses a spec from text, builds tiny inputs by hand and compares
// astReference with attention written out here for that one variant: the
// visible keys and the score as a C++ lambda, a softmax of a few lines. The
// expected values share nothing with the code under test but the input
// structs, and each case picks values where the wrong semantics (`<` as
// `<=`, no wraparound, a flattened param index, another head mapping) gives
// a different answer.
//
//===----------------------------------------------------------------------===//
#include "reference/AstReference.h"
#include "dsl/Frontend.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

using namespace attnc;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

dsl::Module parseSpec(const std::string &text) {
  std::string diagnostics;
  std::optional<dsl::Module> module =
      dsl::parseAndCheckText("test.attn", text, diagnostics);
  INFO(diagnostics << "\n" << text);
  REQUIRE(module);
  REQUIRE(module->specs.size() == 1);
  return std::move(*module);
}

/// Deterministic values in [-1, 1] and never near 0, so every product in a
/// dot product matters.
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t bits() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  double value() {
    double u = double(bits() >> 11) / double(1ull << 53); // [0, 1)
    double magnitude = 0.1 + 0.9 * u;
    return (bits() & 1) ? magnitude : -magnitude;
  }
};

/// Attention data per sequence, indexed directly by the expected formulas.
struct Problem {
  int64_t qHeads = 1, kvHeads = 1, d = 16;
  std::vector<int64_t> qLens, kvLens;
  std::vector<std::vector<double>> q, k, v; ///< per sequence [len, heads, d]

  const double *qAt(int64_t b, int64_t i, int64_t h) const {
    return &q[b][(i * qHeads + h) * d];
  }
  const double *kAt(int64_t b, int64_t kv, int64_t hk) const {
    return &k[b][(kv * kvHeads + hk) * d];
  }
  const double *vAt(int64_t b, int64_t kv, int64_t hk) const {
    return &v[b][(kv * kvHeads + hk) * d];
  }
  int64_t totalQ() const {
    int64_t n = 0;
    for (int64_t len : qLens)
      n += len;
    return n;
  }
};

Problem makeProblem(int64_t qHeads, int64_t kvHeads, int64_t d,
                    std::vector<int64_t> qLens, std::vector<int64_t> kvLens,
                    uint64_t seed, double qMagnitude = 1.0) {
  Problem p;
  p.qHeads = qHeads;
  p.kvHeads = kvHeads;
  p.d = d;
  p.qLens = std::move(qLens);
  p.kvLens = std::move(kvLens);
  Rng rng(seed);
  for (size_t b = 0; b < p.qLens.size(); ++b) {
    std::vector<double> q(p.qLens[b] * qHeads * d),
        k(p.kvLens[b] * kvHeads * d), v(p.kvLens[b] * kvHeads * d);
    for (double &x : q)
      x = qMagnitude * rng.value();
    for (double &x : k)
      x = rng.value();
    for (double &x : v)
      x = rng.value();
    p.q.push_back(q);
    p.k.push_back(k);
    p.v.push_back(v);
  }
  return p;
}

/// qo_indptr and Q, shared by both layouts.
AttentionInputs queryInputs(const Problem &p) {
  AttentionInputs in;
  in.qoIndptr = {0};
  std::vector<double> q;
  for (size_t b = 0; b < p.qLens.size(); ++b) {
    in.qoIndptr.push_back(in.qoIndptr.back() + int32_t(p.qLens[b]));
    q.insert(q.end(), p.q[b].begin(), p.q[b].end());
  }
  in.q = HostTensor::floats({p.totalQ(), p.qHeads, p.d}, q);
  return in;
}

AttentionInputs denseInputs(const Problem &p) {
  AttentionInputs in = queryInputs(p);
  in.kvIndptr = {0};
  std::vector<double> k, v;
  for (size_t b = 0; b < p.kvLens.size(); ++b) {
    in.kvIndptr.push_back(in.kvIndptr.back() + int32_t(p.kvLens[b]));
    k.insert(k.end(), p.k[b].begin(), p.k[b].end());
    v.insert(v.end(), p.v[b].begin(), p.v[b].end());
  }
  int64_t totalKv = in.kvIndptr.back();
  in.k = HostTensor::floats({totalKv, p.kvHeads, p.d}, k);
  in.v = HostTensor::floats({totalKv, p.kvHeads, p.d}, v);
  return in;
}

/// The same keys in a page pool: pages handed out in a shuffled order, spare
/// pages and the unused slots of each last page full of NaN (a read of them
/// poisons the result), unused block-table entries -1.
AttentionInputs pagedInputs(const Problem &p, int64_t pageSize, uint64_t seed) {
  AttentionInputs in = queryInputs(p);
  const int64_t spare = 3, rowSize = p.kvHeads * p.d;
  std::vector<int64_t> pagesOf;
  int64_t used = 0, maxPages = 0;
  for (int64_t len : p.kvLens) {
    int64_t pages = (len + pageSize - 1) / pageSize;
    pagesOf.push_back(pages);
    used += pages;
    maxPages = std::max(maxPages, pages);
  }
  maxPages += 1; // room for padding in every row
  int64_t numPages = used + spare;
  std::vector<int32_t> order(numPages);
  for (int64_t i = 0; i < numPages; ++i)
    order[i] = int32_t(i);
  Rng rng(seed);
  for (int64_t i = numPages - 1; i > 0; --i)
    std::swap(order[i], order[rng.bits() % uint64_t(i + 1)]);

  std::vector<double> kPool(numPages * pageSize * rowSize, kNaN),
      vPool(numPages * pageSize * rowSize, kNaN);
  in.blockTable.assign(p.kvLens.size() * maxPages, -1);
  in.maxPages = maxPages;
  int64_t next = 0;
  for (size_t b = 0; b < p.kvLens.size(); ++b) {
    for (int64_t j = 0; j < pagesOf[b]; ++j)
      in.blockTable[b * maxPages + j] = order[next++];
    for (int64_t kv = 0; kv < p.kvLens[b]; ++kv) {
      int64_t page = in.blockTable[b * maxPages + kv / pageSize];
      int64_t row = page * pageSize + kv % pageSize;
      for (int64_t x = 0; x < rowSize; ++x) {
        kPool[row * rowSize + x] = p.k[b][kv * rowSize + x];
        vPool[row * rowSize + x] = p.v[b][kv * rowSize + x];
      }
    }
    in.kvLens.push_back(int32_t(p.kvLens[b]));
  }
  in.kCache = HostTensor::floats({numPages, pageSize, p.kvHeads, p.d}, kPool);
  in.vCache = HostTensor::floats({numPages, pageSize, p.kvHeads, p.d}, vPool);
  return in;
}

/// The logit of key `kv` for query position `q` given the scaled dot product
/// `s`; -inf for a masked key.
using LogitFn = std::function<double(int64_t b, int64_t h, int64_t q,
                                     int64_t kv, double s)>;

std::vector<int64_t> groupedHeads(int64_t qHeads, int64_t kvHeads) {
  std::vector<int64_t> map;
  for (int64_t h = 0; h < qHeads; ++h)
    map.push_back(h / (qHeads / kvHeads));
  return map;
}

/// Attention written out: for each query, the logits of all keys, then a
/// max-subtracted softmax over them. `kvHeadOf` maps query heads to KV
/// heads.
AttentionOutputs expected(const Problem &p, double scale, const LogitFn &logit,
                          std::vector<int64_t> kvHeadOf = {}) {
  if (kvHeadOf.empty())
    kvHeadOf = groupedHeads(p.qHeads, p.kvHeads);
  AttentionOutputs out;
  for (size_t b = 0; b < p.qLens.size(); ++b)
    for (int64_t i = 0; i < p.qLens[b]; ++i)
      for (int64_t h = 0; h < p.qHeads; ++h) {
        int64_t hk = kvHeadOf[h], n = p.kvLens[b];
        int64_t pos = n - p.qLens[b] + i;
        std::vector<double> logits;
        double m = -kInf;
        for (int64_t kv = 0; kv < n; ++kv) {
          double dot = 0;
          for (int64_t e = 0; e < p.d; ++e)
            dot += p.qAt(b, i, h)[e] * p.kAt(b, kv, hk)[e];
          logits.push_back(logit(b, h, pos, kv, dot * scale));
          m = std::max(m, logits.back());
        }
        std::vector<double> o(p.d, 0.0);
        double lse = -kInf;
        if (m > -kInf) {
          double sum = 0;
          for (int64_t kv = 0; kv < n; ++kv) {
            if (logits[kv] == -kInf)
              continue;
            double w = std::exp(logits[kv] - m);
            sum += w;
            for (int64_t e = 0; e < p.d; ++e)
              o[e] += w * p.vAt(b, kv, hk)[e];
          }
          for (double &x : o)
            x /= sum;
          lse = m + std::log(sum);
        }
        out.o.insert(out.o.end(), o.begin(), o.end());
        out.lse.push_back(lse);
      }
  return out;
}

/// Runs the reference and REQUIREs success.
AttentionOutputs run(const dsl::AttentionSpec &spec,
                     const AttentionInputs &in) {
  std::string error;
  std::optional<AttentionOutputs> out = astReference(spec, in, error);
  INFO(error);
  REQUIRE(out);
  return *out;
}

/// Entry by entry: -inf must meet -inf, finite values agree to `tol`
/// (relative to 1, or to the value's size).
void checkClose(const AttentionOutputs &actual, const AttentionOutputs &want,
                double tol = 1e-12) {
  REQUIRE(actual.o.size() == want.o.size());
  REQUIRE(actual.lse.size() == want.lse.size());
  auto close = [&](double a, double b) {
    if (std::isinf(b))
      return a == b;
    return std::isfinite(a) &&
           std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b));
  };
  int64_t bad = 0;
  std::string first;
  for (size_t i = 0; i < want.o.size(); ++i)
    if (!close(actual.o[i], want.o[i]) && bad++ == 0)
      first = "o[" + std::to_string(i) + "] = " + std::to_string(actual.o[i]) +
              ", expected " + std::to_string(want.o[i]);
  for (size_t i = 0; i < want.lse.size(); ++i)
    if (!close(actual.lse[i], want.lse[i]) && bad++ == 0)
      first = "lse[" + std::to_string(i) +
              "] = " + std::to_string(actual.lse[i]) + ", expected " +
              std::to_string(want.lse[i]);
  INFO(first);
  CHECK(bad == 0);
}

/// O of query row `row` (over the whole batch) and head `h`.
std::vector<double> oRow(const AttentionOutputs &out, const Problem &p,
                         int64_t row, int64_t h) {
  auto begin = out.o.begin() + (row * p.qHeads + h) * p.d;
  return std::vector<double>(begin, begin + p.d);
}
double lseAt(const AttentionOutputs &out, const Problem &p, int64_t row,
             int64_t h) {
  return out.lse[row * p.qHeads + h];
}
std::vector<double> vRow(const Problem &p, int64_t b, int64_t kv, int64_t hk) {
  return std::vector<double>(p.vAt(b, kv, hk), p.vAt(b, kv, hk) + p.d);
}

std::string block(const std::string &entries, int64_t qHeads = 1,
                  int64_t kvHeads = 1) {
  return "attention t {\n  dtype = fp16; head_dim = 16\n  q_heads = " +
         std::to_string(qHeads) + "; kv_heads = " + std::to_string(kvHeads) +
         "\n" + entries + "\n}\n";
}

const double kScale16 = 0.25; // the default 1 / sqrt(16)

/// One query, one key (b = h = q = kv = 0) and `score = expr`: with one
/// visible key, lse is exactly that score.
double probeScore(const std::string &expr, const std::string &decls = "",
                  std::map<std::string, HostTensor> params = {}) {
  dsl::Module module = parseSpec(block(decls + "\n  score = " + expr));
  Problem p = makeProblem(1, 1, 16, {1}, {1}, 7);
  AttentionInputs in = denseInputs(p);
  in.params = std::move(params);
  AttentionOutputs out = run(module.specs[0], in);
  return out.lse[0];
}

/// One query, one key and `mask = expr`: whether that key is visible.
bool probeMask(const std::string &expr, const std::string &decls = "",
               std::map<std::string, HostTensor> params = {}) {
  dsl::Module module = parseSpec(block(decls + "\n  mask = " + expr));
  Problem p = makeProblem(1, 1, 16, {1}, {1}, 7);
  AttentionInputs in = denseInputs(p);
  in.params = std::move(params);
  AttentionOutputs out = run(module.specs[0], in);
  return std::isfinite(out.lse[0]);
}

HostTensor scalarInt(int32_t v) { return HostTensor::ints({}, {v}); }

/// The error of a run that must fail.
std::string failure(const dsl::AttentionSpec &spec, const AttentionInputs &in) {
  std::string error;
  std::optional<AttentionOutputs> out = astReference(spec, in, error);
  CHECK_FALSE(out);
  CHECK_FALSE(error.empty());
  return error;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("causal kv <= q and strict kv < q", "[reference][mask]") {
  dsl::Module causal = parseSpec(block("  mask = kv <= q", 2, 2));
  dsl::Module strict = parseSpec(block("  mask = kv < q", 2, 2));
  Problem p = makeProblem(2, 2, 16, {4, 2}, {4, 5}, 1);
  AttentionInputs in = denseInputs(p);

  AttentionOutputs c = run(causal.specs[0], in);
  AttentionOutputs s = run(strict.specs[0], in);
  checkClose(c, expected(p, kScale16,
                         [](int64_t, int64_t, int64_t q, int64_t kv, double x) {
                           return kv <= q ? x : -kInf;
                         }));
  checkClose(s, expected(p, kScale16,
                         [](int64_t, int64_t, int64_t q, int64_t kv, double x) {
                           return kv < q ? x : -kInf;
                         }));
  CHECK(c.o != s.o);

  for (int64_t h = 0; h < 2; ++h) {
    // Row 0 (q = 0): strict sees nothing, causal sees key 0 alone.
    CHECK(oRow(s, p, 0, h) == std::vector<double>(16, 0.0));
    CHECK(lseAt(s, p, 0, h) == -kInf);
    CHECK(oRow(c, p, 0, h) == vRow(p, 0, 0, h));
    // Row 1 under strict: exactly key 0, so exactly V[0].
    CHECK(oRow(s, p, 1, h) == vRow(p, 0, 0, h));
    CHECK(std::isfinite(lseAt(s, p, 1, h)));
  }
}

TEST_CASE("sliding window q - kv < 3 and q - kv <= 3", "[reference][mask]") {
  dsl::Module lt = parseSpec(block("  mask = kv <= q && q - kv < 3"));
  dsl::Module le = parseSpec(block("  mask = kv <= q && q - kv <= 3"));
  Problem p = makeProblem(1, 1, 16, {7}, {7}, 2);
  AttentionInputs in = denseInputs(p);
  AttentionOutputs a = run(lt.specs[0], in);
  AttentionOutputs b = run(le.specs[0], in);
  // At q = 5: keys {3, 4, 5} against {2, 3, 4, 5}.
  checkClose(a, expected(p, kScale16,
                         [](int64_t, int64_t, int64_t q, int64_t kv, double x) {
                           return kv <= q && q - kv < 3 ? x : -kInf;
                         }));
  checkClose(b, expected(p, kScale16,
                         [](int64_t, int64_t, int64_t q, int64_t kv, double x) {
                           return kv <= q && q - kv <= 3 ? x : -kInf;
                         }));
  // Rows 0..2 see the same keys under both; rows 3..6 do not.
  for (int64_t row = 0; row < 7; ++row)
    CHECK((oRow(a, p, row, 0) == oRow(b, p, row, 0)) == (row < 3));
}

TEST_CASE("query blocks longer than their keys, and no keys at all",
          "[reference][mask]") {
  dsl::Module causal = parseSpec(block("  mask = kv <= q"));
  dsl::Module open = parseSpec(block(""));
  // Sequence 0: 5 queries at positions -2..2 over 3 keys; sequence 1: 2
  // queries over no key.
  Problem p = makeProblem(1, 1, 16, {5, 2}, {3, 0}, 3);
  AttentionInputs in = denseInputs(p);
  AttentionOutputs c = run(causal.specs[0], in);
  checkClose(c, expected(p, kScale16,
                         [](int64_t, int64_t, int64_t q, int64_t kv, double x) {
                           return kv <= q ? x : -kInf;
                         }));
  for (int64_t row : {0, 1, 5, 6}) {
    CHECK(oRow(c, p, row, 0) == std::vector<double>(16, 0.0));
    CHECK(lseAt(c, p, row, 0) == -kInf);
  }
  CHECK(oRow(c, p, 2, 0) == vRow(p, 0, 0, 0)); // q = 0 sees key 0 only
  CHECK(std::isfinite(lseAt(c, p, 3, 0)));

  // Without a mask the rows at negative positions see every key; N == 0
  // still gives o = 0 and lse = -inf, not NaN.
  AttentionOutputs o = run(open.specs[0], in);
  checkClose(o, expected(p, kScale16,
                         [](int64_t, int64_t, int64_t, int64_t, double x) {
                           return x;
                         }));
  CHECK(std::isfinite(lseAt(o, p, 0, 0)));
  CHECK(lseAt(o, p, 5, 0) == -kInf);
  CHECK(oRow(o, p, 6, 0) == std::vector<double>(16, 0.0));
}

TEST_CASE("GQA head mapping 6:2 and 6:1", "[reference][heads]") {
  auto all = [](int64_t, int64_t, int64_t, int64_t, double x) { return x; };
  {
    dsl::Module spec = parseSpec(block("", 6, 2));
    Problem p = makeProblem(6, 2, 16, {3, 2}, {4, 6}, 4);
    AttentionOutputs out = run(spec.specs[0], denseInputs(p));
    checkClose(out, expected(p, kScale16, all, {0, 0, 0, 1, 1, 1}));
  }
  {
    dsl::Module spec = parseSpec(block("  mask = kv <= q", 6, 1));
    Problem p = makeProblem(6, 1, 16, {3}, {5}, 5);
    AttentionOutputs out = run(spec.specs[0], denseInputs(p));
    checkClose(out, expected(p, kScale16,
                             [](int64_t, int64_t, int64_t q, int64_t kv,
                                double x) { return kv <= q ? x : -kInf; },
                             {0, 0, 0, 0, 0, 0}));
  }
}

TEST_CASE("paged layouts equal the dense one", "[reference][paged]") {
  Problem p = makeProblem(4, 2, 16, {3, 1, 6, 2}, {7, 11, 6, 0}, 6);
  dsl::Module dense = parseSpec(block("  mask = kv <= q", 4, 2));
  AttentionOutputs want = run(dense.specs[0], denseInputs(p));
  checkClose(want, expected(p, kScale16,
                            [](int64_t, int64_t, int64_t q, int64_t kv,
                               double x) { return kv <= q ? x : -kInf; }));
  for (int64_t pageSize : {1, 5}) {
    DYNAMIC_SECTION("page_size " << pageSize) {
      dsl::Module paged = parseSpec(
          block("  kv_cache = paged(page_size = " + std::to_string(pageSize) +
                    ")\n  mask = kv <= q",
                4, 2));
      AttentionInputs in = pagedInputs(p, pageSize, 100 + pageSize);
      // The shuffle must really move pages around.
      bool identity = true;
      int32_t expect = 0;
      for (int32_t page : in.blockTable)
        if (page >= 0)
          identity &= page == expect++;
      CHECK_FALSE(identity);
      AttentionOutputs got = run(paged.specs[0], in);
      // Same sums in the same order: equal to the bit.
      CHECK(got.o == want.o);
      CHECK(got.lse == want.lse);
    }
  }
}

TEST_CASE("softcap and ALiBi scores", "[reference][score]") {
  SECTION("softcap") {
    dsl::Module spec = parseSpec(block("  scale = 20.0\n"
                                       "  score = 30.0 * tanh(score / 30.0)\n"
                                       "  mask = kv <= q",
                                       2, 1));
    Problem p = makeProblem(2, 1, 16, {4}, {6}, 7);
    AttentionOutputs out = run(spec.specs[0], denseInputs(p));
    checkClose(out,
               expected(p, 20.0,
                        [](int64_t, int64_t, int64_t q, int64_t kv, double x) {
                          return kv <= q ? 30.0 * std::tanh(x / 30.0) : -kInf;
                        }));
    // The cap matters here: without it the logits are far apart.
    AttentionOutputs raw = expected(
        p, 20.0, [](int64_t, int64_t, int64_t q, int64_t kv, double x) {
          return kv <= q ? x : -kInf;
        });
    CHECK(std::fabs(raw.lse[0 * 2 + 0] - out.lse[0]) > 1e-3);
  }
  SECTION("ALiBi") {
    dsl::Module spec = parseSpec(block("  param slope : f32[q_heads]\n"
                                       "  score = score - slope[h] * (q - kv)\n"
                                       "  mask = kv <= q",
                                       4, 2));
    Problem p = makeProblem(4, 2, 16, {3, 5}, {8, 5}, 8);
    AttentionInputs in = denseInputs(p);
    const std::vector<double> slopes = {0.5, 0.25, 0.125, 0.0625};
    in.params["slope"] = HostTensor::floats({4}, slopes);
    AttentionOutputs out = run(spec.specs[0], in);
    checkClose(
        out, expected(p, kScale16,
                      [&](int64_t, int64_t h, int64_t q, int64_t kv, double x) {
                        return kv <= q ? x - slopes[h] * double(q - kv) : -kInf;
                      }));
  }
}

TEST_CASE("param reads outside the tensor read 0", "[reference][params]") {
  // doc is [2, 3]: position 3 is past the end of each row, and -1 before
  // it. Flattened, doc[1, -1] would be doc[0, 2] = 5 and doc[0, 3] would be
  // doc[1, 0] = 7: both inside the buffer, both wrong.
  dsl::Module spec = parseSpec(block("  param doc : i32[batch, ?]\n"
                                     "  mask = doc[b, q] == doc[b, kv]"));
  const int32_t doc[2][3] = {{0, 5, 5}, {7, 7, 0}};
  // Sequence 0: queries at 2, 3 over 4 keys; sequence 1: queries at -1..3.
  Problem p = makeProblem(1, 1, 16, {2, 5}, {4, 4}, 9);
  AttentionInputs in = denseInputs(p);
  in.params["doc"] = HostTensor::ints({2, 3}, {0, 5, 5, 7, 7, 0});
  AttentionOutputs out = run(spec.specs[0], in);
  auto docAt = [&](int64_t b, int64_t pos) {
    return pos >= 0 && pos < 3 ? doc[b][pos] : 0;
  };
  checkClose(out,
             expected(p, kScale16,
                      [&](int64_t b, int64_t, int64_t q, int64_t kv, double x) {
                        return docAt(b, q) == docAt(b, kv) ? x : -kInf;
                      }));
  // Spelled out: sequence 0's q = 3 reads 0 and sees keys {0, 3};
  // sequence 1's q = -1 reads 0 and sees keys {2, 3}.
  auto keysOf = [](std::set<int64_t> keys) {
    return [keys](int64_t, int64_t, int64_t, int64_t kv, double x) {
      return keys.count(kv) ? x : -kInf;
    };
  };
  AttentionOutputs e0 = expected(p, kScale16, keysOf({0, 3}));
  AttentionOutputs e1 = expected(p, kScale16, keysOf({2, 3}));
  CHECK(oRow(out, p, 1, 0) == oRow(e0, p, 1, 0));
  CHECK(lseAt(out, p, 1, 0) == Approx(lseAt(e0, p, 1, 0)).epsilon(1e-12));
  CHECK(oRow(out, p, 2, 0) == oRow(e1, p, 2, 0));
  CHECK(lseAt(out, p, 2, 0) == Approx(lseAt(e1, p, 2, 0)).epsilon(1e-12));

  // A float param reads 0.0 outside, on either side.
  std::map<std::string, HostTensor> params;
  params["w"] = HostTensor::floats({2}, {3.5, 4.5});
  CHECK(probeScore("w[kv - 1] + 10.0 * w[kv + 2] + 100.0 * w[kv + 1]",
                   "  param w : f32[?]", params) == 450.0);
}

TEST_CASE("i32 arithmetic wraps", "[reference][int]") {
  // kv * 10^9 for kv = 0..5 wraps to 0, 1e9, 2e9, -1294967296, -294967296,
  // 705032704: keys {0, 1, 2, 5} are visible, not all six.
  dsl::Module spec = parseSpec(block("  mask = kv * 1000000000 >= 0"));
  Problem p = makeProblem(1, 1, 16, {2}, {6}, 10);
  AttentionOutputs out = run(spec.specs[0], denseInputs(p));
  checkClose(out, expected(p, kScale16,
                           [](int64_t, int64_t, int64_t, int64_t kv, double x) {
                             return kv <= 2 || kv == 5 ? x : -kInf;
                           }));

  std::map<std::string, HostTensor> min;
  min["x"] = scalarInt(std::numeric_limits<int32_t>::min());
  CHECK(probeScore("2147483647 + (kv + 1)") == -2147483648.0);
  CHECK(probeScore("-2147483648 - (kv + 1)") == 2147483647.0);
  CHECK(probeScore("65536 * (65536 + kv)") == 0.0);
  CHECK(probeScore("-x", "  param x : i32", min) == -2147483648.0);
  CHECK(probeScore("abs(x)", "  param x : i32", min) == -2147483648.0);
  CHECK(probeMask("-x < 0", "  param x : i32", min));
}

TEST_CASE("integer division by a run-time zero and its edge cases",
          "[reference][int]") {
  // q / 0 == 0 and q % 0 == q at every position (q = 0..4 and 5..7).
  dsl::Module spec = parseSpec(
      block("  mask = q / (kv / 1000000) == 0 && q % (kv / 1000000) == q && "
            "q > 0"));
  Problem p = makeProblem(1, 1, 16, {5, 3}, {5, 8}, 11);
  AttentionOutputs out = run(spec.specs[0], denseInputs(p));
  checkClose(out, expected(p, kScale16,
                           [](int64_t, int64_t, int64_t q, int64_t, double x) {
                             return q > 0 ? x : -kInf;
                           }));

  auto ints = [](int32_t x, int32_t y) {
    std::map<std::string, HostTensor> params;
    params["x"] = scalarInt(x);
    params["y"] = scalarInt(y);
    return params;
  };
  const std::string decls = "  param x : i32; param y : i32";
  const int32_t intMin = std::numeric_limits<int32_t>::min();
  CHECK(probeScore("x / (kv / 1000000)", decls, ints(7, 0)) == 0.0);
  CHECK(probeScore("x % (kv / 1000000)", decls, ints(-7, 0)) == -7.0);
  CHECK(probeScore("x / y", decls, ints(7, 0)) == 0.0);
  CHECK(probeScore("x % y", decls, ints(7, 0)) == 7.0);
  CHECK(probeScore("x / y", decls, ints(intMin, -1)) == -2147483648.0);
  CHECK(probeScore("x % y", decls, ints(intMin, -1)) == 0.0);
  CHECK(probeScore("x / y", decls, ints(-7, 2)) == -3.0);
  CHECK(probeScore("x % y", decls, ints(-7, 2)) == -1.0);
  CHECK(probeScore("x % y", decls, ints(7, -2)) == 1.0);
  CHECK(probeScore("x / y", decls, ints(7, -2)) == -3.0);
  // Float division by zero is IEEE.
  CHECK(probeMask("1.0 / (kv - kv) > 1.0e30"));
  CHECK(probeMask("-1.0 / (kv - kv) < -1.0e30"));
  CHECK(probeMask("0.0 / (kv - kv) != 0.0 / (kv - kv)")); // NaN != NaN
  CHECK_FALSE(probeMask("0.0 / (kv - kv) == 0.0 / (kv - kv)"));
}

TEST_CASE("scalar semantics of the expression language", "[reference][expr]") {
  // Int -> Float is exact (f32 would round 16777217 to 16777216).
  std::map<std::string, HostTensor> big;
  big["x"] = scalarInt(16777217);
  CHECK(probeScore("x + 0.0", "  param x : i32", big) == 16777217.0);
  CHECK(probeScore("head_dim * 10000 + q_heads * 100 + kv_heads") == 160101.0);
  CHECK(probeScore("min(-3, kv) * 10 + max(2, kv)") == -28.0);
  CHECK(probeScore("abs(-2.5) + abs(-3)") == 5.5);
  CHECK(probeScore("exp(0.0) + sqrt(16.0) + log(1.0) + tanh(0.0)") == 5.0);
  CHECK(probeScore("7 / 2 + 7.0 / 2") == 6.5); // Int / truncates
  // A literal is an f32 value.
  CHECK(probeScore("0.1") == double(0.1f));
  // Both sides of ?: are evaluated, only one is picked.
  CHECK(probeScore("kv == 0 ? 1.5 : 2") == 1.5);
  CHECK(probeScore("kv != 0 ? 1.5 : 2") == 2.0);
  CHECK(probeMask("true && !false || kv > 0"));
  CHECK_FALSE(probeMask("(kv == 0) == (kv != 0)"));
  // NaN compares false, except with !=; min/max let NaN through.
  CHECK_FALSE(probeMask("log(-1.0) < 1.0 || log(-1.0) >= 1.0"));
  CHECK(std::isnan(probeScore("max(log(-1.0), 1.0)")));
  CHECK(std::isnan(probeScore("min(1.0, log(-1.0))")));
}

TEST_CASE("extreme logits stay finite", "[reference][numerics]") {
  // Q of size ~20 makes s ~ +-10, and the score scales it to ~ +-1e4.
  dsl::Module spec = parseSpec(block("  score = score * 1000.0", 2, 2));
  Problem p = makeProblem(2, 2, 16, {3}, {9}, 12, /*qMagnitude=*/20.0);
  AttentionOutputs out = run(spec.specs[0], denseInputs(p));
  AttentionOutputs want =
      expected(p, kScale16, [](int64_t, int64_t, int64_t, int64_t, double x) {
        return x * 1000.0;
      });
  checkClose(out, want, 1e-12);
  double maxLogit = 0;
  for (size_t i = 0; i < out.o.size(); ++i)
    CHECK(std::isfinite(out.o[i]));
  for (size_t i = 0; i < out.lse.size(); ++i) {
    CHECK(std::isfinite(out.lse[i]));
    maxLogit = std::max(maxLogit, std::fabs(out.lse[i]));
  }
  CHECK(maxLogit > 1000.0); // the case is really extreme

  // Every logit far below zero: exp() of any of them underflows, so only a
  // max-subtracted softmax gets o and lse right.
  dsl::Module low =
      parseSpec(block("  score = score * 1000.0 - 30000.0", 2, 2));
  AttentionOutputs lowOut = run(low.specs[0], denseInputs(p));
  checkClose(lowOut, expected(p, kScale16,
                              [](int64_t, int64_t, int64_t, int64_t, double x) {
                                return x * 1000.0 - 30000.0;
                              }));
  for (double lse : lowOut.lse)
    CHECK(lse < -1000.0);
}

TEST_CASE("inconsistent inputs are errors naming the tensor",
          "[reference][errors]") {
  dsl::Module pagedSpec =
      parseSpec(block("  kv_cache = paged(page_size = 5)", 2, 1));
  Problem p = makeProblem(2, 1, 16, {2, 3}, {7, 4}, 13);

  SECTION("a block-table entry past the page pool") {
    AttentionInputs in = pagedInputs(p, 5, 1);
    in.blockTable[in.maxPages + 0] = int32_t(in.kCache.shape[0]);
    CHECK(contains(failure(pagedSpec.specs[0], in), "block_table[1][0]"));
  }
  SECTION("a negative block-table entry in use") {
    AttentionInputs in = pagedInputs(p, 5, 1);
    in.blockTable[1] = -1; // sequence 0's second page holds keys 5 and 6
    CHECK(contains(failure(pagedSpec.specs[0], in), "block_table[0][1]"));
  }
  SECTION("kv_lens past the pages of a row") {
    AttentionInputs in = pagedInputs(p, 5, 1);
    in.kvLens[1] = int32_t(in.maxPages * 5 + 1);
    CHECK(contains(failure(pagedSpec.specs[0], in), "kv_lens[1]"));
  }
  SECTION("a block table of the wrong size") {
    AttentionInputs in = pagedInputs(p, 5, 1);
    in.blockTable.pop_back();
    CHECK(contains(failure(pagedSpec.specs[0], in), "block_table"));
  }
  SECTION("a page pool of the wrong shape") {
    AttentionInputs in = pagedInputs(p, 5, 1);
    in.vCache.shape[1] = 4;
    CHECK(contains(failure(pagedSpec.specs[0], in), "v_cache"));
  }

  dsl::Module denseSpec = parseSpec(block("", 2, 1));
  SECTION("kv_indptr that decreases") {
    AttentionInputs in = denseInputs(p);
    in.kvIndptr = {0, 8, 7};
    CHECK(contains(failure(denseSpec.specs[0], in), "kv_indptr"));
  }
  SECTION("q of the wrong shape") {
    AttentionInputs in = denseInputs(p);
    in.q.shape[1] = 1;
    CHECK(contains(failure(denseSpec.specs[0], in), "q has shape"));
  }
  SECTION("values missing from k") {
    AttentionInputs in = denseInputs(p);
    in.k.f.pop_back();
    CHECK(contains(failure(denseSpec.specs[0], in), "k holds"));
  }

  dsl::Module alibi = parseSpec(block("  param slope : f32[q_heads]\n"
                                      "  score = score - slope[h] * (q - kv)",
                                      2, 1));
  SECTION("a missing param") {
    CHECK(contains(failure(alibi.specs[0], denseInputs(p)), "slope"));
  }
  SECTION("a param of the wrong shape") {
    AttentionInputs in = denseInputs(p);
    in.params["slope"] = HostTensor::floats({3}, {1, 2, 3});
    CHECK(contains(failure(alibi.specs[0], in), "slope"));
  }
  SECTION("a param of the wrong rank") {
    AttentionInputs in = denseInputs(p);
    in.params["slope"] = HostTensor::floats({2, 1}, {1, 2});
    CHECK(contains(failure(alibi.specs[0], in), "slope"));
  }
  SECTION("an i32 tensor for an f32 param") {
    AttentionInputs in = denseInputs(p);
    in.params["slope"] = HostTensor::ints({2}, {1, 2});
    CHECK(contains(failure(alibi.specs[0], in), "slope"));
  }
  SECTION("a param that is not declared") {
    AttentionInputs in = denseInputs(p);
    in.params["slope"] = HostTensor::floats({2}, {1, 2});
    in.params["bias"] = HostTensor::floats({}, {1});
    CHECK(contains(failure(alibi.specs[0], in), "bias"));
  }
  SECTION("the same inputs, well formed, run") {
    AttentionInputs in = denseInputs(p);
    in.params["slope"] = HostTensor::floats({2}, {1, 2});
    std::string error;
    CHECK(astReference(alibi.specs[0], in, error));
  }
}
