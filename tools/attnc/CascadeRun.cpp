//===- CascadeRun.cpp - attnc run --cascade -------------------------------===//
//
// Parallel sampling's shape on random inputs: the batch is cut into groups
// of consecutive sequences, and every member of a group maps its leader's
// first pages (the shared prompt), as the KV manager's forks do. Cascade
// attention reads those pages once per group; the check compares its
// output with the float64 reference over whole sequences, and under sim
// the K/V bytes read with one plain launch over the same block tables.
//
//===----------------------------------------------------------------------===//
#include "RunCommand.h"

#include "runtime/api/Runtime.h"
#include "runtime/sim/Counters.h"
#include "runtime/sim/Launch.h"
#include "tune/CascadeInputs.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace attnc;

namespace {
int fail(const std::string &message) { return runFailure(message); }
} // namespace

int attnc::runCascadeCommand(Runtime &runtime, JitKernels &jit,
                             JitKernels &plain, AttentionInputs inputs,
                             const RunOptions &options) {
  const KernelInfo &info = jit.info();
  if (!info.paged)
    return fail("--cascade needs a paged KV cache (kv_cache = paged(...))");
  int64_t batch = inputs.batch();
  Expected<CascadeLayout> layout = shareLeadingPages(
      inputs, info.pageSize, options.sharedPrefix, options.groupSize);
  if (!layout)
    return fail("--cascade: " + layout.status().message());
  int64_t groups = layout->groups();
  llvm::errs() << "attnc run: cascade: " << batch << " sequences in " << groups
               << " group" << (groups == 1 ? "" : "s") << ", sharing "
               << layout->sharedKeys << " keys (" << layout->sharedPages
               << " pages)\n";

  int64_t maxQ = 0, maxKV = 0;
  for (int64_t b = 0; b < batch; ++b) {
    maxQ = std::max<int64_t>(maxQ, inputs.qoIndptr[b + 1] - inputs.qoIndptr[b]);
    maxKV = std::max<int64_t>(maxKV, inputs.kvLens[b]);
  }
  Expected<JitKernels::Selection> pick = jit.select(batch, maxQ, maxKV);
  if (!pick)
    return fail(pick.status().toString());
  llvm::errs() << "attnc run: cascade kernel: " << pick->why << "\n";
  int splits = options.splits ? options.splits : pick->numSplits;

  Backend &backend = runtime.backend();
  bool onSim = std::string(backend.name()) == "sim";
  StagedCascade staged(backend, info);
  CascadeTensors tensors;
  Status s = staged.stage(inputs, *layout, tensors);
  sim::resetCounters();
  CascadeReport report;
  if (s.ok())
    s = runtime.runCascade(pick->kernel, tensors, nullptr, splits, &report);
  if (!s.ok())
    return fail(s.toString());
  int64_t cascadeBytes = sim::readCounters().kvBytesRead;
  std::vector<float> o, lse;
  if (Status f = staged.fetch(tensors, o, lse); !f.ok())
    return fail(f.toString());
  llvm::outs() << "key rows read per KV head: " << report.prefixRows
               << " shared + " << report.suffixRows
               << " own = " << report.prefixRows + report.suffixRows
               << " (one launch over "
               << "whole sequences: " << report.plainRows << ")\n";

  if (onSim) {
    // The same tables through the plain kernel, for the bytes it reads.
    Expected<JitKernels::Selection> plainPick =
        plain.select(batch, maxQ, maxKV);
    if (!plainPick)
      return fail(plainPick.status().toString());
    StagedTensors plainStaged(backend, plain.info());
    AttentionTensors plainTensors;
    Status p = plainStaged.stage(inputs, plainTensors);
    sim::resetCounters();
    if (p.ok())
      p = runtime.run(plainPick->kernel, plainTensors, nullptr, splits);
    if (p.ok())
      p = backend.synchronize(nullptr);
    if (!p.ok())
      return fail("the plain kernel: " + p.toString());
    int64_t plainBytes = sim::readCounters().kvBytesRead;
    llvm::outs() << "K/V bytes read: cascade " << cascadeBytes << ", plain "
                 << plainBytes;
    if (cascadeBytes > 0)
      llvm::outs() << llvm::format(" (%.2fx fewer)",
                                   double(plainBytes) / double(cascadeBytes));
    llvm::outs() << "\n";
  }
  if (!options.check)
    return 0;
  return checkOutputs(jit, info, backend.name(), inputs, o, lse);
}
