//===- ExamplesTest.cpp - The shipped examples and the printer ------------===//

#include "TestUtil.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace attnc::dsl;
using namespace attnc::dsl::test;

TEST_CASE("examples: the expected files are there", "[dsl][examples]") {
  std::vector<std::string> names;
  for (const std::string &path : exampleFiles())
    names.push_back(std::filesystem::path(path).filename().string());
  for (const char *expected :
       {"alibi.attn", "document_mask.attn", "gemma2_softcap_local.attn",
        "llama3_gqa_causal.attn", "mistral_sliding_window.attn",
        "paged_decode.attn", "prefix_lm.attn", "fp8_kv_cache.attn"}) {
    INFO(expected);
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  }
}

TEST_CASE("examples: each parses without a diagnostic", "[dsl][examples]") {
  for (const std::string &path : exampleFiles()) {
    INFO(path);
    ParseResult result = parse(readFile(path), path);
    INFO(result.rendered());
    CHECK(result.diags->diagnostics().empty());
    REQUIRE(result.module);
    CHECK_FALSE(result.module->specs.empty());
    CHECK(result.module->fileName == path);
    for (const AttentionSpec &spec : result.module->specs)
      checkTypeContract(spec);
    // Each file says on its first line what it stands for.
    CHECK(readFile(path).rfind("# ", 0) == 0);
  }
}

TEST_CASE("examples: what they mean", "[dsl][examples]") {
  auto load = [](const char *name) {
    return parse(readFile(sourceDir() + "/examples/" + name), name);
  };
  ParseResult llama = load("llama3_gqa_causal.attn");
  const AttentionSpec &causal = onlySpec(llama);
  CHECK(causal.dtype == DType::BF16);
  CHECK(causal.headDim == 128);
  CHECK(causal.qHeads == 32);
  CHECK(causal.kvHeads == 8);
  CHECK(causal.scale == 0.08838834764831845);

  ParseResult gemma = load("gemma2_softcap_local.attn");
  REQUIRE(gemma.module);
  REQUIRE(gemma.module->specs.size() == 2);
  const AttentionSpec &local = gemma.module->specs[0];
  CHECK(local.kvCache == KVCacheKind::Paged);
  CHECK(local.pageSize == 16);
  CHECK(local.scale == 0.0625);

  ParseResult decode = load("paged_decode.attn");
  CHECK(onlySpec(decode).pageSize == 16);

  ParseResult document = load("document_mask.attn");
  const AttentionSpec &doc = onlySpec(document);
  REQUIRE(doc.params.size() == 1);
  CHECK(doc.params[0].dims.size() == 2);
  CHECK(doc.params[0].dims[1].kind == ParamDim::Kind::Dynamic);
}

TEST_CASE("examples: print and reparse is stable", "[dsl][examples]") {
  for (const std::string &path : exampleFiles()) {
    INFO(path);
    ParseResult first = parse(readFile(path), path);
    REQUIRE(first.module);
    std::string printed = printModule(*first.module);
    ParseResult second = parse(printed, "printed.attn");
    INFO(printed);
    INFO(second.rendered());
    REQUIRE(second.module);
    CHECK(printModule(*second.module) == printed);
    REQUIRE(second.module->specs.size() == first.module->specs.size());
    for (size_t i = 0; i < first.module->specs.size(); ++i) {
      const AttentionSpec &a = first.module->specs[i];
      const AttentionSpec &b = second.module->specs[i];
      CHECK(a.name == b.name);
      CHECK(a.scale == b.scale);
      CHECK(a.pageSize == b.pageSize);
      CHECK(a.params.size() == b.params.size());
    }
  }
}

TEST_CASE("printer: canonical form", "[dsl][printer]") {
  ParseResult result = parse(
      "attention x { dtype = bf16; head_dim = 32; q_heads = 4; kv_heads = 2\n"
      "  kv_cache = paged(page_size = 8)\n"
      "  param cap : f32; param doc : i32[batch, ?, kv_heads, 3]\n"
      "  mask = !(q < kv) || doc[b, q, 0, 1] == 2 ? true : false\n"
      "  score = q < kv ? -cap * score : 0.1 + -2 - - 2e+20\n"
      "  scale = 1 }");
  REQUIRE(result.module);
  CHECK(printModule(*result.module) ==
        "attention x {\n"
        "  dtype = bf16\n"
        "  head_dim = 32\n"
        "  q_heads = 4\n"
        "  kv_heads = 2\n"
        "  kv_cache = paged(page_size = 8)\n"
        "  param cap : f32\n"
        "  param doc : i32[batch, ?, kv_heads, 3]\n"
        "  scale = 1\n"
        "  score = (q < kv) ? (-cap * score) : ((0.1 + -2) - -2e+20)\n"
        "  mask = (!(q < kv) || (doc[b, q, 0, 1] == 2)) ? true : false\n"
        "}\n");
}

TEST_CASE("printer: a minus before a literal stays an operator",
          "[dsl][printer]") {
  for (const char *score : {"-(0)", "-(2.5)", "-(-3)", "--3", "- -0.5"}) {
    INFO(score);
    ParseResult first = parse(blockWith(std::string("score = ") + score));
    REQUIRE(first.module);
    std::string printed = printModule(*first.module);
    ParseResult second = parse(printed);
    REQUIRE(second.module);
    CHECK(printModule(*second.module) == printed);
    CHECK(onlySpec(second).score->kind == onlySpec(first).score->kind);
  }
}

TEST_CASE("printer: floats survive the round trip exactly", "[dsl][printer]") {
  for (const char *literal :
       {"0.1", "1e-07", "3.4028234663852886e+38", "1.401298464324817e-45",
        "123456.0", "2.5", "0.3333333333333333"}) {
    INFO(literal);
    ParseResult result =
        parse(blockWith(std::string("score = score * ") + literal));
    const AttentionSpec &spec = onlySpec(result);
    double value = spec.score->operands[1]->floatValue;
    std::string printed = printModule(*result.module);
    CHECK_THAT(printed, Catch::Contains(std::string("score * ") + literal));
    ParseResult again = parse(printed);
    CHECK(onlySpec(again).score->operands[1]->floatValue == value);
  }
}
