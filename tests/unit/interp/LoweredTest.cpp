//===- LoweredTest.cpp - attn.program forms against attn.sdpa -------------===//
//
// Hand-written lowered kernels (the shape the passes produce: untiled with
// `?` extents, tiled with static tiles; logical addressing or an explicit
// addr region through kv_start/block_table) must compute what the kernel's
// attn.sdpa form computes, within f16/bf16 rounding.
//
//===----------------------------------------------------------------------===//
#include "InterpTestSupport.h"

using namespace attnc;
using namespace attnc::test;

namespace {
struct Form {
  const char *name;
  int64_t blockQ, blockKV; ///< 0: untiled
  Addressing addressing;
};
const Form kForms[] = {
    {"untiled, logical rows", 0, 0, Addressing::Logical},
    {"untiled, addr region", 0, 0, Addressing::Explicit},
    {"tiled 16x16, logical rows", 16, 16, Addressing::Logical},
    {"tiled 16x16, addr region", 16, 16, Addressing::Explicit},
    {"tiled 64x32, addr region", 64, 32, Addressing::Explicit},
};

/// Runs the sdpa form and every lowered form of `variant` on one random
/// input and compares them.
void checkForms(const KernelShape &shape, const Variant &variant, uint64_t seed,
                double oTol) {
  std::vector<int64_t> qLens = {1, 7, 65, 1, 0}, kvLens = {1, 63, 239, 239, 4};
  if (!variant.needsQLenAtMostKvLen) {
    qLens.insert(qLens.end(), {9, 3});
    kvLens.insert(kvLens.end(), {5, 0});
  }
  auto context = makeContext();
  ParsedKernel sdpa = parseKernel(*context, sdpaKernel(shape, variant));
  AttentionInputs in = randomInputs(sdpa.kernel, qLens, kvLens, seed);
  AttentionOutputs expected = run(sdpa.kernel, in);

  for (const Form &form : kForms) {
    INFO("form: " << form.name);
    ParsedKernel lowered =
        parseKernel(*context, programKernel(shape, variant, form.blockQ,
                                            form.blockKV, form.addressing));
    AttentionOutputs actual = run(lowered.kernel, in);
    OutputDiff diff = compareOutputs(actual, expected);
    INFO(diff.firstMismatch);
    CHECK(diff.nonFiniteMismatches == 0);
    CHECK(diff.oRelErr <= oTol);
    CHECK(diff.lseMaxAbsDiff <= 1e-3);
  }
}

struct Layout {
  const char *name;
  int64_t pageSize;
};
const Layout kLayouts[] = {
    {"dense", 0}, {"paged-1", 1}, {"paged-5", 5}, {"paged-16", 16}};
} // namespace

TEST_CASE("lowered bf16 programs match attn.sdpa", "[interp][lowered]") {
  std::vector<Variant> variants = {causalVariant(),   slidingWindowVariant(),
                                   softcapVariant(),  alibiVariant(),
                                   prefixLMVariant(), documentVariant()};
  uint64_t seed = 100;
  for (const Variant &variant : variants)
    for (const Layout &layout : kLayouts) {
      ++seed;
      DYNAMIC_SECTION(variant.name << ", " << layout.name) {
        KernelShape shape;
        shape.headDim = 128;
        shape.qHeads = 4;
        shape.kvHeads = 1; // 4:1
        shape.pageSize = layout.pageSize;
        checkForms(shape, variant, seed, 1e-2);
      }
    }
}

TEST_CASE("lowered fp16 programs match attn.sdpa", "[interp][lowered]") {
  std::vector<Variant> variants = {causalVariant(), alibiVariant(),
                                   mixedScoreVariant()};
  uint64_t seed = 200;
  for (const Variant &variant : variants)
    for (int64_t pageSize : {int64_t(0), int64_t(5)}) {
      ++seed;
      DYNAMIC_SECTION(variant.name << ", page size " << pageSize) {
        KernelShape shape;
        shape.dtype = "f16";
        shape.headDim = 80;
        shape.qHeads = 6;
        shape.kvHeads = 2;
        shape.pageSize = pageSize;
        checkForms(shape, variant, seed, 2e-3);
      }
    }
}

TEST_CASE("lowered programs keep the exact fixtures", "[interp][lowered]") {
  auto context = makeContext();
  KernelShape shape;
  shape.pageSize = 16;
  ParsedKernel lowered =
      parseKernel(*context, programKernel(shape, causalVariant(), 16, 16,
                                          Addressing::Explicit));

  SECTION("fully masked rows: o = 0, lse = -inf") {
    AttentionInputs in = randomInputs(lowered.kernel, {9}, {5}, 11);
    AttentionOutputs out = run(lowered.kernel, in);
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t h = 0; h < 8; ++h) {
        CHECK(out.lse[i * 8 + h] == -std::numeric_limits<double>::infinity());
        for (int64_t e = 0; e < 64; ++e)
          CHECK(out.o[(i * 8 + h) * 64 + e] == 0.0);
      }
  }

  SECTION("one visible key gives exactly that key's V") {
    AttentionInputs in = randomInputs(lowered.kernel, {1}, {1}, 12);
    AttentionOutputs out = run(lowered.kernel, in);
    int64_t page = in.blockTable[0];
    for (int64_t h = 0; h < 8; ++h)
      for (int64_t e = 0; e < 64; ++e)
        CHECK(out.o[h * 64 + e] ==
              in.vCache.f[((page * 16) * 2 + h / 4) * 64 + e]);
  }
}

TEST_CASE("a wrong page read poisons the output", "[interp][lowered]") {
  auto context = makeContext();
  KernelShape shape;
  shape.pageSize = 5;
  ParsedKernel sdpa = parseKernel(*context, sdpaKernel(shape, causalVariant()));
  // Off by one page: the last page of a sequence reads the table's unused
  // slot, which points at a NaN-filled spare page.
  std::string text =
      programKernel(shape, causalVariant(), 0, 0, Addressing::Explicit);
  std::string from = "%pi = arith.divsi %row, %ps : i32\n";
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(),
               "%pi0 = arith.divsi %row, %ps : i32\n"
               "        %one = arith.constant 1 : i32\n"
               "        %pi = arith.addi %pi0, %one : i32\n");
  ParsedKernel wrong = parseKernel(*context, text);
  AttentionInputs in = randomInputs(sdpa.kernel, {4}, {23}, 13);
  OutputDiff diff = compareOutputs(run(wrong.kernel, in), run(sdpa.kernel, in));
  CHECK(diff.nonFiniteMismatches > 0);
}
