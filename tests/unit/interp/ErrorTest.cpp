//===- ErrorTest.cpp - Bad inputs and bad IR give errors, not crashes -----===//
#include "InterpTestSupport.h"

using namespace attnc;
using namespace attnc::test;
using Catch::Matchers::Contains;

namespace {
/// Replaces the first occurrence of `from` in `text`; REQUIREs one exists.
std::string replaceOnce(std::string text, const std::string &from,
                        const std::string &to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string replaceAll(std::string text, const std::string &from,
                       const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}
} // namespace

TEST_CASE("inputs that do not fit the kernel are rejected",
          "[interp][errors]") {
  auto context = makeContext();
  KernelShape shape;
  ParsedKernel alibi = parseKernel(*context, sdpaKernel(shape, alibiVariant()));
  AttentionInputs in = randomInputs(alibi.kernel, {3, 2}, {5, 7}, 1);

  SECTION("a missing parameter") {
    in.params.erase("slope");
    CHECK_THAT(runExpectingError(alibi.kernel, in),
               Contains("missing parameter @slope (f32 [q_heads])"));
  }
  SECTION("a parameter of the wrong shape") {
    in.params["slope"].shape = {3};
    in.params["slope"].f.resize(3);
    CHECK_THAT(runExpectingError(alibi.kernel, in),
               Contains("parameter @slope declared [q_heads] needs extent 8"));
  }
  SECTION("a parameter of the wrong rank") {
    in.params["slope"].shape = {8, 1};
    CHECK_THAT(runExpectingError(alibi.kernel, in), Contains("has rank 1"));
  }
  SECTION("a parameter of the wrong element type") {
    in.params["slope"] = HostTensor::ints({8}, std::vector<int32_t>(8, 1));
    CHECK_THAT(runExpectingError(alibi.kernel, in),
               Contains("parameter @slope must hold f32 values"));
  }
  SECTION("a parameter the kernel does not declare") {
    in.params["slopes"] = HostTensor::floats({}, {1.0});
    CHECK_THAT(runExpectingError(alibi.kernel, in),
               Contains("parameter @slopes is not declared"));
  }
  SECTION("q with the wrong head_dim") {
    in.q.shape[2] = 32;
    CHECK_THAT(runExpectingError(alibi.kernel, in),
               Contains("q has shape [5, 8, 32], expected [5, 8, 64]"));
  }
  SECTION("k with the wrong number of KV heads") {
    in.k.shape = {12, 4, 32};
    CHECK_THAT(runExpectingError(alibi.kernel, in),
               Contains("k has shape [12, 4, 32], expected [12, 2, 64]"));
  }
  SECTION("v with too few values") {
    in.v.f.pop_back();
    CHECK_THAT(runExpectingError(alibi.kernel, in), Contains("v holds"));
  }
  SECTION("qo_indptr that disagrees with q") {
    in.qoIndptr.back() = 6;
    CHECK_THAT(runExpectingError(alibi.kernel, in), Contains("q has shape"));
  }
  SECTION("a decreasing kv_indptr") {
    in.kvIndptr = {0, 9, 5};
    CHECK_THAT(runExpectingError(alibi.kernel, in),
               Contains("kv_indptr decreases at entry 2"));
  }
}

TEST_CASE("paged inputs are checked against the pool", "[interp][errors]") {
  auto context = makeContext();
  KernelShape shape;
  shape.pageSize = 4;
  ParsedKernel sdpa = parseKernel(*context, sdpaKernel(shape, causalVariant()));
  AttentionInputs in = randomInputs(sdpa.kernel, {2, 3}, {9, 6}, 2);
  int64_t numPages = in.kCache.shape[0];

  SECTION("a block-table entry outside the pool, in attn.sdpa") {
    in.blockTable[in.maxPages + 1] = static_cast<int32_t>(numPages + 2);
    CHECK_THAT(runExpectingError(sdpa.kernel, in),
               Contains("block_table[1][1] = " + std::to_string(numPages + 2) +
                        " is outside the page pool of " +
                        std::to_string(numPages) + " pages"));
  }
  SECTION("a negative block-table entry, with logical addressing") {
    ParsedKernel lowered =
        parseKernel(*context, programKernel(shape, causalVariant(), 16, 16,
                                            Addressing::Logical));
    in.blockTable[0] = -1;
    std::string error = runExpectingError(lowered.kernel, in);
    CHECK_THAT(error, Contains("attn.load_k at kernel.mlir:"));
    CHECK_THAT(error,
               Contains("block_table[0][0] = -1 is outside the page pool"));
  }
  SECTION("a block-table entry outside the pool, through an addr region") {
    ParsedKernel lowered =
        parseKernel(*context, programKernel(shape, causalVariant(), 0, 0,
                                            Addressing::Explicit));
    in.blockTable[0] = static_cast<int32_t>(numPages);
    CHECK_THAT(runExpectingError(lowered.kernel, in),
               Contains("key 0 of sequence 0 maps to row " +
                        std::to_string(numPages * 4) + ", outside the " +
                        std::to_string(numPages * 4) + " rows of k_cache"));
  }
  SECTION("an addr region reading past the block table") {
    std::string text =
        programKernel(shape, causalVariant(), 0, 0, Addressing::Explicit);
    text = replaceAll(text, "%page = attn.block_table %b, %pi",
                      "%far = arith.constant 1000 : i32\n"
                      "        %page = attn.block_table %b, %far");
    ParsedKernel lowered = parseKernel(*context, text);
    CHECK_THAT(runExpectingError(lowered.kernel, in),
               Contains("block_table[0][1000] is outside the table's [2, " +
                        std::to_string(in.maxPages) + "] entries"));
  }
  SECTION("kv_lens longer than the table allows") {
    in.kvLens[0] = static_cast<int32_t>(in.maxPages * 4 + 1);
    CHECK_THAT(runExpectingError(sdpa.kernel, in), Contains("kv_lens[0] = "));
  }
  SECTION("a block table of the wrong size") {
    in.blockTable.pop_back();
    CHECK_THAT(runExpectingError(sdpa.kernel, in), Contains("block_table has"));
  }
  SECTION("kv_start on a paged cache") {
    KernelShape dense = shape;
    dense.pageSize = 0;
    std::string text =
        programKernel(dense, causalVariant(), 0, 0, Addressing::Explicit);
    text =
        replaceOnce(text, "kv_cache(dense)", "kv_cache(paged, page_size = 4)");
    ParsedKernel lowered = parseKernel(*context, text);
    CHECK_THAT(runExpectingError(lowered.kernel, in),
               Contains("attn.kv_start"));
  }
}

TEST_CASE("errors inside regions name the op and the element",
          "[interp][errors]") {
  auto context = makeContext();
  KernelShape shape;

  SECTION("a param index out of range reads 0, as in the kernels") {
    // q_len > kv_len puts the first queries at negative positions, and the
    // document mask indexes doc[b, q] with them.
    ParsedKernel kernel =
        parseKernel(*context, sdpaKernel(shape, documentVariant()));
    AttentionInputs in = randomInputs(kernel.kernel, {6}, {4}, 3);
    std::string error;
    mlir::FailureOr<AttentionOutputs> out =
        interpretKernel(kernel.kernel, in, error);
    INFO(error);
    REQUIRE(mlir::succeeded(out));
  }

  SECTION("an op the interpreter does not know") {
    Variant variant = causalVariant();
    variant.scoreBody = "    %x = math.atan %score : f32\n"
                        "    attn.yield %x : f32\n";
    ParsedKernel kernel = parseKernel(*context, sdpaKernel(shape, variant));
    AttentionInputs in = randomInputs(kernel.kernel, {2}, {2}, 4);
    CHECK_THAT(runExpectingError(kernel.kernel, in),
               Contains("math.atan at kernel.mlir:") &&
                   Contains("is not supported by the interpreter"));
  }

  SECTION("a ceil division by zero") {
    // The DSL's `/` and `%` (divsi, remsi) are defined for a zero divisor;
    // the ceil/floor divisions only the passes emit are not.
    Variant variant = causalVariant();
    variant.maskBody = "    %z = arith.constant 0 : i32\n"
                       "    %x = arith.ceildivsi %q, %z : i32\n"
                       "    %c = arith.cmpi sle, %kv, %x : i32\n"
                       "    attn.yield %c : i1\n";
    ParsedKernel kernel = parseKernel(*context, sdpaKernel(shape, variant));
    AttentionInputs in = randomInputs(kernel.kernel, {2}, {2}, 5);
    CHECK_THAT(runExpectingError(kernel.kernel, in),
               Contains("arith.ceildivsi") && Contains("division by zero"));
  }
}

TEST_CASE("lowered programs that break the contract are rejected",
          "[interp][errors]") {
  auto context = makeContext();
  KernelShape shape;
  AttentionInputs in;
  {
    ParsedKernel sdpa =
        parseKernel(*context, sdpaKernel(shape, causalVariant()));
    in = randomInputs(sdpa.kernel, {20, 3}, {30, 3}, 6);
  }
  std::string tiled =
      programKernel(shape, causalVariant(), 16, 16, Addressing::Logical);

  SECTION("a program that never stores LSE") {
    std::string text = replaceOnce(
        tiled, "    attn.store %lse, %b, %h, %qrow0 : tensor<16xf32>\n", "");
    ParsedKernel kernel = parseKernel(*context, text);
    CHECK_THAT(runExpectingError(kernel.kernel, in),
               Contains("LSE of query row 0 of sequence 0, head 0 was never "
                        "stored"));
  }
  SECTION("a q tile that is not the program's block_q") {
    std::string text = replaceOnce(tiled, "attn.tile_start q %qt {tile = 16}",
                                   "attn.tile_start q %qt {tile = 8}");
    ParsedKernel kernel = parseKernel(*context, text);
    CHECK_THAT(runExpectingError(kernel.kernel, in),
               Contains("q tile size (8) differs from the program's query rows "
                        "per tile (16)"));
  }
  SECTION("a tile whose static extents do not fit what was computed") {
    std::string text =
        replaceAll(tiled, "tensor<16x16xf32>", "tensor<16x8xf32>");
    ParsedKernel kernel = parseKernel(*context, text);
    CHECK_THAT(runExpectingError(kernel.kernel, in),
               Contains("attn.qk") &&
                   Contains("computed a [16x16] tile, but the result type is "
                            "tensor<16x8xf32>"));
  }
}
