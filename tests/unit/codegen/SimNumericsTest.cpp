//===- SimNumericsTest.cpp - Generated kernels under sim vs float64 -------===//
//
// Each kernel of the matrix is printed as CUDA, built for the sim backend
// and run on random inputs (never zeros; spare pages and unused page slots
// hold NaN; O and LSE are pre-filled with NaN so every element must be
// written) in checked mode, which fails the launch on any access outside
// the tensors. O and LSE are compared with the float64 reference computed
// from the same spec's attn.sdpa form:
//   fp16: ‖o − ref‖/‖ref‖ ≤ 2e-3,  bf16: ≤ 1e-2,  |lse − ref| ≤ 1e-3,
// and fully masked rows must give o = 0 and lse = -inf exactly.
//
//===----------------------------------------------------------------------===//
#include "KernelVariants.h"

#include "dialect/Interpreter.h"
#include "runtime/jit/HostCompiler.h"
#include "runtime/sim/HalfTypes.h"
#include "runtime/sim/Launch.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace attnc;
using namespace attnc::test;

namespace {

/// Device-layout copies of the inputs and the output buffers.
struct DeviceBuffers {
  bool bf16 = false;
  std::vector<uint16_t> q, k, v, kCache, vCache, o;
  std::vector<float> lse;
  std::vector<int32_t> qoIndptr, kvIndptr, blockTable, kvLens;
  std::vector<std::vector<float>> floatParams;
  std::vector<std::vector<int32_t>> intParams;
  std::vector<std::unique_ptr<sim::ScopedBuffer>> registered;

  uint16_t bits(double value) const {
    float f = static_cast<float>(value);
    return bf16 ? sim::floatToBf16Bits(f) : sim::floatToHalfBits(f);
  }
  double value(uint16_t b) const {
    return bf16 ? sim::bf16BitsToFloat(b) : sim::halfBitsToFloat(b);
  }
  std::vector<uint16_t> toBits(const HostTensor &t) const {
    std::vector<uint16_t> out;
    out.reserve(t.f.size());
    for (double x : t.f)
      out.push_back(bits(x));
    return out;
  }
  template <typename T>
  void registerAll(const std::vector<T> &buf, const char *name) {
    if (!buf.empty())
      registered.push_back(std::make_unique<sim::ScopedBuffer>(
          buf.data(), buf.size() * sizeof(T), name));
  }
};

} // namespace

