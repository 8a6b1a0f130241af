//===- RuntimeTest.cpp - Loading, validating and launching kernels ------===//
#include "runtime/api/Runtime.h"
#include "ReferenceCheck.h"
#include "codegen/Compile.h"
#include "runtime/sim/HalfTypes.h"
#include "runtime/sim/Launch.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>

using namespace attnc;
using attnc::test::hostRef;

namespace {

/// A paged causal GQA kernel, small enough to run quickly under sim.
struct Compiled {
  std::string cuda;
  KernelInfo info;
};

const char *kPagedSpec = "attention paged_t {\n"
                         "  dtype = fp16; head_dim = 32\n"
                         "  q_heads = 2; kv_heads = 1\n"
                         "  kv_cache = paged(page_size = 4)\n"
                         "  mask = kv <= q\n}\n";

/// `specText`'s kernel with 16 x 16 tiles: the prefill variant, or
/// (decode) GQA-packed with split-KV.
Compiled compileSpec(const char *specText, bool decode) {
  mlir::MLIRContext context;
  PipelineOptions options;
  options.blockQ = 16;
  options.blockKV = 16;
  std::string error;
  auto module =
      compileSpecText(context, "t.attn", specText,
                      decode ? decodePipeline(options) : options, error);
  INFO(error);
  REQUIRE(mlir::succeeded(module));
  return Compiled{module->cuda, module->kernels.front()};
}

Compiled compilePaged(bool decode = false) {
  static Compiled prefill = compileSpec(kPagedSpec, false),
                  split = compileSpec(kPagedSpec, true);
  return decode ? split : prefill;
}

/// Host tensors for one sequence of 5 queries over 11 keys in 3 pages.
struct Problem {
  std::vector<uint16_t> q, kCache, vCache, o;
  std::vector<float> lse;
  std::vector<int32_t> qo = {0, 5}, table = {2, 0, 3}, lens = {11};
  AttentionTensors tensors;

  Problem() {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1, 1);
    auto fill = [&](std::vector<uint16_t> &v, size_t n) {
      for (size_t i = 0; i < n; ++i)
        v.push_back(sim::floatToHalfBits(u(rng)));
    };
    fill(q, 5 * 2 * 32);
    fill(kCache, 4 * 4 * 1 * 32);
    fill(vCache, 4 * 4 * 1 * 32);
    o.assign(5 * 2 * 32, 0x7e00);
    lse.assign(5 * 2, NAN);
    tensors.q = hostRef(q.data(), DType::F16, {5, 2, 32});
    tensors.o = hostRef(o.data(), DType::F16, {5, 2, 32});
    tensors.lse = hostRef(lse.data(), DType::F32, {5, 2});
    tensors.qoIndptr = hostRef(qo.data(), DType::I32, {2});
    tensors.kCache = hostRef(kCache.data(), DType::F16, {4, 4, 1, 32});
    tensors.vCache = hostRef(vCache.data(), DType::F16, {4, 4, 1, 32});
    tensors.blockTable = hostRef(table.data(), DType::I32, {1, 3});
    tensors.kvLens = hostRef(lens.data(), DType::I32, {1});
  }
  /// The same tensors as the float64 AST reference takes them.
  AttentionInputs referenceInputs() const {
    AttentionInputs in;
    in.qoIndptr = qo;
    in.q = test::halfTensor(q, {5, 2, 32});
    in.kCache = test::halfTensor(kCache, {4, 4, 1, 32});
    in.vCache = test::halfTensor(vCache, {4, 4, 1, 32});
    in.blockTable = table;
    in.maxPages = 3;
    in.kvLens = lens;
    return in;
  }
  /// Calls f(data, bytes, name) for each host tensor (for checked mode).
  template <typename F> void forEachBuffer(F f) {
    auto each = [&](auto &v, const char *name) {
      f(v.data(), v.size() * sizeof(v[0]), name);
    };
    each(q, "q");
    each(kCache, "k_cache");
    each(vCache, "v_cache");
    each(o, "o");
    each(lse, "lse");
    each(qo, "qo_indptr");
    each(table, "block_table");
    each(lens, "kv_lens");
  }
  bool outputsUntouched() const {
    for (uint16_t b : o)
      if (b != 0x7e00)
        return false;
    for (float x : lse)
      if (!std::isnan(x))
        return false;
    return true;
  }
};

} // namespace

