//===- tile_loop.cuh - The KV loop's tile index and its counters ----------===//
//
// attn.tile_of_ranges: the loop of a mask whose visible KV tiles come in
// several runs iterates t over their union; tileOfRanges maps t to a tile.
//
// Under sim, the kernel also counts what its KV loops do (countKVTile,
// countMaskedTile; runtime/sim/Counters.h), so tests can prove that tile
// skipping visits exactly the tiles that hold a visible element. On a GPU
// the counters compile to nothing.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_TILE_LOOP_CUH
#define ATTNC_DEVICE_TILE_LOOP_CUH

namespace attnc::dev {

/// The t-th tile of the ranges [lo_r, hi_r) given as lo0, hi0, lo1, hi1, ...
/// (a range with hi <= lo is empty): lo_r + (t - p_r) for the last
/// non-empty range r with p_r <= t, p_r the length of the ranges before it;
/// range 0 when none is non-empty. A t past the total continues the last
/// range (the prefetch of the tile after the last one).
template <int N>
__device__ __forceinline__ int tileOfRanges(int t, const int (&bounds)[N]) {
  static_assert(N >= 2 && N % 2 == 0, "bounds come in (lo, hi) pairs");
  int tile = bounds[0] + t;
  int before = 0;
#pragma unroll
  for (int r = 0; r < N; r += 2) {
    int length = bounds[r + 1] - bounds[r];
    length = length > 0 ? length : 0;
    if (r > 0 && length > 0 && before <= t)
      tile = bounds[r] + (t - before);
    before += length;
  }
  return tile;
}

/// One KV tile visited by this program (thread 0 counts for the CTA).
__device__ __forceinline__ void countKVTile() {
#ifdef ATTNC_SIM
  if (threadIdx.x == 0)
    attnc::sim::countEvent(attnc::sim::Event::KVTile);
#endif
}

/// One KV tile that ran the element mask.
__device__ __forceinline__ void countMaskedTile() {
#ifdef ATTNC_SIM
  if (threadIdx.x == 0)
    attnc::sim::countEvent(attnc::sim::Event::MaskedTile);
#endif
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_TILE_LOOP_CUH
