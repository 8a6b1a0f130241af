//===- SemaTest.cpp - Types, conversions, folding and defaults ------------===//

#include "TestUtil.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace attnc::dsl;
using namespace attnc::dsl::test;

namespace {
using VT = ValueType;

/// The checked spec of `blockWith(entries)`; fails the test on errors.
struct Checked {
  ParseResult result;
  const AttentionSpec &spec() const { return onlySpec(result); }
};
Checked check(const std::string &entries) {
  Checked checked{parse(blockWith(entries))};
  const AttentionSpec &spec = checked.spec();
  checkTypeContract(spec);
  return checked;
}
} // namespace

TEST_CASE("sema: defaults", "[dsl][sema]") {
  Checked checked = check("");
  const AttentionSpec &spec = checked.spec();
  CHECK(spec.dtype == DType::F16);
  CHECK(spec.kvCache == KVCacheKind::Dense);
  CHECK(spec.pageSize == 0);
  CHECK_FALSE(spec.scaleExpr);
  CHECK(spec.scale == 0.125); // 1 / sqrt(64), exactly
  CHECK_FALSE(spec.score);
  CHECK_FALSE(spec.mask);
  CHECK(spec.params.empty());
}

TEST_CASE("sema: the ends of each range are accepted", "[dsl][sema]") {
  // ErrorTest.cpp has the values just outside.
  for (int pageSize : {1, 256}) {
    INFO("page_size = " << pageSize);
    Checked checked =
        check("kv_cache = paged(page_size = " + std::to_string(pageSize) + ")");
    CHECK(checked.spec().kvCache == KVCacheKind::Paged);
    CHECK(checked.spec().pageSize == pageSize);
  }
  for (int headDim : {16, 256}) {
    INFO("head_dim = " << headDim);
    ParseResult result = parse(
        "attention a { dtype = fp16; head_dim = " + std::to_string(headDim) +
        "; q_heads = 1; kv_heads = 1 }");
    CHECK(onlySpec(result).headDim == headDim);
  }
}

TEST_CASE("sema: scale is folded in double precision", "[dsl][sema]") {
  ParseResult result = parse("attention a { dtype = bf16; head_dim = 128; "
                             "q_heads = 8; kv_heads = 8\n"
                             "scale = 1 / sqrt(head_dim) }");
  const AttentionSpec &spec = onlySpec(result);
  CHECK(spec.scale == 0.08838834764831845);
  REQUIRE(spec.scaleExpr);
  checkTypeContract(*spec.scaleExpr);
  // The defaulted scale is the same number.
  ParseResult defaulted = parse("attention a { dtype = bf16; head_dim = 128; "
                                "q_heads = 8; kv_heads = 8 }");
  CHECK(onlySpec(defaulted).scale == 0.08838834764831845);

  // Correctly rounded, where 1.0 / std::sqrt(d) in double is one ulp off
  // for all of these but 32.
  struct Exact {
    int headDim;
    double scale;
  };
  for (const Exact &e :
       {Exact{32, 0.1767766952966369}, Exact{96, 0.10206207261596575},
        Exact{112, 0.09449111825230681}, Exact{128, 0.08838834764831845},
        Exact{240, 0.06454972243679029}}) {
    std::string head =
        "attention a { dtype = fp16; head_dim = " + std::to_string(e.headDim) +
        "; q_heads = 1; kv_heads = 1";
    ParseResult explicitScale = parse(head + "; scale = 1 / sqrt(head_dim) }");
    ParseResult defaultScale = parse(head + " }");
    CHECK(onlySpec(explicitScale).scale == e.scale);
    CHECK(onlySpec(defaultScale).scale == e.scale);
  }

  struct Case {
    const char *scale;
    double value;
  };
  for (const Case &c : {
           Case{"0.5 * 2", 1.0},
           Case{"1", 1.0},
           Case{"head_dim / 48", 1.0}, // i32 division: 64 / 48 == 1
           Case{"head_dim / 48.0", 64.0 / 48.0},
           Case{"7 % 4 * q_heads", 24.0},
           Case{"q_heads > 4 ? 0.25 : 0.5", 0.25},
           Case{"exp(log(2.0)) / kv_heads", std::exp(std::log(2.0)) / 2},
           Case{"max(1, 0.5) + min(2, abs(-3))", 3.0},
           Case{"1 / sqrt(head_dim) * log(2)", std::log(2.0) / 8},
           Case{"tanh(1)", std::tanh(1.0)},
       }) {
    INFO(c.scale);
    Checked checked = check(std::string("scale = ") + c.scale);
    CHECK(checked.spec().scale == Approx(c.value).epsilon(1e-15));
    // An int scale is converted like an int score.
    CHECK(checked.spec().scaleExpr->type == VT::Float);
  }
}