TEST_CASE("runtime: backend selection", "[api][runtime]") {
  RuntimeOptions options;
  options.backend = "sim";
  auto sim = Runtime::create(options);
  REQUIRE(sim);
  CHECK(std::string((*sim)->backend().name()) == "sim");

  options.backend = "tpu";
  auto bad = Runtime::create(options);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.status().message(), Catch::Contains("unknown backend 'tpu'"));

  options.backend = "auto";
  auto autoRt = Runtime::create(options);
  REQUIRE(autoRt);
  // Whichever it picked, it says which and why.
  CHECK_THAT((*autoRt)->selection(), Catch::StartsWith("auto: "));
  if (std::string((*autoRt)->backend().name()) == "sim") {
    options.backend = "cuda";
    auto cuda = Runtime::create(options);
    REQUIRE_FALSE(cuda);
    CHECK(cuda.status().code() == ErrorCode::Unavailable);
    WARN("no CUDA device here: " << cuda.status().message());
  }
}

TEST_CASE("runtime: load caches, run validates, sim computes",
          "[api][runtime]") {
  Compiled compiled = compilePaged();
  RuntimeOptions options;
  options.backend = "sim";
  auto runtime = Runtime::create(options);
  REQUIRE(runtime);
  auto k1 = (*runtime)->load(compiled.cuda, compiled.info);
  REQUIRE(k1);
  auto k2 = (*runtime)->load(compiled.cuda, compiled.info);
  REQUIRE(k2);
  CHECK(k1->loaded == k2->loaded); // in-memory hit

  SECTION("valid inputs: O and LSE equal the float64 reference") {
    Problem p;
    Status s = (*runtime)->run(*k1, p.tensors);
    INFO(s.toString());
    REQUIRE(s.ok());
    test::checkAgainstReference(kPagedSpec, p.referenceInputs(), p.o, p.lse);
  }
  SECTION("split-KV decode: O and LSE equal the float64 reference") {
    // Checked mode: every access of the kernels, the workspace's included,
    // stays inside its buffer.
    sim::SimOptions checked = sim::getOptions();
    checked.checked = true;
    sim::ScopedOptions scoped(checked);
    Compiled decode = compilePaged(true);
    auto split = (*runtime)->load(decode.cuda, decode.info);
    REQUIRE(split);
    // 11 keys; 3 (queries at positions -2..2: the first two see no key, the
    // third one); none (every split of every row is empty: O = 0 and
    // LSE = -inf).
    for (int32_t keys : {11, 3, 0})
      for (int splits : {1, 2, 3}) {
        INFO(keys << " keys, " << splits << " splits");
        Problem p;
        p.lens[0] = keys;
        std::vector<std::unique_ptr<sim::ScopedBuffer>> known;
        p.forEachBuffer([&](const void *data, size_t bytes, const char *name) {
          known.push_back(
              std::make_unique<sim::ScopedBuffer>(data, bytes, name));
        });
        Status s = (*runtime)->run(*split, p.tensors, nullptr, splits);
        INFO(s.toString());
        REQUIRE(s.ok());
        test::checkAgainstReference(kPagedSpec, p.referenceInputs(), p.o,
                                    p.lse);
      }
  }
  SECTION("a block table entry past the pool: error, nothing written") {
    Problem p;
    p.table[1] = 9;
    Status s = (*runtime)->run(*k1, p.tensors);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == ErrorCode::InvalidInput);
    CHECK_THAT(s.message(), Catch::Contains("block_table"));
    CHECK(p.outputsUntouched());
  }
  SECTION("a wrong dtype: error, nothing written") {
    Problem p;
    p.tensors.q.dtype = DType::BF16;
    Status s = (*runtime)->run(*k1, p.tensors);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("q"));
    CHECK(p.outputsUntouched());
  }
  SECTION("kv_lens beyond the table's capacity: error") {
    Problem p;
    p.lens[0] = 13;
    Status s = (*runtime)->run(*k1, p.tensors);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("kv_lens"));
    CHECK(p.outputsUntouched());
  }
  SECTION("plan checks once; its launches equal run's results") {
    Problem byRun, byPlan;
    REQUIRE((*runtime)->run(*k1, byRun.tensors).ok());
    Expected<LaunchPlan> plan = (*runtime)->plan(*k1, byPlan.tensors);
    INFO(plan.status().toString());
    REQUIRE(plan);
    CHECK(byPlan.outputsUntouched()); // planned, not launched
    CHECK(plan->gridX == 1);
    REQUIRE((*runtime)->launch(*plan).ok());
    CHECK(byPlan.o == byRun.o);
    // A plan launches again and again (decode loops, timing loops).
    std::fill(byPlan.o.begin(), byPlan.o.end(), uint16_t(0x7e00));
    REQUIRE((*runtime)->launch(*plan).ok());
    CHECK(byPlan.o == byRun.o);
  }
  SECTION("a plan from the caller's host copies of the indices") {
    // What an engine's decode loop does: the indices live on the device,
    // their host copies are at hand, and planning must not read them back.
    Compiled decode = compilePaged(true);
    auto split = (*runtime)->load(decode.cuda, decode.info);
    REQUIRE(split);
    Problem given, byRun;
    HostIndexData host = hostIndexDataOf(given.tensors);
    Expected<LaunchPlan> plan =
        (*runtime)->plan(*split, given.tensors, host, 2);
    INFO(plan.status().toString());
    REQUIRE(plan);
    CHECK(given.outputsUntouched());
    REQUIRE((*runtime)->launch(*plan).ok());
    REQUIRE((*runtime)->run(*split, byRun.tensors, nullptr, 2).ok());
    CHECK(given.o == byRun.o);
    CHECK(given.lse == byRun.lse);
    // The copies are checked as plan() checks what it reads itself.
    HostIndexData wrong = host;
    wrong.kvLens.count -= 1;
    Expected<LaunchPlan> refused =
        (*runtime)->plan(*split, given.tensors, wrong, 2);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.status().message(), Catch::Contains("kv_lens"));
    std::vector<int32_t> longer(host.kvLens.data,
                                host.kvLens.data + host.kvLens.count);
    longer[0] = 1 << 20; // beyond the block table's capacity
    wrong = host;
    wrong.kvLens.data = longer.data();
    refused = (*runtime)->plan(*split, given.tensors, wrong, 2);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.status().message(), Catch::Contains("kv_lens[0]"));
  }
  SECTION("split-KV plans own their workspaces; run reuses one per stream") {
    Compiled decode = compilePaged(true);
    auto split = (*runtime)->load(decode.cuda, decode.info);
    REQUIRE(split);
    Problem a, b, byRun;
    Expected<LaunchPlan> planA = (*runtime)->plan(*split, a.tensors, 2);
    Expected<LaunchPlan> planB = (*runtime)->plan(*split, b.tensors, 2);
    REQUIRE(planA);
    REQUIRE(planB);
    CHECK(planA->numSplits == 2);
    CHECK(planA->workspace);
    CHECK(planA->workspace.get() != planB->workspace.get());
    REQUIRE((*runtime)->launch(*planA).ok());
    REQUIRE((*runtime)->launch(*planB).ok());
    REQUIRE((*runtime)->run(*split, byRun.tensors, nullptr, 2).ok());
    CHECK(a.o == byRun.o);
    CHECK(b.o == byRun.o);
    CHECK(a.lse == byRun.lse);
  }
  SECTION("plan rejects what run rejects, launching nothing") {
    Problem p;
    p.table[1] = 9;
    Expected<LaunchPlan> plan = (*runtime)->plan(*k1, p.tensors);
    REQUIRE_FALSE(plan);
    CHECK(plan.status().code() == ErrorCode::InvalidInput);
    CHECK(p.outputsUntouched());
  }
  SECTION("an empty batch launches nothing") {
    Problem p;
    p.qo = {0};
    p.tensors.qoIndptr.shape = {1};
    p.tensors.q.shape = {0, 2, 32};
    p.tensors.o.shape = {0, 2, 32};
    p.tensors.lse.shape = {0, 2};
    p.tensors.blockTable.shape = {0, 3};
    p.tensors.kvLens.shape = {0};
    Status s = (*runtime)->run(*k1, p.tensors);
    INFO(s.toString());
    CHECK(s.ok());
  }
}

