//===- KernelTimingTest.cpp - Timers, L2 rotation and timeKernel ----------===//
//
// The timing machinery `attnc run --time`, `attnc tune` and bench/ rely on:
// how many input copies clear a cache, the host-clock timer under sim, and
// on a GPU driver (the fake one: its events read the host clock, and it
// records which Q tensor each launch read) CUDA events around each run with
// the inputs rotated.
//
//===----------------------------------------------------------------------===//
#include "FakeProcessDriver.h"

#include "codegen/Compile.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"
#include "runtime/api/Runtime.h"
#include "tune/KernelTiming.h"
#include "tune/StagedTensors.h"

#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

using namespace attnc;

namespace {

/// A spec's reference IR (for random inputs) and its compiled kernel.
struct Prepared {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> reference;
  std::string cuda;
  KernelInfo info;
  AttentionInputs inputs;
};

void prepare(Prepared &p, std::vector<int64_t> qLens,
             std::vector<int64_t> kvLens) {
  dsl::SourceFile file{"t.attn", "attention t {\n  dtype = bf16; head_dim = "
                                 "64; q_heads = 4; kv_heads = 2\n  mask = kv "
                                 "<= q\n}\n"};
  dsl::DiagnosticEngine diags(file);
  std::optional<dsl::Module> module = dsl::parseAndCheck(file, diags);
  REQUIRE(module);
  p.reference = buildModule(p.context, *module);
  mlir::OwningOpRef<mlir::ModuleOp> lowered = buildModule(p.context, *module);
  PipelineOptions options;
  options.blockQ = 32;
  options.blockKV = 32;
  std::string error;
  mlir::FailureOr<CompiledModule> compiled =
      lowerAndEmit(*lowered, options, error);
  INFO(error);
  REQUIRE(mlir::succeeded(compiled));
  p.cuda = compiled->cuda;
  p.info = compiled->kernels.front();
  RandomInputSpec spec;
  spec.qLens = std::move(qLens);
  spec.kvLens = std::move(kvLens);
  spec.seed = 7;
  mlir::FailureOr<AttentionInputs> inputs = makeRandomInputs(
      *p.reference->getOps<attn::KernelOp>().begin(), spec, error);
  INFO(error);
  REQUIRE(mlir::succeeded(inputs));
  p.inputs = std::move(*inputs);
}

} // namespace

TEST_CASE("input copies rotated past a cache", "[api][timing]") {
  constexpr size_t MiB = size_t(1) << 20, GiB = size_t(1) << 30;
  bool cleared = false;
  // No cache (sim): one copy.
  CHECK(inputSetsToRotate(MiB, 0, 4 * GiB, cleared) == 1);
  CHECK(cleared);
  // 1 MiB copies past a 50 MiB L2: 100 others between two uses of one.
  CHECK(inputSetsToRotate(MiB, 50 * MiB, 4 * GiB, cleared) == 101);
  CHECK(cleared);
  // A 128 MiB decode working set is past the L2 with one other copy.
  CHECK(inputSetsToRotate(128 * MiB, 50 * MiB, 4 * GiB, cleared) == 2);
  CHECK(cleared);
  // The budget allows one copy only: said, not hidden.
  CHECK(inputSetsToRotate(100 * MiB, 50 * MiB, 150 * MiB, cleared) == 1);
  CHECK_FALSE(cleared);
  // Tiny inputs stop at 256 copies.
  CHECK(inputSetsToRotate(1024, 50 * MiB, 4 * GiB, cleared) == 256);
  CHECK_FALSE(cleared);
}

TEST_CASE("timing under sim: the host clock, one input set",
          "[api][timing][sim]") {
  Prepared p;
  prepare(p, {40, 3}, {70, 9});
  RuntimeOptions options;
  options.backend = "sim";
  std::unique_ptr<Runtime> runtime = Runtime::create(options).takeValue();

  Expected<std::unique_ptr<StreamTimer>> timer =
      runtime->backend().createTimer();
  REQUIRE(timer);
  Expected<double> early = (*timer)->elapsedMs();
  REQUIRE_FALSE(early);
  CHECK(early.status().code() == ErrorCode::InvalidArgument);
  CHECK(runtime->backend().cacheBytes() == 0);

  Expected<Kernel> kernel = runtime->load(p.cuda, p.info);
  REQUIRE(kernel);
  TimingOptions timing;
  timing.repeat = 3;
  Expected<TimingResult> result =
      timeKernel(*runtime, *kernel, p.info, p.inputs, timing);
  INFO(result.status().toString());
  REQUIRE(result);
  CHECK(result->clock == "host clock (sim)");
  CHECK(result->inputSets == 1);
  CHECK(result->cacheCleared);
  CHECK(result->minMs > 0);
  CHECK(result->minMs <= result->medianMs);
  CHECK(result->medianMs <= result->maxMs);

  timing.repeat = 0;
  Expected<TimingResult> none =
      timeKernel(*runtime, *kernel, p.info, p.inputs, timing);
  REQUIRE_FALSE(none);
  CHECK(none.status().code() == ErrorCode::InvalidArgument);
}