TEST_CASE("sema: softcap score types", "[dsl][sema]") {
  Checked checked = check("score = 50.0 * tanh(score / 50.0)");
  const Expr &mul = *checked.spec().score;
  CHECK(mul.type == VT::Float);
  const Expr &tanhCall = *mul.operands[1];
  CHECK(tanhCall.kind == ExprKind::Call);
  CHECK(tanhCall.builtin == Builtin::Tanh);
  const Expr &div = *tanhCall.operands[0];
  CHECK(div.operands[0]->kind == ExprKind::Var);
  CHECK(div.operands[0]->type == VT::Float);
  // No conversion was needed anywhere.
  CHECK(div.operands[1]->kind == ExprKind::FloatLit);
}

TEST_CASE("sema: an int operand of a float operation gets a Convert",
          "[dsl][sema]") {
  Checked checked = check("param slope : f32[q_heads]\n"
                          "score = score - slope[h] * (q - kv)");
  const Expr &sub = *checked.spec().score;
  const Expr &mul = *sub.operands[1];
  CHECK(mul.type == VT::Float);
  CHECK(mul.operands[0]->kind == ExprKind::ParamRef);
  CHECK(mul.operands[0]->type == VT::Float);
  CHECK(mul.operands[0]->operands[0]->type == VT::Int); // the index h
  const Expr &convert = *mul.operands[1];
  REQUIRE(convert.kind == ExprKind::Convert);
  CHECK(convert.type == VT::Float);
  CHECK(convert.loc.col == convert.operands[0]->loc.col);
  const Expr &distance = *convert.operands[0];
  CHECK(distance.kind == ExprKind::Binary);
  CHECK(distance.binaryOp == BinaryOp::Sub);
  CHECK(distance.type == VT::Int);
}

TEST_CASE("sema: an int score is converted at the root", "[dsl][sema]") {
  Checked checked = check("score = q / 2 + q % 3");
  const Expr &root = *checked.spec().score;
  REQUIRE(root.kind == ExprKind::Convert);
  CHECK(root.operands[0]->type == VT::Int);
  CHECK(root.operands[0]->binaryOp == BinaryOp::Add);
}

TEST_CASE("sema: comparisons, logic and selects", "[dsl][sema]") {
  {
    Checked checked = check("mask = kv <= q && q - kv < 4096");
    const Expr &andExpr = *checked.spec().mask;
    CHECK(andExpr.type == VT::Bool);
    CHECK(andExpr.operands[1]->operands[0]->type == VT::Int); // no Convert
  }
  {
    Checked checked = check("mask = q < 1.5");
    const Expr &lt = *checked.spec().mask;
    CHECK(lt.operands[0]->kind == ExprKind::Convert);
    CHECK(lt.operands[1]->kind == ExprKind::FloatLit);
  }
  {
    Checked checked = check("mask = (q < kv) == true != !false");
    CHECK(checked.spec().mask->operands[0]->operands[0]->type == VT::Bool);
  }
  {
    Checked checked = check("score = q < kv ? 1 : 2.5");
    const Expr &select = *checked.spec().score;
    CHECK(select.type == VT::Float);
    CHECK(select.operands[1]->kind == ExprKind::Convert);
    CHECK(select.operands[2]->kind == ExprKind::FloatLit);
  }
  {
    Checked checked = check("mask = q < 4 ? kv < 2 : true");
    CHECK(checked.spec().mask->type == VT::Bool);
  }
}

TEST_CASE("sema: builtin functions", "[dsl][sema]") {
  {
    Checked checked = check("score = exp(q) + log(2) + sqrt(score)");
    const Expr &add = *checked.spec().score;
    const Expr &expCall = *add.operands[0]->operands[0];
    CHECK(expCall.builtin == Builtin::Exp);
    CHECK(expCall.operands[0]->kind == ExprKind::Convert);
  }
  {
    // abs keeps the type of its argument.
    Checked checked = check("mask = abs(q - kv) < 8 && abs(score2) > 0.5\n"
                            "param score2 : f32");
    const Expr &andExpr = *checked.spec().mask;
    CHECK(andExpr.operands[0]->operands[0]->type == VT::Int);
    CHECK(andExpr.operands[1]->operands[0]->type == VT::Float);
  }
  {
    Checked checked = check("score = min(q, 2.5) + max(q, kv)");
    const Expr &add = *checked.spec().score;
    const Expr &minCall = *add.operands[0];
    CHECK(minCall.type == VT::Float);
    CHECK(minCall.operands[0]->kind == ExprKind::Convert);
    CHECK(add.operands[1]->kind == ExprKind::Convert); // max(q, kv) is Int
    CHECK(add.operands[1]->operands[0]->type == VT::Int);
  }
}

