//===- BlockTable.cpp - Explicit K/V addressing ---------------------------===//
//
// Until this pass, K/V loads address logical rows of a sequence. Here each
// load gets a region computing the physical row of logical row `row`:
//
//   paged:  page = block_table[b][row / P];
//           phys = page * page_rows + row % P
//   dense:  phys = kv_indptr[b] + row
//
// The lookup is per row, so it is right for any page size: a KV tile may
// span many pages (P < Bc) or a page many tiles (P > Bc). page_rows, the
// rows from one page's start to the next, is a launch argument (P for a
// contiguous cache, more for K and V sharing one tensor). The code
// generator prints the region where it computes each row's address.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNBLOCKTABLE
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

/// Fills the empty address region of a K or V load.
static void buildAddressRegion(RewriterBase &rewriter, KernelOp kernel,
                               Operation *load, Region &addr, Value batch) {
  Location loc = load->getLoc();
  Type i32 = rewriter.getI32Type();
  OpBuilder::InsertionGuard guard(rewriter);
  Block *block = rewriter.createBlock(&addr, {}, {i32}, {loc});
  Value row = block->getArgument(0);
  Value physical;
  if (kernel.getKvCache() == KVCacheKind::paged) {
    // createOrFold keeps page_size = 1 down to `block_table[b][row]`. A
    // logical row is never negative, so the page and slot are unsigned
    // quotient and remainder: a shift and a mask for a power-of-two page,
    // where signed ones need a rounding fix-up per lookup.
    Value pageSize =
        rewriter.create<arith::ConstantIntOp>(loc, *kernel.getPageSize(), 32);
    Value logicalPage =
        rewriter.createOrFold<arith::DivUIOp>(loc, row, pageSize);
    Value page = rewriter.create<BlockTableOp>(loc, i32, batch, logicalPage);
    Value slot = rewriter.createOrFold<arith::RemUIOp>(loc, row, pageSize);
    // Rows of the page pool fit i32 (the runtime checks the pool's size).
    Value pageRows = rewriter.create<PageRowsOp>(loc, i32);
    Value base = rewriter.createOrFold<arith::MulIOp>(
        loc, page, pageRows, arith::IntegerOverflowFlags::nsw);
    physical = rewriter.createOrFold<arith::AddIOp>(
        loc, base, slot, arith::IntegerOverflowFlags::nsw);
  } else {
    Value start = rewriter.create<KVStartOp>(loc, i32, batch);
    physical = rewriter.create<arith::AddIOp>(loc, start, row,
                                              arith::IntegerOverflowFlags::nsw);
  }
  rewriter.create<YieldRowOp>(loc, physical);
}

LogicalResult attnc::lowerKVAddressing(RewriterBase &rewriter, KernelOp kernel,
                                       ProgramOp program) {
  program.walk([&](Operation *op) {
    if (auto load = dyn_cast<LoadKOp>(op); load && load.getAddr().empty())
      buildAddressRegion(rewriter, kernel, op, load.getAddr(), load.getBatch());
    if (auto load = dyn_cast<LoadVOp>(op); load && load.getAddr().empty())
      buildAddressRegion(rewriter, kernel, op, load.getAddr(), load.getBatch());
  });
  return success();
}

namespace {
struct AttnBlockTablePass
    : public attnc::impl::AttnBlockTableBase<AttnBlockTablePass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    for (SdpaOp sdpa : kernel.getBody().front().getOps<SdpaOp>()) {
      sdpa.emitOpError("has no K/V loads to address yet; run "
                       "--attn-online-softmax first");
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (ProgramOp program : kernel.getBody().front().getOps<ProgramOp>())
      if (failed(lowerKVAddressing(rewriter, kernel, program)))
        return signalPassFailure();
  }
};
} // namespace
