//===- LatentKV.cpp - A latent cache's V tile is a view of its K tile -----===//
//
// DeepSeek's MLA caches one latent vector per token; V is its first
// v_head_dim columns, K all of it. Copying V separately would read every
// row twice, so the V load of a tile becomes attn.k_prefix of the K load
// of the same rows.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNLATENTKV
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {
struct AttnLatentKVPass
    : public attnc::impl::AttnLatentKVBase<AttnLatentKVPass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    if (!kernel.getLatentKv())
      return;
    IRRewriter rewriter(&getContext());
    SmallVector<LoadVOp> loads;
    kernel.walk([&](LoadVOp load) { loads.push_back(load); });
    for (LoadVOp load : loads) {
      LoadKOp rowsOfK;
      for (LoadKOp k : load->getBlock()->getOps<LoadKOp>())
        if (k.getBatch() == load.getBatch() &&
            k.getKvHead() == load.getKvHead() && k.getRow0() == load.getRow0())
          rowsOfK = k;
      if (!rowsOfK) {
        load.emitOpError("of a latent cache has no K load of its rows in its "
                         "block to read V from");
        return signalPassFailure();
      }
      // The view is taken where V was loaded; the K tile is loaded first.
      if (load->isBeforeInBlock(rowsOfK))
        rewriter.moveOpBefore(rowsOfK, load);
      rewriter.setInsertionPoint(load);
      rewriter.replaceOpWithNewOp<KPrefixOp>(load, load.getType(), rowsOfK);
    }
  }
};
} // namespace
