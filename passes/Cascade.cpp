//===- Cascade.cpp - Make a kernel one launch of cascade attention --------===//
//
// Cascade attention runs one kernel twice per step, and merges by LSE:
//   prefix launch: batch entry g = a group of sequences sharing a prefix;
//                  its queries are every member's, its keys the shared
//                  pages (kv_len = shared length), read once per group;
//   suffix launch: batch entry b = one sequence over its whole block table,
//                  keys before the shared length masked (and their tiles
//                  skipped by the mask analysis).
// Both need the query positions from the launch and a per-entry first key;
// this pass adds them to attn.sdpa. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "runtime/core/KernelInfo.h"
#include "runtime/device/kernel_args.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNCASCADE
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

static constexpr StringLiteral kKVStartParam(kCascadeKVStartParam);

/// Whether a region of `sdpa` reads the sequence index b (directly or by
/// indexing a parameter with it).
static Operation *firstBatchRead(SdpaOp sdpa, Region *&where) {
  for (Region *region : {&sdpa.getScoreMod(), &sdpa.getMask(), &sdpa.getSink(),
                         &sdpa.getKScale(), &sdpa.getVScale()}) {
    if (region->empty())
      continue;
    Value b = region->getArgument(SdpaOp::kBatch);
    if (!b.use_empty()) {
      where = region;
      return *b.getUsers().begin();
    }
  }
  return nullptr;
}

static LogicalResult makeCascade(KernelOp kernel, SdpaOp sdpa) {
  if (sdpa.getQPositions())
    return success();
  if (kernel.getKvCache() != KVCacheKind::paged)
    return kernel.emitOpError("cascade attention needs a paged KV cache (the "
                              "shared prefix is a run of shared pages)");
  Region *region = nullptr;
  if (Operation *read = firstBatchRead(sdpa, region))
    return read->emitOpError("reads the sequence index b, which cascade "
                             "attention's prefix launch cannot give (its "
                             "batch entries are groups of sequences)");
  if (kernel.lookupParam(kKVStartParam))
    return kernel.emitOpError("already has a parameter named '")
           << kKVStartParam << "', which attn-cascade adds";
  size_t params = llvm::range_size(kernel.getBody().front().getOps<ParamOp>());
  if (params >= AttnKernelArgs::kMaxParams)
    return kernel.emitOpError("has ")
           << params << " parameters; attn-cascade needs one more and a "
           << "kernel takes at most " << AttnKernelArgs::kMaxParams;

  OpBuilder builder(kernel.getContext());
  Location loc = sdpa.getLoc();
  builder.setInsertionPoint(sdpa);
  builder.create<ParamOp>(loc, builder.getStringAttr(kKVStartParam),
                          TypeAttr::get(builder.getI32Type()),
                          builder.getDenseI64ArrayAttr({kBatchDim}),
                          UnitAttr());

  // mask' = mask && kv >= cascade_kv_start[b], located at the user's mask
  // expression so that what the mask analysis says points there.
  Block &mask = sdpa.getMask().front();
  auto yield = cast<YieldOp>(mask.getTerminator());
  if (Operation *expr = yield.getValue().getDefiningOp())
    loc = expr->getLoc();
  builder.setInsertionPoint(yield);
  Value start =
      builder.create<ParamLoadOp>(loc, builder.getI32Type(), kKVStartParam,
                                  ValueRange{mask.getArgument(SdpaOp::kBatch)});
  Value after = builder.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::sge, mask.getArgument(SdpaOp::kKV), start);
  Value keep = builder.create<arith::AndIOp>(loc, yield.getValue(), after);
  yield.getValueMutable().assign(keep);
  sdpa.setQPositions(true);
  return success();
}

namespace {
struct AttnCascadePass : public attnc::impl::AttnCascadeBase<AttnCascadePass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    auto sdpas = kernel.getBody().front().getOps<SdpaOp>();
    if (sdpas.empty()) {
      kernel.emitOpError("attn-cascade runs on attn.sdpa, before "
                         "attn-online-softmax");
      return signalPassFailure();
    }
    if (failed(makeCascade(kernel, *sdpas.begin())))
      signalPassFailure();
  }
};
} // namespace
