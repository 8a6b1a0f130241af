//===- attention_tile.cuh - Tile operations of an attention kernel --------===//
//
// What the code generator prints a tile-level attn op as: each function is
// one op of the lowered IR (attn.qk, attn.row_max, attn.pv, ...), built
// from the primitives in this directory. A CTA has W warps; warp w owns
// query rows [16 w, 16 w + 16) of the Br = 16 W row tile, so every
// row-carrying value is the warp's 16-row slice:
//
//   AccTile<N>   16 x N fp32 accumulator (S, P, O): N/8 mma C fragments
//   RowVec       per-row statistic (m, l, alpha, LSE): this lane's rows
//                g = lane/4 and g + 8 (x[0], x[1]), the same in all 4
//                lanes of the quad
//   QTile<T, D>  16 x D Q slice as mma A fragments (registers)
//   SmemTile     a Bc x D K or V tile in shared memory, rows padded by 8
//                elements so ldmatrix rows fall in distinct banks
//
// Element i of an AccTile is register i%4 of fragment i/4: row
// accRow(lane, i%4), column 8 (i/4) + accCol(lane, i%4).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_ATTENTION_TILE_CUH
#define ATTNC_DEVICE_ATTENTION_TILE_CUH

#include "attnc_device.cuh"
#include "kernel_args.h"

