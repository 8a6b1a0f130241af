//===- NumericsTest.cpp - Rounding, comparison and random inputs ----------===//
#include "InterpTestSupport.h"

#include <set>

using namespace attnc;
using namespace attnc::test;

TEST_CASE("rounding to f16 is round-to-nearest-even", "[interp][numerics]") {
  CHECK(roundToF16(1.0) == 1.0);
  CHECK(roundToF16(1 + 0x1p-11) == 1.0);            // tie: to even
  CHECK(roundToF16(1 + 3 * 0x1p-11) == 1 + 0x1p-9); // tie: to even
  CHECK(roundToF16(1 + 0x1p-11 + 0x1p-30) == 1 + 0x1p-10);
  CHECK(roundToF16(-1 - 0x1p-11 - 0x1p-30) == -1 - 0x1p-10);
  CHECK(roundToF16(65504) == 65504);
  CHECK(roundToF16(65519) == 65504);
  CHECK(roundToF16(65520) == std::numeric_limits<double>::infinity());
  CHECK(roundToF16(-1e6) == -std::numeric_limits<double>::infinity());
  CHECK(roundToF16(0x1p-24) == 0x1p-24); // smallest subnormal
  CHECK(roundToF16(0x1p-25) == 0.0);     // tie: to even (zero)
  CHECK(roundToF16(3 * 0x1p-26) == 0x1p-24);
  CHECK(roundToF16(0x1p-14 + 0x1p-25) == 0x1p-14); // subnormal spacing
  CHECK(std::signbit(roundToF16(-0.0)));
  CHECK(std::isnan(roundToF16(std::nan(""))));
}

TEST_CASE("rounding to bf16 is round-to-nearest-even", "[interp][numerics]") {
  CHECK(roundToBF16(1 + 0x1p-8) == 1.0);
  CHECK(roundToBF16(1 + 3 * 0x1p-8) == 1 + 0x1p-6);
  CHECK(roundToBF16(1 + 0x1p-8 + 0x1p-20) == 1 + 0x1p-7);
  CHECK(roundToBF16(0.1) == 0.10009765625);
  CHECK(roundToBF16(3.0e38) == 0x1.c4p127);
  CHECK(roundToBF16(0x1.ffp127) == std::numeric_limits<double>::infinity());
  CHECK(roundToBF16(0x1p-133) == 0x1p-133); // smallest subnormal
  CHECK(roundToBF16(0x1p-134) == 0.0);
}

/// Round-to-nearest-even by scaling to an integer, as a second opinion.
static double slowRound(double x, int precision, int minExp) {
  int exp;
  std::frexp(x, &exp);
  int quantumExp = std::max(exp - 1, minExp) - precision + 1;
  return std::ldexp(std::nearbyint(std::ldexp(x, -quantumExp)), quantumExp);
}

TEST_CASE("rounding agrees with scaling to integers", "[interp][numerics]") {
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 11;
  };
  int mismatches = 0;
  std::string first;
  auto check = [&](double got, double want, double x, const char *what) {
    if (got == want)
      return;
    if (mismatches++ == 0)
      first = std::string(what) + " of " + std::to_string(x);
  };
  for (int n = 0; n < 200000; ++n) {
    // Random significands over exponents from f16's subnormals to its
    // overflow; shifted by +-110 for bf16's.
    double x = std::ldexp(double(next() | 1) * 0x1p-53, int(next() % 60) - 30);
    if (next() & 1)
      x = -x;
    if (std::fabs(x) < 65504)
      check(roundToF16(x), slowRound(x, 11, -14), x, "f16");
    double y = std::ldexp(x, n % 2 ? 100 : -110);
    if (std::fabs(y) < 0x1.fep127)
      check(roundToBF16(y), slowRound(y, 8, -126), y, "bf16");
    // Exact ties: halfway between two neighbours.
    double tie = slowRound(x, 12, -15);
    if (std::fabs(tie) < 65504)
      check(roundToF16(tie), slowRound(tie, 11, -14), tie, "f16 tie");
  }
  INFO(first);
  CHECK(mismatches == 0);
}