namespace {

/// A paged kernel whose mask reads a 2-D param at (q, kv): it gets a runtime
/// block mask (16 x 16 tiles).
const char *kPairwiseSpec = "attention pairwise_t {\n"
                            "  dtype = fp16; head_dim = 32\n"
                            "  q_heads = 2; kv_heads = 1\n"
                            "  kv_cache = paged(page_size = 4)\n"
                            "  param allow : i32[?, ?]\n"
                            "  mask = allow[q, kv] >= 1\n}\n";

Compiled compilePairwise(bool decode = false) {
  static Compiled prefill = compileSpec(kPairwiseSpec, false),
                  split = compileSpec(kPairwiseSpec, true);
  return decode ? split : prefill;
}

/// Problem's sequence of 5 queries over 11 keys grown to 20 queries over 40
/// keys in 10 pages, and `allow`, visible in blocks that do not line up
/// with the 16 x 16 tiles: allow[i, j] = 1 where (i / 7 + j / 12) % 3 == 0.
struct PairwiseProblem {
  std::vector<uint16_t> q, kCache, vCache, o;
  std::vector<float> lse;
  std::vector<int32_t> qo = {0, 20}, table = {9, 0, 8, 1, 7, 2, 6, 3, 5, 4},
                       lens = {40}, allow;
  AttentionTensors tensors;

