//===- AstAgreementTest.cpp - The AST reference and the IR agree ----------===//
//
// Two float64 references computed by different code: the AST reference
// (reference/AstReference, evaluated straight from the checked DSL) and the
// IR interpreter running what MLIRGen built from the same AST. Where they
// disagree, MLIRGen lowered the DSL wrongly (`<` as `<=`, a lost wraparound,
// a wrong head mapping). The same specs are then lowered through the whole
// pipeline and interpreted as the GPU would compute them, which checks the
// passes — the mask analysis' tile skipping above all — against an oracle
// that shares none of their code.
//
// Specs: every example and lit input spec, and a few hundred random ones
// whose masks and scores combine every operator, comparison, builtin and
// parameter form of the DSL with positions, heads and large constants
// (wrapping products, runtime division by zero).
//
//===----------------------------------------------------------------------===//
#include "InterpTestSupport.h"
#include "LowerForTest.h"

#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "reference/AstReference.h"

#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

using namespace attnc;
using namespace attnc::test;

namespace {

std::string sourceDir() {
  const char *dir = std::getenv("ATTNC_SOURCE_DIR");
  return dir ? dir : ".";
}

/// Checks one spec: the AST reference against the interpreted attn.sdpa
/// form (tight: both are float64 but for f32 score arithmetic) and against
/// the interpreted lowered kernel (f16/bf16 tolerances).
void checkSpec(mlir::MLIRContext &context, const dsl::AttentionSpec &spec,
               const dsl::Module &module, const RandomInputSpec &shape,
               const PipelineOptions &options) {
  mlir::OwningOpRef<mlir::ModuleOp> ir = buildModule(context, module);
  REQUIRE(ir);
  attn::KernelOp sdpa;
  for (attn::KernelOp k : ir->getOps<attn::KernelOp>())
    if (k.getSymName() == spec.name)
      sdpa = k;
  REQUIRE(sdpa);
  std::string error;
  mlir::FailureOr<AttentionInputs> inputs =
      makeRandomInputs(sdpa, shape, error);
  INFO(error);
  REQUIRE(mlir::succeeded(inputs));

  std::optional<AttentionOutputs> ast = astReference(spec, *inputs, error);
  INFO(error);
  REQUIRE(ast);
  mlir::FailureOr<AttentionOutputs> fromIR =
      interpretKernel(sdpa, *inputs, error);
  REQUIRE(mlir::succeeded(fromIR));
  OutputDiff front = compareOutputs(*fromIR, *ast);
  INFO("attn.sdpa vs AST: o rel err "
       << front.oRelErr << ", lse max diff " << front.lseMaxAbsDiff << ", "
       << front.nonFiniteMismatches << " non-finite mismatches "
       << front.firstMismatch);
  // O to f32-vs-double rounding; LSE absolutely, where scores of a few
  // hundred (exp(score) in a score expression) leave 1e-4 to f32 rounding.
  CHECK(front.within(1e-5, 1e-3));

  mlir::OwningOpRef<mlir::ModuleOp> low = lowerForTest(*ir, options);
  attn::KernelOp program;
  for (attn::KernelOp k : low->getOps<attn::KernelOp>())
    if (k.getSymName() == spec.name)
      program = k;
  inputs->numSplits = options.splitKV ? 3 : 1;
  mlir::FailureOr<AttentionOutputs> fromKernel =
      interpretKernel(program, *inputs, error);
  REQUIRE(mlir::succeeded(fromKernel));
  OutputDiff kernel = compareOutputs(*fromKernel, *ast);
  INFO("lowered vs AST: o rel err "
       << kernel.oRelErr << ", lse max diff " << kernel.lseMaxAbsDiff << ", "
       << kernel.nonFiniteMismatches << " non-finite mismatches "
       << kernel.firstMismatch);
  CHECK(kernel.within(spec.dtype == dsl::DType::BF16 ? 1e-2 : 2e-3, 1e-3));
}

/// Random masks and scores over the whole expression language.
class SpecFuzzer {
public:
  explicit SpecFuzzer(uint64_t seed) : rng(seed) {}

