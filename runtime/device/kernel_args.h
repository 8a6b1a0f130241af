//===- kernel_args.h - The argument block of every generated kernel -------===//
//
// One plain struct, the same for every attnc kernel, so the runtime fills
// arguments without knowing a kernel's source: the kernel reads only the
// fields its spec uses. Shared by the host runtime and device code (no
// includes; NVRTC compiles it as it is). Layout per DESIGN's tensor
// contract:
//   q, o: [total_q, q_heads, head_dim]; lse: [total_q, q_heads] (f32)
//   dense: k, v: [total_kv, kv_heads, head_dim]
//   paged: k_cache, v_cache: [num_pages, page_size, kv_heads, head_dim],
//          page p starting page_rows * kv_heads * head_dim elements after
//          page p - 1 (page_size for a dense cache; more when K and V, or
//          several layers, share one tensor);
//          block_table: [batch, max_pages], kv_lens: [batch]
//   params[i]: the i-th `param` of the spec, row-major; param_dims[i][d] is
//          the extent of its dimension d.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_KERNEL_ARGS_H
#define ATTNC_DEVICE_KERNEL_ARGS_H

namespace attnc {

/// Shared-memory scratch of a kernel whose W warps split the columns of
/// its Br x Bc score tile (column_warps.cuh), at the start of dynamic shared
/// memory: a float per (warp, row) for the cross-warp row reductions, then
/// the P tile of Br x (Bc + 8) 16-bit elements (rows padded as SmemTile's).
/// The code generator lays the K, V and Q tiles out after it.
constexpr int columnWarpRedBytes(int warps, int br) {
  return (warps * br * 4 + 15) / 16 * 16;
}
constexpr int columnWarpScratchBytes(int warps, int br, int bc) {
  return columnWarpRedBytes(warps, br) + br * (bc + 8) * 2;
}

struct AttnKernelArgs {
  static constexpr int kMaxParams = 8;
  static constexpr int kMaxParamRank = 4;

  const void *q;
  void *o;
  float *lse;
  const int *qo_indptr;
  const void *k;
  const void *v;
  const int *kv_indptr;
  const void *k_cache;
  const void *v_cache;
  const int *block_table;
  const int *kv_lens;
  int max_pages;
  int page_rows;
  int batch;
  /// Split-KV kernels: how many splits, and the workspace of partial
  /// results: o_partial [num_splits, total_q, q_heads, head_dim] and
  /// lse_partial [2, num_splits, total_q, q_heads], f32: each split's LSE
  /// in two parts, its scaled maximum logit and the log of its sum (their
  /// sum, rounded to one f32, could not weigh splits whose logits are
  /// beyond about 1e6 against each other).
  int num_splits;
  float *o_partial;
  float *lse_partial;
  /// Kernels with a runtime block mask (runtime/device/block_mask.cuh): per
  /// (sequence, mask head, query tile), how many KV tiles are visible and
  /// which (tile * 2 + full), written by the block-mask pre-pass.
  int *block_counts;
  int *block_tiles;
  int block_q_tiles;
  int block_kv_tiles;
  /// Cascade kernels (KernelInfo::qPositions): the position of each query
  /// row, [total_q]. Their merge kernel reads the prefix launch's results
  /// from o_prefix [total_q, q_heads, head_dim] (the dtype of q) and
  /// lse_prefix [total_q, q_heads], and merges them into o and lse.
  const int *q_positions;
  const void *o_prefix;
  const float *lse_prefix;
  const void *params[kMaxParams];
  int param_dims[kMaxParams][kMaxParamRank];
};

} // namespace attnc

#endif // ATTNC_DEVICE_KERNEL_ARGS_H