  explicit PairwiseProblem(unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1, 1);
    auto fill = [&](std::vector<uint16_t> &v, size_t n) {
      for (size_t i = 0; i < n; ++i)
        v.push_back(sim::floatToHalfBits(u(rng)));
    };
    fill(q, 20 * 2 * 32);
    fill(kCache, 10 * 4 * 32);
    fill(vCache, 10 * 4 * 32);
    o.assign(20 * 2 * 32, 0x7e00);
    lse.assign(20 * 2, NAN);
    for (int i = 0; i < 40; ++i)
      for (int j = 0; j < 40; ++j)
        allow.push_back((i / 7 + j / 12) % 3 == 0 ? 1 : 0);
    tensors.q = hostRef(q.data(), DType::F16, {20, 2, 32});
    tensors.o = hostRef(o.data(), DType::F16, {20, 2, 32});
    tensors.lse = hostRef(lse.data(), DType::F32, {20, 2});
    tensors.qoIndptr = hostRef(qo.data(), DType::I32, {2});
    tensors.kCache = hostRef(kCache.data(), DType::F16, {10, 4, 1, 32});
    tensors.vCache = hostRef(vCache.data(), DType::F16, {10, 4, 1, 32});
    tensors.blockTable = hostRef(table.data(), DType::I32, {1, 10});
    tensors.kvLens = hostRef(lens.data(), DType::I32, {1});
    tensors.params["allow"] = hostRef(allow.data(), DType::I32, {40, 40});
  }
  AttentionInputs referenceInputs() const {
    AttentionInputs in;
    in.qoIndptr = qo;
    in.q = test::halfTensor(q, {20, 2, 32});
    in.kCache = test::halfTensor(kCache, {10, 4, 1, 32});
    in.vCache = test::halfTensor(vCache, {10, 4, 1, 32});
    in.blockTable = table;
    in.maxPages = 10;
    in.kvLens = lens;
    in.params["allow"] =
        HostTensor::ints({40, 40}, std::vector<int32_t>(allow));
    return in;
  }
  /// Makes every host tensor known to checked mode while it lives.
  void registerBuffers(std::vector<std::unique_ptr<sim::ScopedBuffer>> &out) {
    auto each = [&](auto &v, const char *name) {
      out.push_back(std::make_unique<sim::ScopedBuffer>(
          v.data(), v.size() * sizeof(v[0]), name));
    };
    each(q, "q");
    each(kCache, "k_cache");
    each(vCache, "v_cache");
    each(o, "o");
    each(lse, "lse");
    each(qo, "qo_indptr");
    each(table, "block_table");
    each(lens, "kv_lens");
    each(allow, "allow");
  }
};

} // namespace