  std::string spec(int index) {
    usesPrefix = usesDoc = usesSlope = false;
    std::string mask = boolExpr(3);
    if (pick(3) == 0)
      mask = "kv <= q && (" + mask + ")";
    std::string score = scoreExpr();
    int heads[][2] = {{2, 2}, {4, 2}, {6, 2}, {3, 1}};
    auto [qh, kvh] = heads[pick(4)];
    bool paged = pick(2) == 0;
    std::ostringstream os;
    os << "attention fuzz" << index << " {\n"
       << "  dtype = " << (pick(2) ? "fp16" : "bf16") << "; head_dim = 16\n"
       << "  q_heads = " << qh << "; kv_heads = " << kvh << "\n"
       << "  kv_cache = "
       << (paged ? "paged(page_size = " + std::to_string(1 + pick(7)) + ")"
                 : std::string("dense"))
       << "\n";
    if (usesPrefix)
      os << "  param prefix : i32[batch]\n";
    if (usesDoc)
      os << "  param doc : i32[batch, ?]\n";
    if (usesSlope)
      os << "  param slope : f32[q_heads]\n";
    // Every third spec has an attention sink; the choice does not draw from
    // rng, so the masks and scores stay what they were without sinks.
    static const char *const sinkLogits[] = {
        "sinks[h] * 6.0", "2.0", "q % 5 - 2.0 + h", "b * 3.0 - 1.5"};
    if (index % 3 == 1)
      os << "  param sinks : f32[q_heads]\n"
         << "  sink = " << sinkLogits[(index / 3) % 4] << "\n";
    // Every fourth spec reads an fp8 cache (e4m3 and e5m2 in turn) with
    // scales of (b, h); again no draw from rng.
    static const char *const kScales[] = {"ks[h / (q_heads / kv_heads)]", "0.5",
                                          "ks[0] * 3.0 + b"};
    if (index % 4 == 2)
      os << "  kv_dtype = " << ((index / 4) % 2 ? "e5m2" : "e4m3") << "\n"
         << "  param ks : f32[kv_heads]\n"
         << "  k_scale = " << kScales[(index / 4) % 3] << "\n"
         << "  v_scale = 2.0 - h * 0.25\n";
    os << "  score = " << score << "\n"
       << "  mask = " << mask << "\n}\n";
    return os.str();
  }

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }

private:
  std::string intLeaf(bool nonZeroLiteral) {
    switch (pick(9)) {
    case 0:
    case 1:
      return "q";
    case 2:
    case 3:
      return "kv";
    case 4:
      return "h";
    case 5:
      return "b";
    case 6: {
      // Small literals; large ones make products wrap.
      const char *big[] = {"1000000000", "2147483647", "65536", "100000"};
      if (pick(3) == 0)
        return big[pick(4)];
      return std::to_string(nonZeroLiteral ? 1 + pick(9) : pick(10));
    }
    case 7:
      usesPrefix = true;
      return "prefix[b]";
    default:
      usesDoc = true;
      return pick(2) ? "doc[b, q]" : "doc[b, kv]";
    }
  }

  std::string intExpr(int depth, bool nonZeroLiteral = false) {
    if (depth == 0 || pick(3) == 0)
      return intLeaf(nonZeroLiteral);
    switch (pick(10)) {
    case 0:
      return "(" + intExpr(depth - 1) + " + " + intExpr(depth - 1) + ")";
    case 1:
      return "(" + intExpr(depth - 1) + " - " + intExpr(depth - 1) + ")";
    case 2:
      return "(" + intExpr(depth - 1) + " * " + intExpr(depth - 1) + ")";
    case 3:
      // A divisor that can be zero at run time (kv - kv), never a literal 0.
      return "(" + intExpr(depth - 1) + " / " + intExpr(depth - 1, true) + ")";
    case 4:
      return "(" + intExpr(depth - 1) + " % " + intExpr(depth - 1, true) + ")";
    case 5:
      return std::string(pick(2) ? "min(" : "max(") + intExpr(depth - 1) +
             ", " + intExpr(depth - 1) + ")";
    case 6:
      return "abs(" + intExpr(depth - 1) + ")";
    case 7:
      return "(-" + intExpr(depth - 1) + ")";
    case 8:
      return "(" + boolExpr(depth - 1) + " ? " + intExpr(depth - 1) + " : " +
             intExpr(depth - 1) + ")";
    default:
      return intLeaf(nonZeroLiteral);
    }
  }

