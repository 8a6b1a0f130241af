//===- block_mask.cuh - A runtime block mask: build it, iterate over it ---===//
//
// attn.block_mask is a pre-pass kernel: CTA (query tile qt, head group h,
// sequence b) evaluates the mask on every element of its query tile against
// every KV tile of the sequence and writes the list of KV tiles holding a
// visible element, in increasing order, each as tile * 2 + full (full: no
// element inside the sequence is masked). The attention kernel then
// iterates over that list (attn.block_count, attn.block_entry) and runs the
// element mask on the partial tiles only. Layout, MaskHeads lists per
// sequence (the head groups when the mask reads h, else one):
//   block_counts [batch, MaskHeads, block_q_tiles]
//   block_tiles  [batch, MaskHeads, block_q_tiles, block_kv_tiles]
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_BLOCK_MASK_CUH
#define ATTNC_DEVICE_BLOCK_MASK_CUH

#include "kernel_args.h"
#include "memory.cuh"

namespace attnc::dev {

/// The list of (sequence b, head group h, query tile qt).
template <int MaskHeads>
ATTNC_DEVICE long long blockListSlot(const AttnKernelArgs &args, int b, int h,
                                     int qt) {
  return (static_cast<long long>(b) * MaskHeads + (MaskHeads > 1 ? h : 0)) *
             args.block_q_tiles +
         qt;
}

template <int MaskHeads>
ATTNC_DEVICE int blockCount(const AttnKernelArgs &args, int b, int h, int qt) {
  return loadGlobal(args.block_counts +
                    blockListSlot<MaskHeads>(args, b, h, qt));
}

/// Entry t of the list: a KV tile and whether it is full. Past the count, a
/// tile past every sequence (block_kv_tiles), partial: the prefetch of the
/// tile after the last one loads nothing from it.
struct BlockEntry {
  int tile;
  bool full;
};
template <int MaskHeads>
ATTNC_DEVICE BlockEntry blockEntry(const AttnKernelArgs &args, int b, int h,
                                   int qt, int t, int count) {
  if (t >= count)
    return {args.block_kv_tiles, false};
  const int e = loadGlobal(
      args.block_tiles +
      blockListSlot<MaskHeads>(args, b, h, qt) * args.block_kv_tiles + t);
  return {e >> 1, (e & 1) != 0};
}

/// The pre-pass body for one list: `mask(q, head, kv)` on every element of
/// the query tile (Rows tile rows, Pack of them per query row: row r is
/// query row r / Pack of head h * Pack + r % Pack) against every KV tile.
/// Rows past q_len and keys past kv_len are not evaluated. `classify(
/// head_first, head_last, q_first, q_last, kv_first, kv_last)` bounds a
/// tile first (bit 0: some element can be visible, bit 1: some can be
/// masked); a tile it settles is not evaluated. Every thread takes part in
/// the barriers (each tile's verdict is block-uniform).
template <int Rows, int Pack, int BlockKV, class Classify, class Mask>
ATTNC_DEVICE void buildBlockList(const AttnKernelArgs &args, long long slot,
                                 int qt, int h, int qLen, int kvLen,
                                 const Classify &classify, const Mask &mask) {
  constexpr int kQueryRows = Rows / Pack;
  int *counts = args.block_counts;
  int *list = args.block_tiles + slot * args.block_kv_tiles;
  const int row0 = qt * kQueryRows;
  const int rows = (qLen - row0 < kQueryRows ? qLen - row0 : kQueryRows) * Pack;
  const int q0 = kvLen - qLen + row0;
  const int kvTiles = (kvLen + BlockKV - 1) / BlockKV;
  int count = 0;
  for (int j = 0; j < kvTiles; ++j) {
    const int kv0 = j * BlockKV;
    const int cols = kvLen - kv0 < BlockKV ? kvLen - kv0 : BlockKV;
    // A tile of at most one element per thread costs one pass to evaluate:
    // bounding it first (warp-wide param scans) would cost more.
    const int verdict =
        rows * cols <= static_cast<int>(blockDim.x)
            ? 3
            : classify(h * Pack, h * Pack + Pack - 1, q0, q0 + rows / Pack - 1,
                       kv0, kv0 + cols - 1);
    if (!(verdict & 1))
      continue;           // no element can be visible
    if (!(verdict & 2)) { // every element is visible
      if (threadIdx.x == 0)
        list[count] = j * 2 + 1;
      ++count;
      continue;
    }
    bool visible = false, masked = false;
    for (int e = threadIdx.x; e < rows * cols; e += blockDim.x) {
      const int r = e / cols;
      const bool keep =
          mask(q0 + r / Pack, h * Pack + r % Pack, kv0 + e % cols);
      visible = visible || keep;
      masked = masked || !keep;
    }
    const bool anyVisible = __syncthreads_or(visible) != 0;
    const bool anyMasked = __syncthreads_or(masked) != 0;
    if (anyVisible) {
      if (threadIdx.x == 0)
        list[count] = j * 2 + (anyMasked ? 0 : 1);
      ++count;
    }
  }
  if (threadIdx.x == 0)
    counts[slot] = count;
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_BLOCK_MASK_CUH