TEST_CASE("runtime: a block mask is built once and reused, and checked",
          "[api][runtime][blockmask]") {
  Compiled compiled = compilePairwise();
  REQUIRE(compiled.info.hasBlockMask());
  CHECK(compiled.info.blockMaskHeads == 1); // the mask does not read h
  RuntimeOptions options;
  options.backend = "sim";
  auto runtime = Runtime::create(options);
  REQUIRE(runtime);
  auto kernel = (*runtime)->load(compiled.cuda, compiled.info);
  REQUIRE(kernel);
  // Checked mode: the pre-pass and the kernel stay inside their buffers.
  sim::SimOptions checked = sim::getOptions();
  checked.checked = true;
  sim::ScopedOptions scoped(checked);

  std::vector<std::unique_ptr<sim::ScopedBuffer>> known;
  PairwiseProblem first(5);
  first.registerBuffers(known);
  auto built = (*runtime)->buildBlockMask(*kernel, first.tensors);
  INFO((built ? std::string() : built.status().toString()));
  REQUIRE(built);
  const BlockMask &mask = **built;

  SECTION("the lists hold exactly the visible tiles, full ones marked") {
    std::vector<int32_t> counts, tiles;
    REQUIRE((*runtime)->readBlockMask(mask, counts, tiles).ok());
    // Query row i of the tile sits at position 40 - 20 + i.
    REQUIRE(counts.size() == 2); // 2 query tiles of 16 rows
    for (int qt = 0; qt < 2; ++qt) {
      std::vector<int32_t> expected;
      for (int j = 0; j < 3; ++j) {
        bool visible = false, masked = false;
        for (int i = qt * 16; i < std::min(20, qt * 16 + 16); ++i)
          for (int kv = j * 16; kv < std::min(40, j * 16 + 16); ++kv) {
            bool keep = first.allow[(20 + i) * 40 + kv] >= 1;
            visible |= keep;
            masked |= !keep;
          }
        if (visible)
          expected.push_back(j * 2 + (masked ? 0 : 1));
      }
      INFO("query tile " << qt);
      REQUIRE(counts[qt] == static_cast<int32_t>(expected.size()));
      for (size_t t = 0; t < expected.size(); ++t)
        CHECK(tiles[qt * mask.kvTiles + t] == expected[t]);
    }
  }
  SECTION("two layers with other Q, K and V reuse it") {
    PairwiseProblem second(6);
    second.registerBuffers(known);
    for (PairwiseProblem *layer : {&first, &second}) {
      layer->tensors.blockMask = &mask;
      Status s = (*runtime)->run(*kernel, layer->tensors);
      INFO(s.toString());
      REQUIRE(s.ok());
      test::checkAgainstReference(kPairwiseSpec, layer->referenceInputs(),
                                  layer->o, layer->lse);
    }
  }
  SECTION("without one, a run builds its own") {
    Status s = (*runtime)->run(*kernel, first.tensors);
    INFO(s.toString());
    REQUIRE(s.ok());
    test::checkAgainstReference(kPairwiseSpec, first.referenceInputs(), first.o,
                                first.lse);
  }
  SECTION("run() keeps the mask it built while lengths and params stay") {
    int64_t before = (*runtime)->blockMaskBuilds();
    PairwiseProblem layer(9);
    layer.registerBuffers(known);
    // Two layers: one build.
    for (PairwiseProblem *p : {&first, &layer}) {
      Status s = (*runtime)->run(*kernel, p->tensors);
      INFO(s.toString());
      REQUIRE(s.ok());
      test::checkAgainstReference(kPairwiseSpec, p->referenceInputs(), p->o,
                                  p->lse);
    }
    CHECK((*runtime)->blockMaskBuilds() == before + 1);
    // Other values of allow: built again, and the result follows them.
    PairwiseProblem changed(10);
    changed.registerBuffers(known);
    for (int32_t &a : changed.allow)
      a ^= 1;
    Status s = (*runtime)->run(*kernel, changed.tensors);
    REQUIRE(s.ok());
    CHECK((*runtime)->blockMaskBuilds() == before + 2);
    test::checkAgainstReference(kPairwiseSpec, changed.referenceInputs(),
                                changed.o, changed.lse);
    // Other lengths: built again.
    PairwiseProblem shorter(11);
    shorter.registerBuffers(known);
    shorter.lens[0] = 33;
    s = (*runtime)->run(*kernel, shorter.tensors);
    REQUIRE(s.ok());
    CHECK((*runtime)->blockMaskBuilds() == before + 3);
    test::checkAgainstReference(kPairwiseSpec, shorter.referenceInputs(),
                                shorter.o, shorter.lse);
  }
  SECTION("other lengths: error, nothing written") {
    PairwiseProblem longer(7);
    longer.registerBuffers(known);
    longer.lens[0] = 39;
    longer.tensors.blockMask = &mask;
    Status s = (*runtime)->run(*kernel, longer.tensors);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(),
               Catch::Contains("other lengths of sequence 0 (q_len 20, "
                               "kv_len 40; this launch has 20 and 39)"));
    CHECK(longer.o[0] == 0x7e00);
  }
  SECTION("other param values: error") {
    PairwiseProblem changed(8);
    changed.registerBuffers(known);
    changed.allow[5] ^= 1;
    changed.tensors.blockMask = &mask;
    Status s = (*runtime)->run(*kernel, changed.tensors);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("other values of param 'allow'"));
  }
  SECTION("another kernel's mask: error") {
    Compiled decode = compilePairwise(true);
    auto other = (*runtime)->load(decode.cuda, decode.info);
    REQUIRE(other);
    first.tensors.blockMask = &mask;
    Status s = (*runtime)->run(*other, first.tensors);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("by another kernel"));
  }
  SECTION("a kernel without a block mask has none to build") {
    Compiled paged = compilePaged();
    auto plain = (*runtime)->load(paged.cuda, paged.info);
    REQUIRE(plain);
    Problem p;
    auto none = (*runtime)->buildBlockMask(*plain, p.tensors);
    REQUIRE_FALSE(none);
    CHECK_THAT(none.status().message(),
               Catch::Contains("has no runtime block mask"));
  }
}
