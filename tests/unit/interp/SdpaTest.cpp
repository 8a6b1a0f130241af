//===- SdpaTest.cpp - attn.sdpa against a plain float64 attention ---------===//
#include "InterpTestSupport.h"

using namespace attnc;
using namespace attnc::test;

namespace {
struct Layout {
  const char *name;
  int64_t pageSize; ///< 0: dense
};
const Layout kLayouts[] = {
    {"dense", 0}, {"paged-1", 1}, {"paged-5", 5}, {"paged-16", 16}};

/// Lengths with every edge the design asks for: a single token, odd
/// lengths, q = 1 against a long KV, a query block longer than its keys
/// (its first rows see no key under causal masking), no keys at all and no
/// queries at all.
void lengthsFor(const Variant &variant, std::vector<int64_t> &qLens,
                std::vector<int64_t> &kvLens) {
  if (variant.needsQLenAtMostKvLen) {
    qLens = {1, 7, 65, 1, 0};
    kvLens = {1, 63, 239, 239, 4};
  } else {
    qLens = {1, 7, 65, 1, 9, 3, 0};
    kvLens = {1, 63, 239, 239, 5, 0, 4};
  }
}
} // namespace

TEST_CASE("attn.sdpa matches a plain float64 attention", "[interp][sdpa]") {
  std::vector<Variant> variants = {
      causalVariant(),   noMaskVariant(),  slidingWindowVariant(),
      softcapVariant(),  alibiVariant(),   prefixLMVariant(),
      documentVariant(), integerVariant(), mixedScoreVariant()};
  uint64_t seed = 1;
  for (const Variant &variant : variants)
    for (const Layout &layout : kLayouts) {
      ++seed;
      DYNAMIC_SECTION(variant.name << ", " << layout.name) {
        KernelShape shape;
        shape.pageSize = layout.pageSize;
        auto context = makeContext();
        ParsedKernel parsed = parseKernel(*context, sdpaKernel(shape, variant));
        std::vector<int64_t> qLens, kvLens;
        lengthsFor(variant, qLens, kvLens);
        AttentionInputs in = randomInputs(parsed.kernel, qLens, kvLens, seed);

        AttentionOutputs actual = run(parsed.kernel, in);
        AttentionOutputs expected = referenceAttention(shape, variant, in);
        OutputDiff diff = compareOutputs(actual, expected);
        INFO(diff.firstMismatch);
        CHECK(diff.nonFiniteMismatches == 0);
        // Only the regions run in f32; everything else is double.
        CHECK(diff.oRelErr < 1e-5);
        CHECK(diff.lseMaxAbsDiff < 1e-5);
      }
    }
}

TEST_CASE("attn.sdpa exact fixtures", "[interp][sdpa]") {
  auto context = makeContext();
  KernelShape shape;
  shape.qHeads = 6;
  shape.kvHeads = 1; // MQA
  ParsedKernel parsed =
      parseKernel(*context, sdpaKernel(shape, causalVariant()));

  SECTION("a query block longer than its keys has fully masked rows") {
    AttentionInputs in = randomInputs(parsed.kernel, {9}, {5}, 7);
    AttentionOutputs out = run(parsed.kernel, in);
    for (int64_t i = 0; i < 9; ++i)
      for (int64_t h = 0; h < 6; ++h) {
        double lse = out.lse[i * 6 + h];
        if (i < 4) { // positions -4..-1 see no key
          CHECK(lse == -std::numeric_limits<double>::infinity());
          for (int64_t e = 0; e < 64; ++e)
            CHECK(out.o[(i * 6 + h) * 64 + e] == 0.0);
        } else {
          CHECK(std::isfinite(lse));
        }
      }
  }

  SECTION("a row with one visible key gets exactly that key's V") {
    AttentionInputs in = randomInputs(parsed.kernel, {1}, {1}, 8);
    AttentionOutputs out = run(parsed.kernel, in);
    for (int64_t h = 0; h < 6; ++h)
      for (int64_t e = 0; e < 64; ++e)
        CHECK(out.o[h * 64 + e] == in.v.f[e]);
  }

  SECTION("huge logits give no inf or NaN") {
    AttentionInputs in = randomInputs(parsed.kernel, {3}, {40}, 9);
    for (double &x : in.q.f)
      x *= 2048; // |s| ~ 1e4
    for (double &x : in.k.f)
      x *= 8;
    AttentionOutputs out = run(parsed.kernel, in);
    for (double x : out.o)
      CHECK(std::isfinite(x));
    for (double x : out.lse)
      CHECK(std::isfinite(x));
  }

  SECTION("an empty batch gives empty outputs") {
    AttentionInputs in = randomInputs(parsed.kernel, {}, {}, 10);
    AttentionOutputs out = run(parsed.kernel, in);
    CHECK(out.o.empty());
    CHECK(out.lse.empty());
  }
}
