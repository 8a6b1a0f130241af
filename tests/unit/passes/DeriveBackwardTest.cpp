//===- DeriveBackwardTest.cpp - The derived score gradient, numerically ---===//
//
// attn-derive-backward's attn.score_grad must equal the score modifier's
// derivative. Checked against central finite differences of the score
// region itself (evaluated by the interpreter, which never sees the
// derivation), at random scores, heads and positions, for every example
// spec with a score modifier and a set of specs covering every rule. Points
// within a step of a kink (floor, |x| at 0, a select's boundary) are
// recognised by their one-sided differences disagreeing and left out; at
// most a small share may be. The attn.param_grad ops of requires_grad
// params are checked the same way, with a param element moved instead of
// the score.
//
//===----------------------------------------------------------------------===//
#include "ReadExample.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "interp/Interpreter.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

using namespace mlir;
using namespace attnc;

namespace {

using test::readExample;

/// A spec around a score expression (and param lines).
std::string scoreSpec(const std::string &name, const std::string &params,
                      const std::string &score) {
  return "attention " + name +
         " {\n  dtype = fp16; head_dim = 32; q_heads = 4; kv_heads = 2\n"
         "  kv_cache = dense\n" +
         params + "  score = " + score + "\n  mask = kv <= q\n}\n";
}

/// `text`'s kernels with attn-derive-backward run on them.
OwningOpRef<ModuleOp> derived(MLIRContext &context, const std::string &name,
                              const std::string &text) {
  dsl::SourceFile file{name, text};
  dsl::DiagnosticEngine diags(file);
  std::optional<dsl::Module> module = dsl::parseAndCheck(file, diags);
  REQUIRE(module);
  OwningOpRef<ModuleOp> ir = buildModule(context, *module);
  REQUIRE(ir);
  PassManager pm(&context);
  pm.nest<attn::KernelOp>().addPass(createAttnDeriveBackward());
  REQUIRE(succeeded(pm.run(*ir)));
  return ir;
}

/// Random inputs of one 64 x 64 sequence (params included) for `kernel`.
FailureOr<AttentionInputs> oneSequence(attn::KernelOp kernel,
                                       std::mt19937 &rng) {
  RandomInputSpec shape;
  shape.qLens = {64};
  shape.kvLens = {64};
  shape.seed = rng();
  std::string error;
  FailureOr<AttentionInputs> inputs = makeRandomInputs(kernel, shape, error);
  INFO(error);
  REQUIRE(succeeded(inputs));
  return inputs;
}

/// Checks every kernel of `text` with a score region; returns the points
/// compared.
int checkGradients(MLIRContext &context, const std::string &name,
                   const std::string &text, std::mt19937 &rng) {
  OwningOpRef<ModuleOp> ir = derived(context, name, text);

  int compared = 0;
  for (attn::KernelOp kernel : ir->getOps<attn::KernelOp>()) {
    INFO(name << ": " << kernel.getSymName().str());
    attn::SdpaOp sdpa =
        *kernel.getBody().front().getOps<attn::SdpaOp>().begin();
    auto grads = kernel.getBody().front().getOps<attn::ScoreGradOp>();
    REQUIRE(!grads.empty());
    attn::ScoreGradOp grad = *grads.begin();
    std::string error;
    FailureOr<AttentionInputs> inputs = oneSequence(kernel, rng);
    std::uniform_real_distribution<float> scores(-40.0f, 40.0f);
    std::uniform_int_distribution<int> heads(0, 3), positions(0, 63);
    int skipped = 0;
    const int points = 200;
    for (int i = 0; i < points; ++i) {
      float s = scores(rng);
      int h = heads(rng), q = positions(rng), kv = positions(rng);
      auto f = [&](float x) {
        FailureOr<double> v = evaluateExpression(
            kernel, sdpa.getScoreMod(), *inputs, x, 0, h, q, kv, error);
        INFO(error);
        REQUIRE(succeeded(v));
        return *v;
      };
      FailureOr<double> g = evaluateExpression(kernel, grad.getBody(), *inputs,
                                               s, 0, h, q, kv, error);
      INFO(error);
      REQUIRE(succeeded(g));
      // f32 evaluation: a step of 2^-6 relative keeps rounding (1e-7 |f| /
      // step) and the curvature term both near 1e-4 of |f'|.
      double step = std::ldexp(std::max(1.0, std::fabs(double(s))), -6);
      double fs = f(s), forward = (f(float(s + step)) - fs) / step,
             backward = (fs - f(float(s - step))) / step;
      double central = (forward + backward) / 2;
      double scale = std::max({1.0, std::fabs(*g), std::fabs(central)});
      if (std::fabs(forward - backward) > 0.05 * scale ||
          !std::isfinite(central)) {
        ++skipped; // a kink (or a pole) within a step of s
        continue;
      }
      INFO("s = " << s << ", h = " << h << ", q = " << q << ", kv = " << kv
                  << ": derived " << *g << ", finite differences " << central);
      CHECK(std::fabs(*g - central) <= 2e-2 * scale);
      ++compared;
    }
    INFO(skipped << " of " << points << " points near a kink");
    CHECK(skipped <= points / 10);
  }
  return compared;
}

} // namespace