namespace attnc::dev {

template <int N> struct AccTile {
  static_assert(N % 8 == 0,
                "an accumulator tile is a whole number of n8 tiles");
  static constexpr int kFrags = N / 8;
  static constexpr int kElems = N / 2; // per lane
  FragC f[kFrags];
  ATTNC_DEVICE float &at(int i) { return f[i >> 2].x[i & 3]; }
  ATTNC_DEVICE float at(int i) const { return f[i >> 2].x[i & 3]; }
};

struct RowVec {
  float x[2];
};

template <typename T, int D> struct QTile {
  static_assert(D % 16 == 0, "head_dim is a multiple of 16");
  FragA<T> f[D / 16];
};

template <typename T, int Rows, int D> struct SmemTile {
  static constexpr int kStride = D + 8; // elements between rows
  static constexpr int kBytes = Rows * kStride * static_cast<int>(sizeof(T));
  T *p;
  ATTNC_DEVICE T *row(int r) const { return p + r * kStride; }
};

/// ceil(a / b) and floor(a / b) for signed ints (arith.ceildivsi/floordivsi).
ATTNC_DEVICE int ceilDivS(int a, int b) {
  const int q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}
ATTNC_DEVICE int floorDivS(int a, int b) {
  const int q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// Reads element `index` of a parameter tensor of `size` elements; an index
/// outside it reads 0 (e.g. doc[b, q] at the negative positions of queries
/// that precede every key), never memory past the tensor.
template <typename T>
ATTNC_DEVICE T loadParam(const void *base, long long index, long long size) {
  if (index < 0 || index >= size)
    return T(0);
  return loadGlobal(static_cast<const T *>(base) + index);
}

/// Row of element i of a warp's AccTile within the CTA's Br-row tile.
ATTNC_DEVICE int tileRow(int i) {
  return warpId() * 16 + accRow(laneId(), i & 3);
}
/// Column of element i of an AccTile.
ATTNC_DEVICE int tileCol(int i) {
  return ((i >> 2) << 3) + accCol(laneId(), i & 3);
}
/// Which RowVec entry element i of an AccTile belongs to.
ATTNC_DEVICE int rowHalf(int i) { return (i >> 1) & 1; }

template <int N> ATTNC_DEVICE void fill(AccTile<N> &dst, float v) {
  for (int i = 0; i < AccTile<N>::kElems; ++i)
    dst.at(i) = v;
}
ATTNC_DEVICE void fill(RowVec &dst, float v) { dst.x[0] = dst.x[1] = v; }

/// The warp's Q rows. Tile row r is query row r / G, query head
/// headBase + r % G (G = 1: no packing, one head): element (r, c) is read at
/// q + (r / G) * rowStride + (headBase + r % G) * headStride + c. Query rows
/// at or past `rowsValid` read as zero.
template <int G = 1, typename T, int D>
ATTNC_DEVICE void loadQ(QTile<T, D> &dst, const T *q, long long rowStride,
                        int rowsValid, int headBase = 0, int headStride = 0) {
  const int lane = laneId(), row0 = warpId() * 16;
  for (int ks = 0; ks < D / 16; ++ks) {
    for (int reg = 0; reg < 4; ++reg) {
      // Register reg holds elements 2 reg and 2 reg + 1: same row,
      // adjacent columns.
      const int row = row0 + aRow(lane, 2 * reg);
      const int col = ks * 16 + aCol(lane, 2 * reg);
      float lo = 0.0f, hi = 0.0f;
      if (row / G < rowsValid) {
        const T *src = q + (row / G) * rowStride +
                       static_cast<long long>(headBase + row % G) * headStride +
                       col;
        lo = toFloat(loadGlobal(src));
        hi = toFloat(loadGlobal(src + 1));
      }
      dst.f[ks].x[reg] = pack2<T>(lo, hi);
    }
  }
}

/// Starts copying logical rows [row0, row0 + Rows) of a K or V tile into
/// shared memory with 16-byte cp.async. `physicalRow(r)` gives the row of
/// the [rows, kv_heads, D] view of `base` holding logical row r; the head's
/// D elements start at `headOffset` in it. Rows at or past `rowsValid` are
/// zero-filled and never addressed. All Threads threads call it; commit and
/// wait are the caller's.
template <int Threads, typename T, int Rows, int D, typename RowFn>
ATTNC_DEVICE void loadKVAsync(SmemTile<T, Rows, D> dst, const T *base,
                              long long physicalRowStride, int headOffset,
                              int row0, int rowsValid, RowFn physicalRow) {
  constexpr int kChunks = D / 8; // 16-byte chunks per row
  const int tid = static_cast<int>(threadIdx.x);
  if constexpr (Threads % kChunks == 0) {
    // Each thread keeps one chunk column, so it looks the row up once.
    constexpr int kRowsPerPass = Threads / kChunks;
    const int chunk = tid % kChunks;
    for (int r = tid / kChunks; r < Rows; r += kRowsPerPass) {
      T *d = dst.row(r) + chunk * 8;
      if (r < rowsValid) {
        const long long phys = physicalRow(row0 + r);
        cpAsync16(d, base + phys * physicalRowStride + headOffset + chunk * 8);
      } else {
        cpAsync16OrZero(d, base, false);
      }
    }
  } else {
    for (int c = tid; c < Rows * kChunks; c += Threads) {
      const int r = c / kChunks, chunk = c % kChunks;
      T *d = dst.row(r) + chunk * 8;
      if (r < rowsValid) {
        const long long phys = physicalRow(row0 + r);
        cpAsync16(d, base + phys * physicalRowStride + headOffset + chunk * 8);
      } else {
        cpAsync16OrZero(d, base, false);
      }
    }
  }
}

/// S = scale * Q K^T for the warp's 16 rows and the Bc keys of `k`.
template <typename T, int Bc, int D>
ATTNC_DEVICE void qk(AccTile<Bc> &s, const QTile<T, D> &q, SmemTile<T, Bc, D> k,
                     float scale) {
  const int lane = laneId();
  for (int nt = 0; nt < Bc / 8; ++nt) {
    FragC acc;
    zero(acc);
    for (int ks = 0; ks < D / 16; ++ks) {
      FragB<T> b;
      ldmatrixB(b,
                k.row(nt * 8 + (lane & 7)) + ks * 16 + ((lane >> 3) & 1) * 8);
      mmaM16N8K16(acc, q.f[ks], b, acc);
    }
    for (int r = 0; r < 4; ++r)
      s.f[nt].x[r] = acc.x[r] * scale;
  }
}

/// dst = x * factor, element-wise.
template <int N>
ATTNC_DEVICE void scale(AccTile<N> &dst, const AccTile<N> &x, float factor) {
  for (int i = 0; i < AccTile<N>::kElems; ++i)
    dst.at(i) = x.at(i) * factor;
}

/// m_new = max(m, rowmax(S)).
template <int N>
ATTNC_DEVICE void rowMax(RowVec &dst, const AccTile<N> &s, const RowVec &m) {
  float tileMax[2];
  rowMax(tileMax, s.f);
  dst.x[0] = fmaxf(m.x[0], tileMax[0]);
  dst.x[1] = fmaxf(m.x[1], tileMax[1]);
}

/// exp2(x - m) with 0 where m = -inf: such a row has seen only masked keys,
/// and exp2(-inf - -inf) would be NaN.
ATTNC_DEVICE float exp2Diff(float x, float m) {
  return m == negInf() ? 0.0f : fastExp2(x - m);
}

/// P = exp2(S - m) row-wise.
template <int N>
ATTNC_DEVICE void exp2Diff(AccTile<N> &dst, const AccTile<N> &s,
                           const RowVec &m) {
  for (int i = 0; i < AccTile<N>::kElems; ++i)
    dst.at(i) = exp2Diff(s.at(i), m.x[rowHalf(i)]);
}
/// alpha = exp2(m_old - m_new).
ATTNC_DEVICE void exp2Diff(RowVec &dst, const RowVec &x, const RowVec &m) {
  dst.x[0] = exp2Diff(x.x[0], m.x[0]);
  dst.x[1] = exp2Diff(x.x[1], m.x[1]);
}

/// l_new = alpha l + rowsum(P).
template <int N>
ATTNC_DEVICE void rowSum(RowVec &dst, const AccTile<N> &p, const RowVec &l,
                         const RowVec &alpha) {
  float tileSum[2];
  rowSum(tileSum, p.f);
  dst.x[0] = alpha.x[0] * l.x[0] + tileSum[0];
  dst.x[1] = alpha.x[1] * l.x[1] + tileSum[1];
}

/// acc *= alpha row-wise.
template <int N>
ATTNC_DEVICE void rescale(AccTile<N> &dst, const AccTile<N> &acc,
                          const RowVec &alpha) {
  for (int i = 0; i < AccTile<N>::kElems; ++i)
    dst.at(i) = acc.at(i) * alpha.x[rowHalf(i)];
}

/// acc + P V: P is repacked from its accumulators into A fragments in
/// registers (rounded to T), V is read with ldmatrix.trans.
template <typename T, int Bc, int D>
ATTNC_DEVICE void pv(AccTile<D> &dst, const AccTile<Bc> &p,
                     SmemTile<T, Bc, D> v, const AccTile<D> &acc) {
  static_assert(Bc % 16 == 0, "P V needs whole k16 steps");
  const int lane = laneId();
  AccTile<D> out = acc;
  for (int ks = 0; ks < Bc / 16; ++ks) {
    FragA<T> a;
    accToA(a, p.f[2 * ks], p.f[2 * ks + 1]);
    for (int nt = 0; nt < D / 8; ++nt) {
      FragB<T> b;
      ldmatrixBTrans(b, v.row(ks * 16 + (lane & 15)) + nt * 8);
      mmaM16N8K16(out.f[nt], a, b, out.f[nt]);
    }
  }
  dst = out;
}

/// O = acc / l and LSE = ln2 (m + log2 l); O = 0, LSE = -inf where l = 0.
template <int D>
ATTNC_DEVICE void finalize(AccTile<D> &o, RowVec &lse, const AccTile<D> &acc,
                           const RowVec &m, const RowVec &l) {
  const float kLn2 = 0.69314718055994531f;
  float inv[2];
  for (int r = 0; r < 2; ++r) {
    const bool any = l.x[r] > 0.0f;
    inv[r] = any ? 1.0f / l.x[r] : 0.0f;
    lse.x[r] = any ? (m.x[r] + log2f(l.x[r])) * kLn2 : negInf();
  }
  for (int i = 0; i < AccTile<D>::kElems; ++i)
    o.at(i) = acc.at(i) * inv[rowHalf(i)];
}

/// Writes the warp's O rows (converted to T), laid out as loadQ reads Q;
/// query rows at or past `rowsValid` are not written.
template <int G = 1, typename T, int D>
ATTNC_DEVICE void storeO(T *o, long long rowStride, int rowsValid,
                         const AccTile<D> &src, int headBase = 0,
                         int headStride = 0) {
  for (int i = 0; i < AccTile<D>::kElems; i += 2) {
    const int row = tileRow(i);
    if (row / G >= rowsValid)
      continue;
    T *dst = o + (row / G) * rowStride +
             static_cast<long long>(headBase + row % G) * headStride +
             tileCol(i);
    storeGlobal(dst, fromFloat<T>(src.at(i)));
    storeGlobal(dst + 1, fromFloat<T>(src.at(i + 1)));
  }
}

/// Writes the warp's LSE rows, laid out as loadQ reads Q (one element per
/// row); one lane of each quad writes.
template <int G = 1>
ATTNC_DEVICE void storeLse(float *lse, long long rowStride, int rowsValid,
                           const RowVec &src, int headBase = 0,
                           int headStride = 0) {
  const int lane = laneId();
  if ((lane & 3) != 0)
    return;
  for (int r = 0; r < 2; ++r) {
    const int row = warpId() * 16 + (lane >> 2) + 8 * r;
    if (row / G < rowsValid)
      storeGlobal(lse + (row / G) * rowStride +
                      static_cast<long long>(headBase + row % G) * headStride,
                  src.x[r]);
  }
}

/// attn.merge_splits for one (query row, head) slot per warp: combines the
/// splits' partial O and LSE from the workspace into O (type T) and LSE.
/// Lanes split the head dimension, so partial O is read and O written in
/// consecutive 128-byte runs; each lane recomputes the split weights from
/// the (broadcast, cached) LSE loads rather than keeping an array of them,
/// which would live in local memory.
template <typename T, int D>
ATTNC_DEVICE void mergeSplits(const AttnKernelArgs &args, int qHeads) {
  const int lane = laneId();
  const long long slot =
      static_cast<long long>(blockIdx.x) * (blockDim.x / 32) + warpId();
  const long long slots =
      static_cast<long long>(loadGlobal(args.qo_indptr + args.batch)) * qHeads;
  if (slot >= slots)
    return; // the whole warp: no collectives follow
  float m = negInf();
  for (int s = 0; s < args.num_splits; ++s)
    m = fmaxf(m, loadGlobal(args.lse_partial + s * slots + slot));
  auto weight = [&](int s) {
    return m == negInf()
               ? 0.0f
               : expf(loadGlobal(args.lse_partial + s * slots + slot) - m);
  };
  float sum = 0.0f;
  for (int s = 0; s < args.num_splits; ++s)
    sum += weight(s);
  const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
  T *o = static_cast<T *>(args.o) + slot * D;
  for (int d = lane; d < D; d += 32) {
    float acc = 0.0f;
    for (int s = 0; s < args.num_splits; ++s)
      acc +=
          weight(s) * loadGlobal(args.o_partial + (s * slots + slot) * D + d);
    storeGlobal(o + d, fromFloat<T>(acc * inv));
  }
  if (lane == 0)
    storeGlobal(args.lse + slot, sum > 0.0f ? m + logf(sum) : negInf());
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_ATTENTION_TILE_CUH