TEST_CASE("generated kernels under sim match the float64 reference",
          "[codegen][sim]") {
  mlir::MLIRContext context;
  sim::SimOptions simOptions = sim::getOptions();
  simOptions.checked = true;
  sim::ScopedOptions scoped(simOptions);

  uint64_t seed = 7;
  for (const KernelVariant &variant : kernelVariants()) {
    INFO("variant " << variant.name << "\n" << variant.specText());
    BuiltVariant built = buildVariant(context, variant);

    std::string error;
    std::unique_ptr<jit::SimModule> module =
        jit::compileForSim(built.cuda, jit::HostCompileOptions{}, error);
    if (!module)
      FAIL(error);
    jit::SimModule::LaunchFn launch = module->launcher(built.info.name);
    REQUIRE(launch);

    attn::KernelOp reference = onlyKernel(*built.reference);
    RandomInputSpec spec;
    spec.qLens = variant.qLens;
    spec.kvLens = variant.kvLens;
    spec.seed = ++seed;
    mlir::FailureOr<AttentionInputs> inputs =
        makeRandomInputs(reference, spec, error);
    if (failed(inputs))
      FAIL(error);
    mlir::FailureOr<AttentionOutputs> expected =
        interpretKernel(reference, *inputs, error);
    if (failed(expected))
      FAIL(error);

    DeviceBuffers dev;
    dev.bf16 = built.info.bf16;
    dev.q = dev.toBits(inputs->q);
    dev.qoIndptr = inputs->qoIndptr;
    int64_t totalQ = inputs->q.shape.empty() ? 0 : inputs->q.shape[0];
    dev.o.assign(totalQ * built.info.qHeads * built.info.headDim,
                 dev.bf16 ? 0x7fc0 : 0x7e00); // NaN: every element is written
    dev.lse.assign(totalQ * built.info.qHeads,
                   std::numeric_limits<float>::quiet_NaN());
    AttnKernelArgs args = {};
    args.q = dev.q.data();
    args.o = dev.o.data();
    args.lse = dev.lse.data();
    args.qo_indptr = dev.qoIndptr.data();
    args.batch = static_cast<int>(inputs->batch());
    if (built.info.paged) {
      dev.kCache = dev.toBits(inputs->kCache);
      dev.vCache = dev.toBits(inputs->vCache);
      dev.blockTable = inputs->blockTable;
      dev.kvLens = inputs->kvLens;
      args.k_cache = dev.kCache.data();
      args.v_cache = dev.vCache.data();
      args.block_table = dev.blockTable.data();
      args.kv_lens = dev.kvLens.data();
      args.max_pages = static_cast<int>(inputs->maxPages);
    } else {
      dev.k = dev.toBits(inputs->k);
      dev.v = dev.toBits(inputs->v);
      dev.kvIndptr = inputs->kvIndptr;
      args.k = dev.k.data();
      args.v = dev.v.data();
      args.kv_indptr = dev.kvIndptr.data();
    }
    dev.floatParams.resize(built.info.params.size());
    dev.intParams.resize(built.info.params.size());
    for (size_t i = 0; i < built.info.params.size(); ++i) {
      const HostTensor &t = inputs->params.at(built.info.params[i].name);
      if (t.isInt) {
        dev.intParams[i] = t.i;
        args.params[i] = dev.intParams[i].data();
        dev.registerAll(dev.intParams[i], "param");
      } else {
        dev.floatParams[i].assign(t.f.begin(), t.f.end());
        args.params[i] = dev.floatParams[i].data();
        dev.registerAll(dev.floatParams[i], "param");
      }
      for (size_t d = 0; d < t.shape.size(); ++d)
        args.param_dims[i][d] = static_cast<int>(t.shape[d]);
    }
    dev.registerAll(dev.q, "q");
    dev.registerAll(dev.o, "o");
    dev.registerAll(dev.lse, "lse");
    dev.registerAll(dev.qoIndptr, "qo_indptr");
    dev.registerAll(dev.k, "k");
    dev.registerAll(dev.v, "v");
    dev.registerAll(dev.kvIndptr, "kv_indptr");
    dev.registerAll(dev.kCache, "k_cache");
    dev.registerAll(dev.vCache, "v_cache");
    dev.registerAll(dev.blockTable, "block_table");
    dev.registerAll(dev.kvLens, "kv_lens");

    int64_t maxQ = 0;
    for (int64_t len : variant.qLens)
      maxQ = std::max(maxQ, len);
    unsigned gridX = static_cast<unsigned>((maxQ + built.info.blockQ - 1) /
                                           built.info.blockQ);
    if (gridX > 0 && args.batch > 0) {
      char message[4096] = {};
      int rc = launch(&args, gridX, message, sizeof message);
      if (rc != 0)
        FAIL("the sim launch failed: " << message << "\n--- kernel ---\n"
                                       << built.cuda);
    }

    AttentionOutputs actual;
    for (uint16_t b : dev.o)
      actual.o.push_back(dev.value(b));
    for (float x : dev.lse)
      actual.lse.push_back(x);
    OutputDiff diff = compareOutputs(actual, *expected);
    double oTol = dev.bf16 ? 1e-2 : 2e-3;
    INFO("o rel err " << diff.oRelErr << ", lse max diff " << diff.lseMaxAbsDiff
                      << ", non-finite mismatches " << diff.nonFiniteMismatches
                      << " " << diff.firstMismatch);
    CHECK(diff.within(oTol, 1e-3));
    if (variant.exact)
      CHECK(diff.oRelErr == 0.0);
    // Every O element written (no NaN left), fully masked rows exactly 0.
    for (size_t i = 0; i < actual.o.size(); ++i)
      if (!std::isfinite(actual.o[i]))
        FAIL("o[" << i << "] = " << actual.o[i] << " was not written");
    WARN(variant.name << ": o rel err " << diff.oRelErr << ", lse max diff "
                      << diff.lseMaxAbsDiff);
  }
}
