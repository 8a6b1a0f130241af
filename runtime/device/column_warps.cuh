//===- column_warps.cuh - Tiles whose warps split the columns -------------===//
//
// Past a head dim of 256 (MLA's 576 / 512) a warp cannot hold a 16-row
// slice of O and Q in registers: 16 x 512 f32 alone is 256 registers a
// lane. A program with `column_warps` (attn-tile) lets its W warps share
// every one of the Br = 16 MB rows instead, and split the columns: warp w
// holds columns [w N / W, (w + 1) N / W) of each Br x N f32 tile (S, P, O).
//
//   ColAcc<N, W, MB>  this warp's Br x N/W slice: an AccTile<N / W, MB>
//                     whose row() and col() are the CTA tile's
//   ColRows<W, MB>    per-row statistics; m is the same in every warp, l is
//                     this warp's partial sum (over its columns of P)
//
// Q lives in shared memory (loadQSharedAll) and each warp multiplies it by
// its Bc / W keys of the K tile. The row maximum is combined through shared
// memory once a tile; P goes through shared memory into the P V product,
// where each warp multiplies all Bc keys of P by its columns of V; the
// partial row sums are combined once, by finalize (and storeLseParts).
// The scratch sits at the start of dynamic shared memory
// (columnWarpScratchBytes in kernel_args.h).
//
// The functions here overload attention_tile.cuh's for these types; the
// element-wise ones (exp2Diff, rescale, fill, scale) and the per-warp
// rowSum are attention_tile.cuh's, reached through the base classes.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_COLUMN_WARPS_CUH
#define ATTNC_DEVICE_COLUMN_WARPS_CUH

#include "attention_tile.cuh"

