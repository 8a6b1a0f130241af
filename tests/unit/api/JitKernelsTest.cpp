//===- JitKernelsTest.cpp - A spec's kernels chosen per shape -------------===//
#include "tune/JitKernels.h"
#include "reference/AstReference.h"
#include "tune/Tuner.h"

#include "dialect/MLIRGen.h"
#include "interp/Interpreter.h"
#include "tune/StagedTensors.h"

#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <unistd.h>

using namespace attnc;

namespace {

const char *kSpec = "attention gqa {\n"
                    "  dtype = bf16; head_dim = 64; q_heads = 8; kv_heads = 2\n"
                    "  kv_cache = paged(page_size = 8)\n"
                    "  mask = kv <= q\n}\n";

std::unique_ptr<Runtime> simRuntime() {
  RuntimeOptions options;
  options.backend = "sim";
  return Runtime::create(options).takeValue();
}

/// Runs `pick` on random inputs of the shape and compares with float64.
void checkRuns(Runtime &runtime, JitKernels &jit,
               const JitKernels::Selection &pick, std::vector<int64_t> qLens,
               std::vector<int64_t> kvLens) {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> reference =
      buildModule(context, jit.module());
  attn::KernelOp kernel = *reference->getOps<attn::KernelOp>().begin();
  RandomInputSpec spec;
  spec.qLens = std::move(qLens);
  spec.kvLens = std::move(kvLens);
  spec.seed = 11;
  std::string error;
  mlir::FailureOr<AttentionInputs> inputs =
      makeRandomInputs(kernel, spec, error);
  REQUIRE(mlir::succeeded(inputs));
  // The AST reference: shares no lowering with the kernels under test.
  std::optional<AttentionOutputs> expected =
      astReference(jit.module().specs.front(), *inputs, error);
  INFO(error);
  REQUIRE(expected);
  StagedTensors staged(runtime.backend(), jit.info());
  AttentionTensors tensors;
  REQUIRE(staged.stage(*inputs, tensors).ok());
  Status s = runtime.run(pick.kernel, tensors, nullptr, pick.numSplits);
  INFO(s.toString());
  REQUIRE(s.ok());
  AttentionOutputs actual;
  REQUIRE(staged.fetch(tensors, actual).ok());
  OutputDiff diff = compareOutputs(actual, *expected);
  INFO("o rel err " << diff.oRelErr << ", lse " << diff.lseMaxAbsDiff);
  CHECK(diff.within(1e-2, 1e-3));
}

} // namespace

TEST_CASE("JitKernels: heuristics pick the path by shape, and the kernels "
          "compute attention",
          "[api][jit][sim]") {
  std::unique_ptr<Runtime> runtime = simRuntime();
  Expected<std::unique_ptr<JitKernels>> jit =
      JitKernels::create(*runtime, "gqa.attn", kSpec, {});
  INFO(jit.status().toString());
  REQUIRE(jit);
  CHECK((*jit)->info().paged);
  CHECK((*jit)->info().qHeads == 8);

  Expected<JitKernels::Selection> decode = (*jit)->select(3, 1, 300);
  REQUIRE(decode);
  CHECK_FALSE(decode->tuned);
  CHECK(decode->config.path == "decode");
  CHECK(decode->kernel.info.splitKV);
  CHECK(decode->numSplits == 0);
  // Split-KV takes 128-key tiles by default (attn-tile's split-kv).
  CHECK_THAT(decode->why, Catch::StartsWith("heuristics (path by shape): "
                                            "decode 64x128 stages 2"));
  checkRuns(*runtime, **jit, *decode, {1, 1, 1}, {300, 17, 64});

  Expected<JitKernels::Selection> prefill = (*jit)->select(2, 100, 130);
  REQUIRE(prefill);
  CHECK(prefill->config.path == "prefill");
  CHECK_FALSE(prefill->kernel.info.splitKV);
  checkRuns(*runtime, **jit, *prefill, {100, 7}, {130, 7});
}