TEST_CASE("the derived score gradient equals finite differences of the score",
          "[passes][backward]") {
  MLIRContext context;
  std::mt19937 rng(2026);
  int compared = 0;
  for (const char *example : {"gemma2_softcap_local.attn", "alibi.attn"})
    compared += checkGradients(context, example, readExample(example), rng);
  const char *slope = "  param slope : f32[q_heads]\n";
  const std::pair<const char *, const char *> rules[] = {
      {"", "score / (1.0 + abs(score) / 8.0)"},
      {"", "4.0 * sigmoid(score / 4.0) + exp(-score * score / 400.0)"},
      {"", "sin(score / 7.0) * cos(score / 11.0) - score"},
      {"", "sqrt(abs(score) + 1.0) + log(1.0 + exp(score / 8.0))"},
      {"", "pow(abs(score) + 1.0, 1.5) - pow(2.0, score / 16.0)"},
      {"", "max(score, 0.5 * score) + min(score / 3.0, -1.0)"},
      {"", "q >= kv + 8 ? score * 2.0 : -score / 3.0"},
      // Staircases with steps far apart against the finite differences'
      // step: piecewise constant, derivative 0 between the steps.
      {"", "score - 0.01 * pow(abs(score), 1.5) + 0.1 * floor(exp2(score / "
           "32.0))"},
      {slope, "score * slope[h] - slope[h] * float(q - kv)"},
      {"", "4.0 * float(int(score / 32.0)) + exp2(score / 10.0)"},
  };
  int n = 0;
  for (auto [params, score] : rules)
    compared += checkGradients(
        context, "rule" + std::to_string(n),
        scoreSpec("rule" + std::to_string(n++), params, score), rng);
  // Every spec contributes (most points are away from kinks).
  CHECK(compared >= 11 * 150);
}

TEST_CASE("derived parameter gradients equal finite differences of the score",
          "[passes][backward]") {
  // Perturbing element i of a requires_grad param moves the score by the
  // sum of the partials of every read at i (two reads of `bias` meet where
  // q == kv): that sum, from the attn.param_grad ops, against central
  // differences of the score region with the param element moved.
  MLIRContext context;
  std::mt19937 rng(2027);
  const std::string text = scoreSpec(
      "learnable",
      "  param slope : f32[q_heads] requires_grad\n"
      "  param bias : f32[q_heads, 64] requires_grad\n"
      "  param gain : f32 requires_grad\n",
      "30.0 * tanh((score * gain - slope[h] * float(q - kv) + bias[h, kv] - "
      "bias[h, q]) / 30.0) + exp(-bias[h, kv] * bias[h, kv])");
  OwningOpRef<ModuleOp> ir = derived(context, "learnable.attn", text);
  attn::KernelOp kernel = *ir->getOps<attn::KernelOp>().begin();
  attn::SdpaOp sdpa = *kernel.getBody().front().getOps<attn::SdpaOp>().begin();
  std::map<std::string, std::vector<attn::ParamGradOp>> grads;
  for (attn::ParamGradOp grad :
       kernel.getBody().front().getOps<attn::ParamGradOp>())
    grads[grad.getParam().str()].push_back(grad);
  REQUIRE(grads["slope"].size() == 1);
  // bias[h, kv] three times (once in tanh, twice in exp), bias[h, q] once.
  REQUIRE(grads["bias"].size() == 4);
  REQUIRE(grads["gain"].size() == 1);

  std::string error;
  FailureOr<AttentionInputs> inputs = oneSequence(kernel, rng);
  std::uniform_real_distribution<float> scores(-40.0f, 40.0f);
  std::uniform_int_distribution<int> heads(0, 3), positions(0, 63);
  int compared = 0;
  for (int point = 0; point < 100; ++point) {
    float s = scores(rng);
    int h = heads(rng), q = positions(rng), kv = positions(rng);
    // Every tenth point on the diagonal, where both bias reads meet.
    if (point % 10 == 0)
      kv = q;
    for (auto &[name, ops] : grads) {
      std::map<int64_t, double> derived; // element -> summed partial
      for (attn::ParamGradOp op : ops) {
        FailureOr<ParamGradValue> v =
            evaluateParamGrad(kernel, op, *inputs, s, 0, h, q, kv, error);
        INFO(error);
        REQUIRE(succeeded(v));
        REQUIRE(v->element >= 0);
        derived[v->element] += v->partial;
      }
      for (auto [element, partial] : derived) {
        AttentionInputs moved = *inputs;
        double &x = moved.params.at(name).f.at(element);
        double step = std::ldexp(std::max(1.0, std::fabs(x)), -6);
        auto f = [&](double value) {
          x = value;
          FailureOr<double> r = evaluateExpression(
              kernel, sdpa.getScoreMod(), moved, s, 0, h, q, kv, error);
          INFO(error);
          REQUIRE(succeeded(r));
          return *r;
        };
        double x0 = x;
        double central = (f(x0 + step) - f(x0 - step)) / (2 * step);
        double scale = std::max({1.0, std::fabs(partial), std::fabs(central)});
        INFO(name << "[" << element << "] at s = " << s << ", h = " << h
                  << ", q = " << q << ", kv = " << kv << ": derived " << partial
                  << ", finite differences " << central);
        CHECK(std::fabs(partial - central) <= 2e-2 * scale);
        ++compared;
      }
    }
  }
  CHECK(compared >= 300);
}