  std::string boolExpr(int depth) {
    static const char *comparisons[] = {"<", "<=", ">", ">=", "==", "!="};
    if (depth == 0 || pick(3) == 0)
      return intExpr(1) + " " + comparisons[pick(6)] + " " + intExpr(1);
    switch (pick(5)) {
    case 0:
      return "(" + boolExpr(depth - 1) + " && " + boolExpr(depth - 1) + ")";
    case 1:
      return "(" + boolExpr(depth - 1) + " || " + boolExpr(depth - 1) + ")";
    case 2:
      return "!(" + boolExpr(depth - 1) + ")";
    default:
      return intExpr(depth - 1) + " " + comparisons[pick(6)] + " " +
             intExpr(depth - 1);
    }
  }

  /// Scores stay within a few units of the logit: an Int term enters
  /// through `% 5`, so f32 and double arithmetic agree to rounding.
  std::string scoreExpr() {
    switch (pick(5)) {
    case 0:
      return "score";
    case 1:
      return "score + 0.25 * (" + intExpr(2) + " % 5)";
    case 2:
      return "30.0 * tanh(score / 30.0)";
    case 3:
      usesSlope = true;
      return "score - slope[h] * abs(q - kv)";
    default:
      return "max(score, -2.0) + min(0.5, exp(score / 8.0))";
    }
  }

  std::mt19937_64 rng;
  bool usesPrefix = false, usesDoc = false, usesSlope = false;
};

} // namespace

TEST_CASE("the AST reference, attn.sdpa and the lowered kernel agree on "
          "every example spec",
          "[interp][ast]") {
  auto context = makeContext();
  std::vector<std::filesystem::path> files;
  for (const char *dir : {"examples", "tests/lit/attnc/Inputs"})
    for (const auto &entry :
         std::filesystem::directory_iterator(sourceDir() + "/" + dir))
      if (entry.path().extension() == ".attn")
        files.push_back(entry.path());
  REQUIRE(files.size() >= 9);
  uint64_t seed = 40;
  for (const std::filesystem::path &file : files) {
    std::string error;
    std::optional<dsl::SourceFile> source =
        dsl::readSourceFile(file.string(), error);
    REQUIRE(source);
    std::optional<dsl::Module> module =
        dsl::parseAndCheckText(file.string(), source->text, error);
    INFO(file.string() << ": " << error);
    REQUIRE(module);
    for (const dsl::AttentionSpec &spec : module->specs) {
      DYNAMIC_SECTION(spec.name) {
        // A short and a long sequence, more queries than keys in one.
        RandomInputSpec shape;
        shape.qLens = {40, 3};
        shape.kvLens = {17, 150};
        shape.seed = ++seed;
        PipelineOptions options;
        options.blockQ = 16;
        options.blockKV = 32;
        checkSpec(*context, spec, *module, shape, options);
      }
    }
  }
}

TEST_CASE("the AST reference, attn.sdpa and the lowered kernel agree on "
          "random specs",
          "[interp][ast]") {
  auto context = makeContext();
  SpecFuzzer fuzzer(2026);
  for (int i = 0; i < 250; ++i) {
    std::string text = fuzzer.spec(i), error;
    std::optional<dsl::Module> module =
        dsl::parseAndCheckText("fuzz.attn", text, error);
    INFO(text << error);
    REQUIRE(module);
    RandomInputSpec shape;
    shape.qLens = {1 + fuzzer.pick(40), fuzzer.pick(4)};
    shape.kvLens = {1 + fuzzer.pick(70), 1 + fuzzer.pick(40)};
    shape.seed = 1000 + i;
    PipelineOptions options;
    options.blockQ = 16 * (1 + fuzzer.pick(2));
    options.blockKV = 16 * (1 + fuzzer.pick(2));
    options.packGQA = fuzzer.pick(3) == 0;
    options.splitKV = fuzzer.pick(3) == 0;
    options.prefetchKV = fuzzer.pick(2) == 0;
    INFO("block-q " << options.blockQ << ", block-kv " << options.blockKV
                    << (options.packGQA ? ", packed" : "")
                    << (options.splitKV ? ", split-KV" : ""));
    checkSpec(*context, module->specs.front(), *module, shape, options);
  }
}