TEST_CASE("compareOutputs", "[interp][numerics]") {
  const double inf = std::numeric_limits<double>::infinity();
  AttentionOutputs expected{{1, 2, 0, 0}, {0.5, -inf}};
  AttentionOutputs actual = expected;
  SECTION("equal outputs") {
    OutputDiff diff = compareOutputs(actual, expected);
    CHECK(diff.within(0, 0));
  }
  SECTION("relative error over O and max LSE difference") {
    actual.o[1] = 2.1;
    actual.lse[0] = 0.52;
    OutputDiff diff = compareOutputs(actual, expected);
    CHECK(diff.oRelErr == Approx(0.1 / std::sqrt(5.0)));
    CHECK(diff.lseMaxAbsDiff == Approx(0.02));
    CHECK(diff.nonFiniteMismatches == 0);
    CHECK(diff.within(0.05, 0.03));
    CHECK(!diff.within(0.01, 0.03));
  }
  SECTION("-inf must meet -inf") {
    actual.lse[1] = -1e30;
    OutputDiff diff = compareOutputs(actual, expected);
    CHECK(diff.nonFiniteMismatches == 1);
    CHECK_THAT(diff.firstMismatch, Catch::Matchers::Contains("lse[1]"));
  }
  SECTION("NaN meets NaN, and only NaN") {
    // A NaN input propagates to the same outputs everywhere.
    actual.o[3] = std::nan("");
    expected.o[3] = std::nan("");
    CHECK(compareOutputs(actual, expected).nonFiniteMismatches == 0);
    expected.o[3] = 0.5;
    CHECK(compareOutputs(actual, expected).nonFiniteMismatches == 1);
    actual.o[3] = 0.5;
    expected.lse[0] = std::nan("");
    CHECK(compareOutputs(actual, expected).nonFiniteMismatches == 1);
  }
  SECTION("sizes must match") {
    actual.o.pop_back();
    CHECK(compareOutputs(actual, expected).nonFiniteMismatches == 1);
  }
}

TEST_CASE("random inputs poison what a kernel must not read",
          "[interp][numerics]") {
  auto context = makeContext();
  KernelShape shape;
  shape.pageSize = 5;
  Variant variant = prefixLMVariant();
  variant.params += "  attn.param @slope : f32 [q_heads]\n"
                    "  attn.param @doc : i32 [batch, ?]\n"
                    "  attn.param @cap : f32\n";
  ParsedKernel parsed = parseKernel(*context, sdpaKernel(shape, variant));
  AttentionInputs in = randomInputs(parsed.kernel, {3, 1, 4}, {11, 5, 17}, 42);

  for (double x : in.q.f) {
    CHECK(x != 0);
    CHECK(x == roundToBF16(x));
    CHECK(std::fabs(x) <= 1);
  }
  // Pages 3 + 1 + 4 are used, the rest are spare; every slot of a used page
  // past kv_len and every spare page is NaN.
  int64_t numPages = in.kCache.shape[0];
  CHECK(numPages == 8 + 3);
  CHECK(in.maxPages == 5);
  int64_t rowSize = 2 * 64;
  std::vector<int> rowsRead(numPages * 5, 0);
  std::set<int32_t> usedPages;
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t row = 0; row < in.kvLens[b]; ++row) {
      int32_t page = in.blockTable[b * in.maxPages + row / 5];
      usedPages.insert(page);
      ++rowsRead[page * 5 + row % 5];
    }
  CHECK(usedPages.size() == 8);
  for (int64_t r = 0; r < numPages * 5; ++r) {
    CHECK(rowsRead[r] <= 1);
    bool nan = std::isnan(in.kCache.f[r * rowSize]) &&
               std::isnan(in.vCache.f[r * rowSize + rowSize - 1]);
    CHECK(nan == (rowsRead[r] == 0));
  }
  // Unused table slots point at spare pages.
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t slot = (in.kvLens[b] + 4) / 5; slot < in.maxPages; ++slot)
      CHECK(usedPages.count(in.blockTable[b * in.maxPages + slot]) == 0);

  const HostTensor &slope = in.params.at("slope");
  CHECK(slope.shape == std::vector<int64_t>{8});
  CHECK(slope.f[0] == std::exp2(-1.0));
  CHECK(slope.f[7] == std::exp2(-8.0));
  const HostTensor &prefix = in.params.at("prefix");
  for (int64_t b = 0; b < 3; ++b) {
    CHECK(prefix.i[b] >= 0);
    CHECK(prefix.i[b] <= in.kvLens[b]);
  }
  const HostTensor &doc = in.params.at("doc");
  CHECK(doc.shape == std::vector<int64_t>{3, 17});
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t j = 1; j < 17; ++j)
      CHECK(doc.i[b * 17 + j] >= doc.i[b * 17 + j - 1]);
  CHECK(in.params.at("cap").shape.empty());

  // Same seed, same inputs.
  AttentionInputs again =
      randomInputs(parsed.kernel, {3, 1, 4}, {11, 5, 17}, 42);
  CHECK(again.blockTable == in.blockTable);
  CHECK(again.q.f == in.q.f);
}