TEST_CASE("sema: params", "[dsl][sema]") {
  // Use before declaration is fine; entries are declarative.
  Checked checked = check("mask = doc[b, q] == doc[b, kv] && kv < len[b] && "
                          "q < limit\n"
                          "param doc : i32[batch, ?]\n"
                          "param len : i32[batch]\n"
                          "param limit : i32");
  const AttentionSpec &spec = checked.spec();
  REQUIRE(spec.params.size() == 3);
  CHECK(spec.params[2].dims.empty());
  const Expr &docRef = *spec.mask->operands[0]->operands[0]->operands[0];
  CHECK(docRef.kind == ExprKind::ParamRef);
  CHECK(docRef.name == "doc");
  CHECK(docRef.type == VT::Int);
  CHECK(docRef.operands.size() == 2);
}

TEST_CASE("sema: an fp8 K/V cache and its scales", "[dsl][sema]") {
  Checked checked = check("kv_dtype = e4m3\n"
                          "param ks : f32[kv_heads]\n"
                          "k_scale = ks[h / 4]\n"
                          "v_scale = 2");
  const AttentionSpec &spec = checked.spec();
  CHECK(spec.dtype == DType::F16);
  CHECK(spec.kvDtype == DType::E4M3);
  REQUIRE(spec.kScale);
  CHECK(spec.kScale->kind == ExprKind::ParamRef);
  // An int factor is converted, as for score and sink.
  REQUIRE(spec.vScale);
  CHECK(spec.vScale->kind == ExprKind::Convert);
  CHECK(check("kv_dtype = e5m2").spec().kvDtype == DType::E5M2);
  // Without kv_dtype, or with the dtype itself, K/V have the dtype.
  CHECK(check("").spec().kvDtype == DType::F16);
  CHECK(check("kv_dtype = fp16").spec().kvDtype == DType::F16);
  CHECK_FALSE(check("kv_dtype = e5m2").spec().kScale);
}

TEST_CASE("sema: an attention sink", "[dsl][sema]") {
  Checked checked = check("param sinks : f32[q_heads]\n"
                          "sink = sinks[h] + q % 2");
  const AttentionSpec &spec = checked.spec();
  REQUIRE(spec.sink);
  CHECK(spec.sink->type == VT::Float);
  CHECK(spec.sink->kind == ExprKind::Binary);
  // An int logit is converted at the root, as for score.
  Checked integer = check("sink = h");
  REQUIRE(integer.spec().sink);
  CHECK(integer.spec().sink->kind == ExprKind::Convert);
  CHECK(integer.spec().sink->type == VT::Float);
  CHECK_FALSE(check("mask = kv <= q").spec().sink);
}

TEST_CASE("sema: lets, lengths, conversions and bitwise operators",
          "[dsl][sema]") {
  // C's precedence: shifts above comparisons, & ^ | below ==.
  Checked checked = check("let top = q - (kv_len - q_len)\n"
                          "let dist = top - kv\n"
                          "mask = kv << 1 < top && (dist & 3) == 0\n"
                          "score = score + float(int(score) ^ 1) + inf * 0.0");
  const AttentionSpec &spec = checked.spec();
  REQUIRE(spec.mask);
  const Expr &lt = *spec.mask->operands[0];
  CHECK(lt.binaryOp == BinaryOp::Lt);
  CHECK(lt.operands[0]->binaryOp == BinaryOp::Shl);
  // The let is its value: `top` became q - (kv_len - q_len).
  const Expr &top = *lt.operands[1];
  REQUIRE(top.kind == ExprKind::Binary);
  CHECK(top.binaryOp == BinaryOp::Sub);
  CHECK(top.operands[1]->operands[0]->var == BuiltinVar::KVLen);
  CHECK(top.operands[1]->operands[1]->var == BuiltinVar::QLen);
  const Expr &eq = *spec.mask->operands[1];
  CHECK(eq.binaryOp == BinaryOp::Eq);
  CHECK(eq.operands[0]->binaryOp == BinaryOp::BitAnd);
  CHECK(eq.operands[0]->type == VT::Int);
  REQUIRE(spec.score);
  CHECK(spec.score->type == VT::Float);
}

TEST_CASE("sema: spellings", "[dsl][sema]") {
  CHECK(std::string(spelling(BuiltinVar::KV)) == "kv");
  CHECK(std::string(spelling(BuiltinVar::HeadDim)) == "head_dim");
  CHECK(std::string(spelling(Builtin::Tanh)) == "tanh");
  CHECK(std::string(spelling(UnaryOp::Not)) == "!");
  CHECK(std::string(spelling(BinaryOp::Ne)) == "!=");
  CHECK(std::string(spelling(ValueType::Float)) == "f32");
  CHECK(std::string(spelling(ValueType::Int)) == "i32");
  CHECK(std::string(spelling(ValueType::Bool)) == "i1");
  CHECK(std::string(spelling(DType::BF16)) == "bf16");
}