TEST_CASE("JitKernels: a tuned configuration wins over the heuristics",
          "[api][jit][sim]") {
  std::unique_ptr<Runtime> runtime = simRuntime();
  std::string path =
      "/tmp/attnc-jit-kernels-test-" + std::to_string(getpid()) + ".json";
  std::string fingerprint;
  {
    Expected<std::unique_ptr<JitKernels>> probe =
        JitKernels::create(*runtime, "gqa.attn", kSpec, {});
    REQUIRE(probe);
    fingerprint = (*probe)->fingerprint();
  }
  CHECK(fingerprint == specFingerprint(kSpec, "gqa"));
  TuningDB db;
  TunedConfig entry;
  entry.spec = fingerprint;
  entry.device = runtime->backend().describe();
  entry.bucket = shapeBucket(2, 1, 500);
  entry.path = "decode";
  entry.blockQ = 32;
  entry.blockKV = 16;
  entry.stages = 1;
  entry.warps = 1; // 32 rows per warp
  entry.splits = 3;
  entry.ms = 1;
  db.put(entry);
  REQUIRE(db.save(path).ok());

  JitKernels::Options options;
  options.tuningDB = path;
  Expected<std::unique_ptr<JitKernels>> jit =
      JitKernels::create(*runtime, "gqa.attn", kSpec, options);
  REQUIRE(jit);
  Expected<JitKernels::Selection> pick = (*jit)->select(2, 1, 500);
  REQUIRE(pick);
  CHECK(pick->tuned);
  CHECK(pick->config.describe() == "decode 32x16 stages 1 warps 1");
  CHECK(pick->kernel.info.threads == 32);
  CHECK(pick->numSplits == 3);
  CHECK(pick->kernel.info.blockQ == 32);
  CHECK(pick->kernel.info.blockKV == 16);
  CHECK_THAT(pick->why, Catch::Contains("tuned configuration from " + path));
  checkRuns(*runtime, **jit, *pick, {1, 1}, {500, 260});

  // Another bucket: the heuristics.
  Expected<JitKernels::Selection> other = (*jit)->select(2, 1, 5000);
  REQUIRE(other);
  CHECK_FALSE(other->tuned);

  // A forced path ignores an entry for the other one.
  options.path = "prefill";
  Expected<std::unique_ptr<JitKernels>> forced =
      JitKernels::create(*runtime, "gqa.attn", kSpec, options);
  REQUIRE(forced);
  Expected<JitKernels::Selection> prefill = (*forced)->select(2, 1, 500);
  REQUIRE(prefill);
  CHECK_FALSE(prefill->tuned);
  CHECK(prefill->config.path == "prefill");
  std::remove(path.c_str());
}

TEST_CASE("JitKernels: errors name the problem", "[api][jit]") {
  std::unique_ptr<Runtime> runtime = simRuntime();
  Expected<std::unique_ptr<JitKernels>> bad = JitKernels::create(
      *runtime, "bad.attn", "attention x {\n  dtype = fp32\n}\n", {});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.status().message(),
             Catch::Contains("bad.attn:2:11: error: expected 'fp16' or "
                             "'bf16'"));

  std::string two = std::string(kSpec) +
                    "attention other {\n  dtype = fp16; head_dim = 64; "
                    "q_heads = 2; kv_heads = 2\n}\n";
  Expected<std::unique_ptr<JitKernels>> ambiguous =
      JitKernels::create(*runtime, "two.attn", two, {});
  REQUIRE_FALSE(ambiguous);
  CHECK_THAT(ambiguous.status().message(),
             Catch::Contains("holds several attention blocks (gqa, other)"));
  JitKernels::Options pickOther;
  pickOther.kernel = "other";
  Expected<std::unique_ptr<JitKernels>> picked =
      JitKernels::create(*runtime, "two.attn", two, pickOther);
  REQUIRE(picked);
  CHECK((*picked)->info().specName == "other");
  pickOther.kernel = "nope";
  Expected<std::unique_ptr<JitKernels>> missing =
      JitKernels::create(*runtime, "two.attn", two, pickOther);
  REQUIRE_FALSE(missing);
  CHECK(missing.status().code() == ErrorCode::NotFound);

  JitKernels::Options badTile;
  badTile.blockQ = 24;
  Expected<std::unique_ptr<JitKernels>> tile =
      JitKernels::create(*runtime, "gqa.attn", kSpec, badTile);
  REQUIRE_FALSE(tile);
  CHECK(tile.status().code() == ErrorCode::CompileError);
  CHECK_THAT(tile.status().message(),
             Catch::Contains("block-q = 24 must be a multiple of 16"));

  JitKernels::Options badPath;
  badPath.path = "fast";
  Expected<std::unique_ptr<JitKernels>> path =
      JitKernels::create(*runtime, "gqa.attn", kSpec, badPath);
  REQUIRE_FALSE(path);
  CHECK_THAT(path.status().message(), Catch::Contains("unknown path 'fast'"));

  Expected<std::unique_ptr<JitKernels>> ok =
      JitKernels::create(*runtime, "gqa.attn", kSpec, {});
  REQUIRE(ok);
  KernelConfig config;
  config.stages = 3;
  CHECK_FALSE((*ok)->variant(config));
  config.stages = 1;
  Expected<CompiledVariant> first = (*ok)->variant(config);
  Expected<CompiledVariant> again = (*ok)->variant(config);
  REQUIRE(first);
  REQUIRE(again);
  CHECK(first->cuda == again->cuda);
}