namespace attnc::dev {

template <int N, int W, int MB = 1> struct ColAcc : AccTile<N / W, MB> {
  static_assert(N % (8 * W) == 0,
                "each warp's columns are a whole number of n8 tiles");
  using Base = AccTile<N / W, MB>;
  static constexpr int kCols = N / W;
  /// Row of element i within the CTA's Br-row tile (every warp has all).
  static ATTNC_DEVICE int row(int i) {
    return (i / Base::kBlockElems) * 16 + accRow(laneId(), i & 3);
  }
  /// Column of element i within the CTA's N columns.
  static ATTNC_DEVICE int col(int i) {
    return warpId() * kCols + (((i % Base::kBlockElems) >> 2) << 3) +
           accCol(laneId(), i & 3);
  }
};

template <int W, int MB = 1> struct ColRows : Rows<MB> {
  /// Row of entry r within the CTA's Br-row tile.
  static ATTNC_DEVICE int row(int r) {
    return (r / 2) * 16 + accRow(laneId(), (r & 1) << 1);
  }
};

/// Combines one value per row across the W warps (`op`: max or sum): each
/// quad's first lane posts its rows, every thread reads all W. With
/// `reuse`, a barrier after the reads frees the scratch for the next
/// combine; in the KV loop the P V product's barrier does that.
template <int W, int MB, bool Reuse, typename Op>
ATTNC_DEVICE void combineAcrossWarps(float (&v)[2 * MB], Op op) {
  constexpr int kBr = 16 * MB;
  float *red = reinterpret_cast<float *>(dynamicSmemBase());
  const int lane = laneId(), warp = warpId();
  if ((lane & 3) == 0) {
    ATTNC_UNROLL
    for (int r = 0; r < 2 * MB; ++r)
      storeShared(red + warp * kBr + ColRows<W, MB>::row(r), v[r]);
  }
  __syncthreads();
  ATTNC_UNROLL
  for (int r = 0; r < 2 * MB; ++r) {
    const int row = ColRows<W, MB>::row(r);
    float acc = loadShared(red + row);
    ATTNC_UNROLL
    for (int w = 1; w < W; ++w)
      acc = op(acc, loadShared(red + w * kBr + row));
    v[r] = acc;
  }
  if constexpr (Reuse)
    __syncthreads();
}

struct MaxOp {
  ATTNC_DEVICE float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  ATTNC_DEVICE float operator()(float a, float b) const { return a + b; }
};

/// The whole rows' sums l from the warps' partial ones.
template <int W, int MB, bool Reuse = true>
ATTNC_DEVICE ColRows<W, MB> totalRows(const ColRows<W, MB> &partial) {
  ColRows<W, MB> total = partial;
  combineAcrossWarps<W, MB, Reuse>(total.x, SumOp{});
  return total;
}

/// loadQ into shared memory by every thread of the CTA (all warps read
/// every row): element (r, c) of the Br x D tile is Q's row r / G, head
/// headBase + r % G, column c; rows at or past `rowsValid` (in query rows)
/// and columns at or past Cols (0: D) are zeros. Once per program; ends
/// with a barrier.
template <int G = 1, int Cols = 0, typename T, int Br, int D>
ATTNC_DEVICE void loadQSharedAll(SmemTile<T, Br, D> dst, const T *q,
                                 long long rowStride, int rowsValid,
                                 int headBase = 0, int headStride = 0) {
  constexpr int kCols = Cols == 0 ? D : Cols;
  for (int e = static_cast<int>(threadIdx.x); e < Br * D / 2;
       e += static_cast<int>(blockDim.x)) {
    const int row = e / (D / 2), col = 2 * (e % (D / 2));
    float lo = 0.0f, hi = 0.0f;
    if (row / G < rowsValid && col < kCols) {
      const T *src = q + (row / G) * rowStride +
                     static_cast<long long>(headBase + row % G) * headStride +
                     col;
      lo = toFloat(loadGlobal(src));
      hi = toFloat(loadGlobal(src + 1)); // kCols is even: both or neither
    }
    storeShared(reinterpret_cast<unsigned *>(dst.row(row) + col),
                pack2<T>(lo, hi));
  }
  __syncthreads();
}

/// S = scale * Q K^T for all Br rows and this warp's Bc / W keys of `k`
/// (qkFromShared: an .x2 for the last n-tile where the warp has an odd
/// number of them).
template <typename T, int Bc, int D, int W, int MB, int Br>
ATTNC_DEVICE void qk(ColAcc<Bc, W, MB> &s, SmemTile<T, Br, D> q,
                     SmemTile<T, Bc, D> k, float scale) {
  static_assert(Br == 16 * MB, "every warp holds every row");
  qkFromShared<Bc / W>(s.f, q, 0, k, warpId() * (Bc / W));
  ATTNC_UNROLL
  for (int i = 0; i < ColAcc<Bc, W, MB>::kElems; ++i)
    s.at(i) *= scale;
}

/// m_new = max(m, rowmax(S)) over every warp's keys.
template <int N, int W, int MB>
ATTNC_DEVICE void rowMax(ColRows<W, MB> &dst, const ColAcc<N, W, MB> &s,
                         const ColRows<W, MB> &m) {
  float tileMax[2 * MB];
  ATTNC_UNROLL
  for (int mb = 0; mb < MB; ++mb) {
    float part[2];
    rowMax(part, s.f[mb]);
    tileMax[2 * mb] = part[0];
    tileMax[2 * mb + 1] = part[1];
  }
  combineAcrossWarps<W, MB, false>(tileMax, MaxOp{});
  ATTNC_UNROLL
  for (int r = 0; r < 2 * MB; ++r)
    dst.x[r] = fmaxf(m.x[r], tileMax[r]);
}

/// acc + P V for this warp's columns of O: each warp writes its keys of P
/// (rounded to T) to shared memory, and after a barrier reads all Bc of
/// them as A fragments, against its columns of the V tile (ldmatrix.trans).
template <typename T, int Bc, int D, int W, int MB, int S>
ATTNC_DEVICE void pv(ColAcc<D, W, MB> &dst, const ColAcc<Bc, W, MB> &p,
                     SmemTile<T, Bc, D, S> v, const ColAcc<D, W, MB> &acc) {
  static_assert(Bc % 16 == 0, "P V needs whole k16 steps");
  constexpr int kBr = 16 * MB, kPStride = Bc + 8;
  constexpr int kKeys = Bc / W, kCols = D / W;
  constexpr int kVStride = S;
  const int lane = laneId(), warp = warpId();
  T *pTile =
      reinterpret_cast<T *>(dynamicSmemBase() + columnWarpRedBytes(W, kBr));
  ATTNC_UNROLL
  for (int mb = 0; mb < MB; ++mb)
    ATTNC_UNROLL
  for (int nt = 0; nt < kKeys / 8; ++nt) {
    const FragC &c = p.f[mb][nt];
    T *at = pTile + (mb * 16 + (lane >> 2)) * kPStride + warp * kKeys + nt * 8 +
            2 * (lane & 3);
    storeShared(reinterpret_cast<unsigned *>(at), pack2<T>(c.x[0], c.x[1]));
    storeShared(reinterpret_cast<unsigned *>(at + 8 * kPStride),
                pack2<T>(c.x[2], c.x[3]));
  }
  __syncthreads();
  const T *aBase = pTile + (lane & 15) * kPStride + (lane >> 4) * 8;
  const unsigned aAddr = smemAddress(aBase);
  const T *vBase = v.row(lane & 15) + (lane >> 4) * 8 + warp * kCols;
  const unsigned vAddr = smemAddress(vBase);
  const T *vRow = v.row(lane & 15) + warp * kCols;
  const unsigned vRowAddr = smemAddress(vRow);
  ColAcc<D, W, MB> out = acc;
  ATTNC_UNROLL
  for (int ks = 0; ks < Bc / 16; ++ks) {
    FragA<T> a[MB];
    ATTNC_UNROLL
    for (int mb = 0; mb < MB; ++mb) {
      const int offset = mb * 16 * kPStride + ks * 16;
      ldmatrixX4(a[mb].x, aBase + offset,
                 aAddr + offset * static_cast<unsigned>(sizeof(T)));
    }
    ATTNC_UNROLL
    for (int nt = 0; nt + 1 < kCols / 8; nt += 2) {
      unsigned r[4];
      const int offset = ks * 16 * kVStride + nt * 8;
      ldmatrixX4Trans(r, vBase + offset,
                      vAddr + offset * static_cast<unsigned>(sizeof(T)));
      const FragB<T> b[2] = {{{r[0], r[1]}}, {{r[2], r[3]}}};
      ATTNC_UNROLL
      for (int h = 0; h < 2; ++h)
        ATTNC_UNROLL
      for (int mb = 0; mb < MB; ++mb)
        mmaM16N8K16(out.f[mb][nt + h], a[mb], b[h], out.f[mb][nt + h]);
    }
    if constexpr ((kCols / 8) % 2 != 0) {
      constexpr int nt = kCols / 8 - 1;
      FragB<T> b;
      const int offset = ks * 16 * kVStride + nt * 8;
      ldmatrixX2Trans(b.x, vRow + offset,
                      vRowAddr + offset * static_cast<unsigned>(sizeof(T)));
      ATTNC_UNROLL
      for (int mb = 0; mb < MB; ++mb)
        mmaM16N8K16(out.f[mb][nt], a[mb], b, out.f[mb][nt]);
    }
  }
  dst = out;
}

/// finalize over the whole rows: the warps' partial sums are combined
/// first.
template <int D, int W, int MB>
ATTNC_DEVICE void finalize(ColAcc<D, W, MB> &o, ColRows<W, MB> &lse,
                           const ColAcc<D, W, MB> &acc, const ColRows<W, MB> &m,
                           const ColRows<W, MB> &l, float scale = 1.0f) {
  const ColRows<W, MB> total = totalRows(l);
  finalize(static_cast<AccTile<D / W, MB> &>(o), static_cast<Rows<MB> &>(lse),
           static_cast<const AccTile<D / W, MB> &>(acc),
           static_cast<const Rows<MB> &>(m),
           static_cast<const Rows<MB> &>(total), scale);
}

/// storeO for this warp's columns of the Br rows.
template <int G = 1, int Cols = 0, typename T, int D, int W, int MB>
ATTNC_DEVICE void storeO(T *o, long long rowStride, int rowsValid,
                         const ColAcc<D, W, MB> &src, int headBase = 0,
                         int headStride = 0) {
  using Tile = ColAcc<D, W, MB>;
  constexpr int kCols = Cols == 0 ? D : Cols;
  ATTNC_UNROLL
  for (int i = 0; i < Tile::kElems; i += 2) {
    const int row = Tile::row(i), col = Tile::col(i);
    if (row / G >= rowsValid || (kCols != D && col >= kCols))
      continue;
    T *dst = o + (row / G) * rowStride +
             static_cast<long long>(headBase + row % G) * headStride + col;
    storeGlobal(dst, fromFloat<T>(src.at(i)));
    storeGlobal(dst + 1, fromFloat<T>(src.at(i + 1)));
  }
}

/// forEachStoredRow for row statistics every warp holds: warp 0 stores.
template <int G, int W, int MB, typename Fn>
ATTNC_DEVICE void forEachStoredColRow(long long rowStride, int rowsValid,
                                      int headBase, int headStride, Fn fn) {
  if (warpId() != 0 || (laneId() & 3) != 0)
    return;
  ATTNC_UNROLL
  for (int r = 0; r < 2 * MB; ++r) {
    const int row = ColRows<W, MB>::row(r);
    if (row / G < rowsValid)
      fn((row / G) * rowStride +
             static_cast<long long>(headBase + row % G) * headStride,
         r);
  }
}

template <int G = 1, int W, int MB>
ATTNC_DEVICE void storeLse(float *lse, long long rowStride, int rowsValid,
                           const ColRows<W, MB> &src, int headBase = 0,
                           int headStride = 0) {
  forEachStoredColRow<G, W, MB>(
      rowStride, rowsValid, headBase, headStride,
      [&](long long at, int r) { storeGlobal(lse + at, src.x[r]); });
}

/// storeLseParts from the whole rows' sum (l is a warp's partial one).
template <int G = 1, int W, int MB>
ATTNC_DEVICE void storeLseParts(float *hi, float *lo, long long rowStride,
                                int rowsValid, const ColRows<W, MB> &m,
                                const ColRows<W, MB> &l, float scale = 1.0f,
                                int headBase = 0, int headStride = 0) {
  const float kLn2 = 0.69314718055994531f;
  const ColRows<W, MB> total = totalRows(l);
  forEachStoredColRow<G, W, MB>(
      rowStride, rowsValid, headBase, headStride, [&](long long at, int r) {
        const bool none = total.x[r] == 0.0f;
        storeGlobal(hi + at, none ? negInf() : m.x[r] * scale * kLn2);
        storeGlobal(lo + at, none ? negInf() : logf(total.x[r]));
      });
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_COLUMN_WARPS_CUH