TEST_CASE("timing on a GPU: CUDA events around each run, inputs rotated "
          "past the L2 (fake driver)",
          "[api][timing][cuda][fake]") {
  AttncFakeCudaConfig config;
  config.l2Bytes = 1 << 20;
  config.memoryBytes = size_t(512) << 20;
  test::FakeProcessDriver fake(config);

  Prepared p;
  prepare(p, {40, 3}, {70, 9});
  RuntimeOptions options;
  options.backend = "cuda";
  Expected<std::unique_ptr<Runtime>> runtime = Runtime::create(options);
  INFO(runtime.status().toString());
  REQUIRE(runtime);
  Backend &backend = (*runtime)->backend();
  CHECK(std::string(backend.name()) == "cuda");
  CHECK(backend.cacheBytes() == size_t(1) << 20);

  // The copies the rotation needs for these inputs past a 1 MiB L2.
  size_t setBytes = 0;
  {
    StagedTensors one(backend, p.info);
    AttentionTensors tensors;
    REQUIRE(one.stage(p.inputs, tensors).ok());
    setBytes = stagedBytes(tensors);
  }
  bool cleared = false;
  int sets = inputSetsToRotate(setBytes, size_t(1) << 20,
                               TimingOptions().rotationBudgetBytes, cleared);
  REQUIRE(cleared);
  REQUIRE(sets > 2);

  Expected<Kernel> kernel = (*runtime)->load(p.cuda, p.info);
  INFO(kernel.status().toString());
  REQUIRE(kernel);
  AttncFakeCudaStats before = fake.stats();
  TimingOptions timing;
  timing.warmup = 2;
  timing.repeat = 5;
  Expected<TimingResult> result =
      timeKernel(**runtime, *kernel, p.info, p.inputs, timing);
  INFO(result.status().toString());
  REQUIRE(result);
  CHECK(result->clock == "CUDA events");
  CHECK(result->inputSets == sets);
  CHECK(result->cacheCleared);
  CHECK(result->minMs >= 0);
  CHECK(result->minMs <= result->medianMs);

  AttncFakeCudaStats after = fake.stats();
  CHECK(after.launches - before.launches == 7);
  // Each of the seven runs read its own copy of Q (sets > 7 here, or every
  // copy when there are fewer).
  CHECK(after.distinctQueryTensors - before.distinctQueryTensors ==
        std::min(sets, 7));
  CHECK(after.liveEvents == 0); // the timer's events are gone

  // Inputs staged once serve several timings (a tuner's configurations):
  // each timing reads the same copies and allocates none. (Freed copies'
  // addresses may be reused, so launched Q pointers are compared with the
  // staged ones, not counted.)
  Expected<std::unique_ptr<RotatedInputs>> staged =
      RotatedInputs::stage(backend, p.info, p.inputs);
  REQUIRE(staged);
  const std::vector<AttentionTensors> &copies = (*staged)->sets();
  CHECK(static_cast<int>(copies.size()) == sets);
  AttncFakeCudaStats staging = fake.stats();
  REQUIRE(timeKernel(**runtime, *kernel, **staged, timing));
  AttncFakeCudaStats once = fake.stats();
  // Seven runs: the last read copy 6.
  CHECK(once.args.q == copies[6 % sets].q.data);
  REQUIRE(timeKernel(**runtime, *kernel, **staged, timing));
  AttncFakeCudaStats twice = fake.stats();
  CHECK(twice.args.q == copies[6 % sets].q.data);
  CHECK(once.liveAllocations == staging.liveAllocations);
  CHECK(twice.liveAllocations == once.liveAllocations);
}