TEST_CASE("JitKernels with autotuning: a miss tunes the bucket, stores it, "
          "and later programs reuse it",
          "[api][jit][tune][sim]") {
  std::unique_ptr<Runtime> runtime = simRuntime();
  std::string path =
      "/tmp/attnc-jit-autotune-test-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  TuneSpace space;
  space.paths = {"decode"};
  space.tiles = {{32, 32}, {32, 64}};
  space.stages = {2};
  space.rowsPerWarp = {16};
  space.splits = {0, 2};
  space.repeat = 1;
  std::vector<std::string> steps;
  JitKernels::Options options;
  options.tuningDB = path;
  options = withAutotuning(
      options, space, [&](const std::string &what) { steps.push_back(what); });
  Expected<std::unique_ptr<JitKernels>> jit =
      JitKernels::create(*runtime, "gqa.attn", kSpec, options);
  REQUIRE(jit);

  Expected<JitKernels::Selection> pick = (*jit)->select(2, 1, 200);
  INFO(pick.status().toString());
  REQUIRE(pick);
  CHECK(pick->tuned);
  CHECK_THAT(pick->why, Catch::StartsWith("tuned now, for bucket b2-q1-kv256"));
  CHECK(pick->config.path == "decode");
  CHECK(pick->config.blockQ == 32);
  CHECK((pick->numSplits == 0 || pick->numSplits == 2));
  // Two kernels compiled, each timed with two split counts.
  REQUIRE(steps.size() == 6);
  CHECK_THAT(steps[0], Catch::Contains("compiled"));
  CHECK_THAT(steps[5], Catch::Contains("2:1:200 decode 32x"));
  checkRuns(*runtime, **jit, *pick, {1, 1}, {200, 90});

  // The same bucket again: no tuning.
  REQUIRE((*jit)->select(2, 1, 250));
  CHECK(steps.size() == 6);

  // Another program (no autotuning) finds the stored entry.
  JitKernels::Options plain;
  plain.tuningDB = path;
  Expected<std::unique_ptr<JitKernels>> later =
      JitKernels::create(*runtime, "gqa.attn", kSpec, plain);
  REQUIRE(later);
  Expected<JitKernels::Selection> reused = (*later)->select(2, 1, 256);
  REQUIRE(reused);
  CHECK(reused->tuned);
  CHECK(reused->config.describe() == pick->config.describe());
  CHECK(reused->numSplits == pick->numSplits);
  std::remove(path.c_str());
}

TEST_CASE("JitKernels with autotuning: empty shapes are not tuned, default "
          "tile sizes are stored resolved",
          "[api][jit][tune][sim]") {
  std::unique_ptr<Runtime> runtime = simRuntime();
  TuneSpace space;
  space.paths = {"decode"};
  space.tiles = {{0, 0}}; // the defaults for head_dim 64 (split-KV: 64x128)
  space.stages = {2};
  space.splits = {0};
  space.repeat = 1;
  int tunings = 0;
  JitKernels::Options options =
      withAutotuning({}, space, [&](const std::string &what) { ++tunings; });
  Expected<std::unique_ptr<JitKernels>> jit =
      JitKernels::create(*runtime, "gqa.attn", kSpec, options);
  REQUIRE(jit);

  JitKernels::Options unwritable = options;
  unwritable.tuningDB = "/nonexistent/dir/tuning.json";
  Expected<std::unique_ptr<JitKernels>> refused =
      JitKernels::create(*runtime, "gqa.attn", kSpec, unwritable);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.status().message(),
             Catch::Contains("cannot write the tuning database"));

  Expected<JitKernels::Selection> empty = (*jit)->select(2, 0, 100);
  REQUIRE(empty);
  CHECK_FALSE(empty->tuned);
  CHECK(tunings == 0);

  Expected<JitKernels::Selection> pick = (*jit)->select(1, 1, 100);
  REQUIRE(pick);
  CHECK(pick->tuned);
  CHECK(tunings == 2); // one compile step, one timing step
  CHECK(pick->config.describe() == "decode 64x128 stages 2");
}
