//===- MaskAnalysisTest.cpp - Tile bounds of masks against brute force ----===//
//
// For random sequence lengths and tile sizes, every (Q tile, KV tile) of
// every example mask is classified by the IR the mask analysis emits, and
// by evaluating the mask on each element:
//   - "skip" (!canTrue) must mean every element is masked,
//   - "full" (!canFalse) must mean every element is visible;
// and for the masks interval arithmetic bounds exactly (causal, windows,
// chunks, prefixes), the classification must be exact, so no tile that
// could be skipped or run unmasked is missed.
//
//===----------------------------------------------------------------------===//
#include "ScalarEval.h"

#include "dialect/AttnDialect.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "passes/MaskAnalysis.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

using namespace mlir;
using namespace attnc;

namespace {

std::string sourceDir() {
  const char *dir = std::getenv("ATTNC_SOURCE_DIR");
  return dir ? dir : ".";
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A mask to test, and whether interval arithmetic bounds it exactly.
struct MaskCase {
  std::string what;
  std::string source;
  bool exact;
};

std::string specWithMask(const std::string &mask, const std::string &params) {
  return "attention t {\n  dtype = fp16; head_dim = 64; q_heads = 8; "
         "kv_heads = 2\n" +
         params + "  mask = " + mask + "\n}\n";
}

std::vector<MaskCase> maskCases() {
  std::vector<MaskCase> cases;
  for (const char *example :
       {"llama3_gqa_causal", "mistral_sliding_window", "gemma2_softcap_local",
        "alibi", "prefix_lm", "paged_decode"})
    cases.push_back({example,
                     readFile(sourceDir() + "/examples/" + example + ".attn"),
                     true});
  cases.push_back({"document_mask",
                   readFile(sourceDir() + "/examples/document_mask.attn"),
                   false});
  cases.push_back({"chunked", specWithMask("q / 48 == kv / 48", ""), true});
  cases.push_back({"chunked causal",
                   specWithMask("q / 32 == kv / 32 && kv <= q", ""), true});
  cases.push_back(
      {"window of 37", specWithMask("q - kv < 37 && kv <= q", ""), true});
  cases.push_back({"sink + window",
                   specWithMask("kv < 4 || (q - kv < 40 && kv <= q)", ""),
                   false});
  cases.push_back({"not causal", specWithMask("!(kv > q)", ""), true});
  cases.push_back(
      {"select", specWithMask("h < 4 ? kv <= q : kv < 50", ""), true});
  cases.push_back(
      {"scaled diagonal", specWithMask("2 * kv <= q + 7", ""), true});
  // Two conjuncts over the same kv: intervals lose that they must hold at
  // once, so the bounds are sound but not exact.
  cases.push_back({"min/max",
                   specWithMask("kv >= max(q - 20, 0) && kv <= min(q, 90)", ""),
                   false});
  cases.push_back({"per-head window",
                   specWithMask("kv <= q && q - kv < win[h]",
                                "  param win : i32[q_heads]\n"),
                   true});
  cases.push_back(
      {"modulo (unbounded)", specWithMask("kv % 3 == 0", ""), false});
  // Shifts by constants and power-of-two masks are bounded (exactly for
  // block masks); other bitwise ops, and shifts by positions, are not.
  cases.push_back({"shifted blocks",
                   specWithMask("(q >> 5) == (kv >> 5) && kv <= q", ""), true});
  cases.push_back(
      {"rounded down", specWithMask("(kv & -64) <= (q & -64)", ""), true});
  cases.push_back({"low bits (bounded, inexact)",
                   specWithMask("(kv & 15) < 8 && (kv >> 40) <= q", ""),
                   false});
  cases.push_back(
      {"xor (unbounded)", specWithMask("((q ^ kv) & -8) == 0", ""), false});
  // Block masks read at two ranging indices: bounded by the parameter's
  // values over each tile's rectangle of blocks.
  cases.push_back({"block mask",
                   specWithMask("blocks[q / 32, kv / 32] != 1",
                                "  param blocks : i32[64, 64]\n"),
                   false});
  cases.push_back({"block mask, causal",
                   specWithMask("blocks[q / 16, kv / 16] == 0 && kv <= q",
                                "  param blocks : i32[64, 64]\n"),
                   false});
  // An index range ending at INT_MAX (outside the param: reads 0, so every
  // element is visible): the scan must not wrap past it and skip the tile.
  cases.push_back({"block mask at INT_MAX",
                   specWithMask("blocks[(kv & 7) + 2147483640, q / 64] == 0",
                                "  param blocks : i32[64, 64]\n"),
                   false});
  // Three ranging indices (a block mask over packed heads has h, q / 64
  // and kv / 64 ranging): nested scans over the box of entries.
  cases.push_back(
      {"three ranging indices",
       specWithMask("cube[q / 32, kv / 32, (q + kv) / 64] != 1 && kv <= q",
                    "  param cube : i32[64, 64, 64]\n"),
       false});
  cases.push_back({"shift by a position (unbounded)",
                   specWithMask("(kv << (q % 3)) <= q", ""), false});
  return cases;
}

/// All specs of a case, lowered to attn dialect.
OwningOpRef<ModuleOp> buildCase(MLIRContext &context, const MaskCase &c) {
  std::string diagnostics;
  std::optional<dsl::Module> module =
      dsl::parseAndCheckText(c.what + ".attn", c.source, diagnostics);
  if (!module)
    FAIL(diagnostics);
  return buildModule(context, *module);
}

/// Random but plausible parameter values for one sequence.
struct Params {
  int64_t prefix = 0;
  std::vector<int64_t> doc; // by position
  std::vector<int64_t> win; // by head
};

} // namespace

TEST_CASE("mask analysis classifies tiles soundly (and exactly where it can)",
          "[passes][mask-analysis]") {
  MLIRContext context;
  // The pass's own dependent dialects: block masks emit an scf.for scan.
  context.loadDialect<attn::AttnDialect, scf::SCFDialect>();
  std::mt19937 rng(1234);
  const int64_t tileSizes[] = {16, 32, 64, 128};
  int64_t tilesChecked = 0, skipped = 0, full = 0;

  for (const MaskCase &c : maskCases()) {
    INFO("mask: " << c.what);
    OwningOpRef<ModuleOp> module = buildCase(context, c);
    REQUIRE(module);
    for (auto kernel : module->getOps<attn::KernelOp>()) {
      auto sdpa = *kernel.getBody().front().getOps<attn::SdpaOp>().begin();
      Region &mask = sdpa.getMask();

      // Emit the bounds once, over six i32 block arguments.
      Block rect;
      Location loc = UnknownLoc::get(&context);
      Type i32 = IntegerType::get(&context, 32);
      for (int i = 0; i < 6; ++i)
        rect.addArgument(i32, loc);
      OpBuilder builder(&context);
      builder.setInsertionPointToStart(&rect);
      TileClass tileClass =
          emitTileClass(builder, loc, mask,
                        TileRect{rect.getArgument(0), rect.getArgument(1),
                                 rect.getArgument(1), rect.getArgument(2),
                                 rect.getArgument(3), rect.getArgument(4),
                                 rect.getArgument(5)});
      // A terminator so that ScalarEval's run() visits every op.
      builder.create<attn::YieldOp>(loc, tileClass.canTrue);

      for (int trial = 0; trial < 40; ++trial) {
        int64_t qLen = std::uniform_int_distribution<int64_t>(1, 300)(rng);
        int64_t kvLen = std::uniform_int_distribution<int64_t>(1, 333)(rng);
        if (trial % 5 == 0)
          kvLen = std::max<int64_t>(1, qLen / 2); // q longer than kv
        int64_t blockQ = tileSizes[rng() % 4], blockKV = tileSizes[rng() % 4];
        int64_t b = rng() % 3, h = rng() % 8;
        Params params;
        params.prefix = std::uniform_int_distribution<int64_t>(0, kvLen)(rng);
        int64_t doc = 0;
        for (int64_t i = 0; i < kvLen; ++i) {
          if (rng() % 23 == 0)
            ++doc;
          params.doc.push_back(doc);
        }
        for (int i = 0; i < 8; ++i)
          params.win.push_back(1 + rng() % 100);
        auto reader = [&](const std::string &name,
                          const std::vector<int64_t> &idx) -> int64_t {
          if (name == "prefix")
            return params.prefix;
          if (name == "doc") {
            // Query positions are negative when q_len > kv_len.
            int64_t pos = idx.at(1);
            return pos >= 0 && pos < kvLen ? params.doc[pos] : -1;
          }
          if (name == "win")
            return params.win.at(idx.at(0));
          if (name == "blocks") // any fixed pattern of 0..3, 0 outside
            return idx.at(0) >= 0 && idx.at(0) < 64 && idx.at(1) >= 0 &&
                           idx.at(1) < 64
                       ? (idx.at(0) * 7 + idx.at(1) * 3 + idx.at(0) / 3) % 4
                       : 0;
          if (name == "cube") { // likewise over three indices
            for (int d = 0; d < 3; ++d)
              if (idx.at(d) < 0 || idx.at(d) >= 64)
                return 0;
            return (idx[0] * 5 + idx[1] * 3 + idx[2] * 7 + idx[0] / 5) % 4;
          }
          FAIL("unexpected parameter " << name);
          return 0;
        };

        for (int64_t qRow0 = 0; qRow0 < qLen; qRow0 += blockQ) {
          int64_t rows = std::min(blockQ, qLen - qRow0);
          int64_t qFirst = kvLen - qLen + qRow0, qLast = qFirst + rows - 1;
          for (int64_t kvFirst = 0; kvFirst < kvLen; kvFirst += blockKV) {
            int64_t kvLast = std::min(kvFirst + blockKV, kvLen) - 1;
            test::ScalarEval bounds(reader);
            int64_t args[6] = {b, h, qFirst, qLast, kvFirst, kvLast};
            for (int i = 0; i < 6; ++i)
              bounds.set(rect.getArgument(i), args[i]);
            std::string error;
            bool evaluated = bounds.run(rect, error);
            INFO(error);
            REQUIRE(evaluated);
            bool canTrue = bounds.get(tileClass.canTrue);
            bool canFalse = bounds.get(tileClass.canFalse);

            bool anyTrue = false, anyFalse = false;
            for (int64_t q = qFirst; q <= qLast; ++q) {
              for (int64_t kv = kvFirst; kv <= kvLast; ++kv) {
                test::ScalarEval element(reader);
                Block &body = mask.front();
                element.set(body.getArgument(attn::SdpaOp::kBatch), b);
                element.set(body.getArgument(attn::SdpaOp::kHead), h);
                element.set(body.getArgument(attn::SdpaOp::kQ), q);
                element.set(body.getArgument(attn::SdpaOp::kKV), kv);
                REQUIRE(element.run(body, error));
                bool visible = element.get(
                    cast<attn::YieldOp>(body.getTerminator()).getValue());
                anyTrue |= visible;
                anyFalse |= !visible;
              }
            }
            INFO("q in [" << qFirst << ", " << qLast << "], kv in [" << kvFirst
                          << ", " << kvLast << "], b " << b << ", h " << h);
            // Soundness: a skipped tile has no visible element, a full tile
            // no masked one.
            REQUIRE((canTrue || !anyTrue));
            REQUIRE((canFalse || !anyFalse));
            if (c.exact) {
              REQUIRE(canTrue == anyTrue);
              REQUIRE(canFalse == anyFalse);
            }
            ++tilesChecked;
            skipped += !canTrue;
            full += !canFalse;
          }
        }
      }
    }
  }
  // The analysis must actually skip and unmask tiles, not just stay sound.
  CHECK(skipped > 1000);
  CHECK(full > 1000);
  WARN("tiles checked: " << tilesChecked << ", skipped: " << skipped
                         << ", full: " << full);
}
