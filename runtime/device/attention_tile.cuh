//===- attention_tile.cuh - Tile operations of an attention kernel --------===//
//
// What the code generator prints a tile-level attn op as: each function is
// one op of the lowered IR (attn.qk, attn.row_max, attn.pv, ...), built
// from the primitives in this directory. A CTA has W warps; warp w owns
// query rows [16 MB w, 16 MB (w + 1)) of the Br = 16 MB W row tile, as MB
// blocks of 16 rows (the mma's M), so every row-carrying value is the
// warp's slice:
//
//   AccTile<N, MB>   16 MB x N fp32 accumulator (S, P, O): MB x N/8 mma C
//                    fragments
//   Rows<MB>         per-row statistic (m, l, alpha, LSE): in block b, this
//                    lane's rows g = lane/4 and g + 8 (x[2b], x[2b + 1]),
//                    the same in all 4 lanes of the quad; RowVec = Rows<1>
//   QTile<T, D, MB>  16 MB x D Q slice as mma A fragments (registers)
//   SmemTile         a Bc x D K or V tile in shared memory, rows padded by 8
//                    elements so ldmatrix rows fall in distinct banks
//
// Element i of an AccTile lies in row block b = i / (N/2); with
// j = i % (N/2) it is register j%4 of that block's fragment j/4: row
// 16 b + accRow(lane, j%4), column 8 (j/4) + accCol(lane, j%4). More
// blocks per warp reuse each K/V fragment loaded from shared memory MB
// times, at the price of MB times the accumulator registers.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_ATTENTION_TILE_CUH
#define ATTNC_DEVICE_ATTENTION_TILE_CUH

#include "attnc_device.cuh"
#include "block_mask.cuh"
#include "kernel_args.h"
#include "tile_loop.cuh"

namespace attnc::dev {

template <int N, int MB = 1> struct AccTile {
  static_assert(N % 8 == 0,
                "an accumulator tile is a whole number of n8 tiles");
  static constexpr int kFrags = N / 8;      // per row block
  static constexpr int kBlockElems = N / 2; // per lane and row block
  static constexpr int kElems = MB * kBlockElems;
  FragC f[MB][kFrags];
  // The blocks are contiguous, so element i is register i%4 of fragment i/4
  // counted across blocks: the same index arithmetic as a single block,
  // which ptxas keeps in registers once the loops are unrolled.
  ATTNC_DEVICE float &at(int i) { return (&f[0][0])[i >> 2].x[i & 3]; }
  ATTNC_DEVICE float at(int i) const { return (&f[0][0])[i >> 2].x[i & 3]; }
  /// Row of element i within the CTA's Br-row tile.
  static ATTNC_DEVICE int row(int i) {
    if constexpr (MB == 1)
      return warpId() * 16 + accRow(laneId(), i & 3);
    else
      return (warpId() * MB + i / kBlockElems) * 16 + accRow(laneId(), i & 3);
  }
  /// Column of element i.
  static ATTNC_DEVICE int col(int i) {
    if constexpr (MB == 1)
      return ((i >> 2) << 3) + accCol(laneId(), i & 3);
    else
      return (((i % kBlockElems) >> 2) << 3) + accCol(laneId(), i & 3);
  }
  /// Which Rows<MB> entry element i belongs to.
  static ATTNC_DEVICE int half(int i) {
    if constexpr (MB == 1)
      return (i >> 1) & 1;
    else
      return 2 * (i / kBlockElems) + ((i >> 1) & 1);
  }
};

/// One value per accumulator row a thread holds: entry r is the row of
/// AccTile<N, MB> elements with half(i) == r.
template <int MB> struct Rows {
  static constexpr int kRows = 2 * MB;
  float x[2 * MB];
  /// Row of entry r within the CTA's Br-row tile.
  static ATTNC_DEVICE int row(int r) {
    return (warpId() * MB + r / 2) * 16 + accRow(laneId(), (r & 1) << 1);
  }
};
using RowVec = Rows<1>;

template <typename T, int D, int MB = 1> struct QTile {
  static_assert(D % 16 == 0, "head_dim is a multiple of 16");
  FragA<T> f[MB][D / 16];
};

/// Stride: elements between rows, D + 8 for a tile of its own; a view of
/// another tile's first D columns (a latent cache's V in its K tile,
/// attn.k_prefix) keeps that tile's.
template <typename T, int Rows, int D, int Stride = D + 8> struct SmemTile {
  static constexpr int kStride = Stride;
  static constexpr int kBytes = Rows * kStride * static_cast<int>(sizeof(T));
  T *p;
  ATTNC_DEVICE T *row(int r) const { return p + r * kStride; }
};

/// i32 arithmetic of the DSL, defined for every operand (docs/dsl.md): + - *
/// wrap around (two's complement), x / 0 == 0, x % 0 == x, and INT_MIN / -1
/// wraps to INT_MIN (INT_MIN % -1 == 0). Plain C++ `int` arithmetic is
/// undefined there, which the host compiler of the sim backend turns into
/// traps and the GPU compiler into whatever it likes. Unsigned arithmetic
/// compiles to the same instructions.
ATTNC_DEVICE int wrapAdd(int a, int b) {
  return static_cast<int>(static_cast<unsigned>(a) + static_cast<unsigned>(b));
}
ATTNC_DEVICE int wrapSub(int a, int b) {
  return static_cast<int>(static_cast<unsigned>(a) - static_cast<unsigned>(b));
}
ATTNC_DEVICE int wrapMul(int a, int b) {
  return static_cast<int>(static_cast<unsigned>(a) * static_cast<unsigned>(b));
}
ATTNC_DEVICE int divS(int a, int b) {
  if (b == 0)
    return 0;
  if (b == -1)
    return wrapSub(0, a);
  return a / b;
}
ATTNC_DEVICE int remS(int a, int b) {
  if (b == 0)
    return a;
  if (b == -1)
    return 0;
  return a % b;
}

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

struct IntRange {
  int min, max;
};

/// attn.param_range: the smallest and largest of the i32 parameter
/// `base[offset + i * stride]` over i in [first, last], where an i outside
/// [0, extent), or `inside` false (another index outside its extent),
/// reads 0 as loadParam does; {0, 0} when first > last. Warp-cooperative:
/// every lane of the warp calls it with the same arguments, reads every
/// 32nd element, and the warp reduces, so bounding a 64-key tile costs two
/// loads and ten shuffles per lane.
ATTNC_DEVICE IntRange paramRange(const void *base, long long offset,
                                 long long stride, long long extent,
                                 bool inside, int first, int last) {
  if (first > last)
    return {0, 0};
  const int *p = static_cast<const int *>(base);
  int lo = 0x7fffffff, hi = -0x7fffffff - 1;
  for (long long i = static_cast<long long>(first) + (threadIdx.x & 31);
       i <= last; i += 32) {
    int v = inside && i >= 0 && i < extent ? loadGlobal(p + offset + i * stride)
                                           : 0;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  ATTNC_UNROLL
  for (int lanes = 16; lanes > 0; lanes /= 2) {
    int otherLo = __shfl_xor_sync(kFullMask, lo, lanes);
    int otherHi = __shfl_xor_sync(kFullMask, hi, lanes);
    lo = otherLo < lo ? otherLo : lo;
    hi = otherHi > hi ? otherHi : hi;
  }
  return {lo, hi};
}

template <int N, int MB> ATTNC_DEVICE void fill(AccTile<N, MB> &dst, float v) {
  ATTNC_UNROLL
  for (int i = 0; i < AccTile<N, MB>::kElems; ++i)
    dst.at(i) = v;
}
template <int MB> ATTNC_DEVICE void fill(Rows<MB> &dst, float v) {
  ATTNC_UNROLL
  for (int r = 0; r < 2 * MB; ++r)
    dst.x[r] = v;
}

/// The warp's Q rows. Tile row r is query row r / G, query head
/// headBase + r % G (G = 1: no packing, one head): element (r, c) is read at
/// q + (r / G) * rowStride + (headBase + r % G) * headStride + c. Query rows
/// at or past `rowsValid` read as zero, and so do columns at or past Cols
/// (a head dim padded to the mma's 16: Cols = head_dim < D; 0 means D).
template <int G = 1, int Cols = 0, typename T, int D, int MB>
ATTNC_DEVICE void loadQ(QTile<T, D, MB> &dst, const T *q, long long rowStride,
                        int rowsValid, int headBase = 0, int headStride = 0) {
  constexpr int kCols = Cols == 0 ? D : Cols;
  const int lane = laneId();
  ATTNC_UNROLL
  for (int mb = 0; mb < MB; ++mb) {
    const int row0 = (warpId() * MB + mb) * 16;
    ATTNC_UNROLL
    for (int ks = 0; ks < D / 16; ++ks) {
      ATTNC_UNROLL
      for (int reg = 0; reg < 4; ++reg) {
        // Register reg holds elements 2 reg and 2 reg + 1: same row,
        // adjacent columns.
        const int row = row0 + aRow(lane, 2 * reg);
        const int col = ks * 16 + aCol(lane, 2 * reg);
        float lo = 0.0f, hi = 0.0f;
        if (row / G < rowsValid && (kCols == D || col < kCols)) {
          const T *src =
              q + (row / G) * rowStride +
              static_cast<long long>(headBase + row % G) * headStride + col;
          lo = toFloat(loadGlobal(src));
          hi = toFloat(loadGlobal(src + 1));
        }
        dst.f[mb][ks].x[reg] = pack2<T>(lo, hi);
      }
    }
  }
}

/// loadQ into shared memory: each warp writes its own MB row blocks of
/// `dst` (rows warp * MB * 16 on), which only that warp reads (qk below), so
/// a warp-level barrier orders them. Done once per program, before the KV
/// loop: the fragments pass through registers that the loop does not keep.
template <int G = 1, int Cols = 0, int MB = 1, typename T, int Br, int D>
ATTNC_DEVICE void loadQShared(SmemTile<T, Br, D> dst, const T *q,
                              long long rowStride, int rowsValid,
                              int headBase = 0, int headStride = 0) {
  QTile<T, D, MB> frags;
  loadQ<G, Cols>(frags, q, rowStride, rowsValid, headBase, headStride);
  const int lane = laneId();
  ATTNC_UNROLL
  for (int mb = 0; mb < MB; ++mb) {
    const int row0 = (warpId() * MB + mb) * 16;
    ATTNC_UNROLL
    for (int ks = 0; ks < D / 16; ++ks)
      ATTNC_UNROLL
    for (int reg = 0; reg < 4; ++reg)
      storeShared(
          reinterpret_cast<unsigned *>(dst.row(row0 + aRow(lane, 2 * reg)) +
                                       ks * 16 + aCol(lane, 2 * reg)),
          frags.f[mb][ks].x[reg]);
  }
  __syncwarp();
}

/// The 16-byte chunks of a K/V row that one thread copies (kCopyLanes
/// lanes share a row, their chunks side by side): where a row has a
/// multiple of 8 chunks, eight lanes cover 128 contiguous bytes, one
/// conflict-free wavefront of 16-byte shared-memory stores, and a thread's
/// chunks of one row lie 128 bytes apart, within reach of cp.async's
/// immediate global offset (about +-2 KiB on sm_80 and sm_90), so they
/// share one 64-bit address. Chunks of other rows are a row stride away and
/// each needs an address of its own. Other rows take a lane per chunk.
template <int D>
inline constexpr int kCopyLanes = (D / 8) % 8 == 0 ? 8 : D / 8;
template <int D>
inline constexpr int kChunksPerCopyRow = D / 8 / kCopyLanes<D>;

/// Chunks C..N-1 of one row of a tile copy, 128 bytes apart from the
/// first's shared (Dst) and global (Src) offsets.
template <int Dst, long long Src, int C, int N, typename T>
ATTNC_DEVICE void copyChunksAt(T *d0, unsigned s0, const T *g0,
                               unsigned bytes) {
  if constexpr (C < N) {
    cpAsync16ZeroFillAt<Dst + 128 * C, Src + 128 * C>(d0, s0, g0, bytes);
    copyChunksAt<Dst, Src, C + 1, N>(d0, s0, g0, bytes);
  }
}

/// Pass P..Passes-1 of a contiguous-row tile copy: row r0 + P * RowsPerPass
/// lies P * RowsPerPass rows past d0 / g0 in shared and global memory
/// (compile-time offsets); it is valid while P * RowsPerPass < rowsLeft.
/// Each row's kChunksPerCopyRow<D> chunks sit 128 bytes apart.
template <int RowsPerPass, int Passes, long long RowStride, typename T,
          int Rows, int D, int P = 0>
ATTNC_DEVICE void copyRowsAt(T *d0, unsigned s0, const T *g0, int rowsLeft) {
  if constexpr (P < Passes) {
    constexpr int kDst = P * RowsPerPass * SmemTile<T, Rows, D>::kStride *
                         static_cast<int>(sizeof(T));
    constexpr long long kSrc =
        P * RowsPerPass * RowStride * static_cast<long long>(sizeof(T));
    const unsigned bytes = P * RowsPerPass < rowsLeft ? 16u : 0u;
    copyChunksAt<kDst, kSrc, 0, kChunksPerCopyRow<D>>(d0, s0, g0, bytes);
    copyRowsAt<RowsPerPass, Passes, RowStride, T, Rows, D, P + 1>(d0, s0, g0,
                                                                  rowsLeft);
  }
}

/// Starts copying logical rows [row0, row0 + Rows) of a K or V tile into
/// shared memory with 16-byte cp.async. `physicalRow(r)` gives the row of
/// the [rows, kv_heads, D] view of `base` holding logical row r, RowStride
/// elements apart; the head's D elements start at `headOffset` in it. With
/// ContiguousRows (a dense cache: physicalRow(r + i) == physicalRow(r) + i)
/// it is called once per tile. Rows at or past `rowsValid` are zero-filled
/// and never read; so are columns at or past Cols (a head dim padded to the
/// mma's 16: Cols = head_dim < D; 0 means D). With SegmentRows (a paged
/// cache whose tiles start on a page boundary: the page size when it divides
/// the tile, the tile when a page holds whole tiles), each segment of that
/// many rows is consecutive in memory: where the threads divide among the
/// tile's segments, each copies rows of one segment and looks the block
/// table up once a tile; otherwise once a segment instead of once a row. All
/// Threads threads call it; commit and wait are the caller's.
template <int Threads, long long RowStride, bool ContiguousRows, int Cols = 0,
          int SegmentRows = 0, typename T, int Rows, int D, typename RowFn>
ATTNC_DEVICE void loadKVAsync(SmemTile<T, Rows, D> dst, const T *base,
                              int headOffset, int row0, int rowsValid,
                              RowFn physicalRow) {
  constexpr int kChunks = D / 8; // 16-byte chunks per row
  constexpr int kValidChunks = (Cols == 0 ? D : Cols) / 8;
  constexpr int kLanes = kCopyLanes<D>;
  const int tid = static_cast<int>(threadIdx.x);
  if constexpr (kValidChunks == kChunks && kChunks % kLanes == 0 &&
                Threads % kLanes == 0 && Rows % (Threads / kLanes) == 0) {
    // Each thread keeps one chunk column (kChunksPerCopyRow chunks, 128
    // bytes apart) and copies every kRowsPerPass-th row, unrolled: the
    // shared addresses of its rows, and for contiguous rows the global
    // ones, differ by constants that become the copies' immediate offsets.
    // A row past the valid ones copies zero bytes (its address is formed
    // but never read).
    constexpr int kRowsPerPass = Threads / kLanes;
    const int r0 = tid / kLanes, chunk = tid % kLanes;
    T *d0 = dst.row(r0) + chunk * 8;
    const unsigned s0 = smemAddress(d0);
    if constexpr (ContiguousRows) {
      const T *g0 = base +
                    static_cast<long long>(physicalRow(row0 + r0)) * RowStride +
                    headOffset + chunk * 8;
      copyRowsAt<kRowsPerPass, Rows / kRowsPerPass, RowStride, T, Rows, D>(
          d0, s0, g0, rowsValid - r0);
    } else if constexpr (SegmentRows > 0 && Rows % SegmentRows == 0 &&
                         kRowsPerPass % (Rows / SegmentRows) == 0 &&
                         SegmentRows % (kRowsPerPass / (Rows / SegmentRows)) ==
                             0) {
      // The threads split by segment (a page): each copies rows of one
      // segment only, kPageThreads rows apart, so it looks the block table
      // up once a tile and copies its rows at constant offsets from the
      // segment's first (a segment wholly past the sequence is zero-filled
      // without a lookup). Written out rather than shared with the branch
      // below: as a helper, ptxas gives gpt-oss's kernel 132 registers
      // instead of 128 (a CTA per SM fewer).
      constexpr int kPageThreads = kRowsPerPass / (Rows / SegmentRows);
      const int first = r0 / kPageThreads * SegmentRows;
      const int r = r0 % kPageThreads;
      T *d = dst.row(first + r) + chunk * 8;
      const T *g = first < rowsValid
                       ? base +
                             static_cast<long long>(physicalRow(row0 + first)) *
                                 RowStride +
                             static_cast<long long>(r) * RowStride +
                             headOffset + chunk * 8
                       : base;
      copyRowsAt<kPageThreads, SegmentRows / kPageThreads, RowStride, T, Rows,
                 D>(d, smemAddress(d), g, rowsValid - first - r);
    } else if constexpr (SegmentRows > 0 && SegmentRows % kRowsPerPass == 0 &&
                         SegmentRows / kRowsPerPass >= 2 &&
                         Rows % SegmentRows == 0) {
      // Where a thread copies two or more rows of a page (one row a page is
      // the per-row loop below with more registers live, which spills at
      // d = 128): a block-table lookup per page, rolled over the tile's pages;
      // the page's rows are copied at constant offsets from its first (a
      // segment wholly past the sequence is zero-filled without a lookup).
      for (int s = 0; s < Rows; s += SegmentRows) {
        T *d = dst.row(s + r0) + chunk * 8;
        const T *g = s < rowsValid
                         ? base +
                               static_cast<long long>(physicalRow(row0 + s)) *
                                   RowStride +
                               static_cast<long long>(r0) * RowStride +
                               headOffset + chunk * 8
                         : base;
        copyRowsAt<kRowsPerPass, SegmentRows / kRowsPerPass, RowStride, T, Rows,
                   D>(d, smemAddress(d), g, rowsValid - s - r0);
      }
    } else {
      // Rows looked up one by one (a block table), in a rolled loop: its
      // lookups keep few registers live, where unrolled they fill the file.
      for (int r = r0; r < Rows; r += kRowsPerPass) {
        T *d = dst.row(r) + chunk * 8;
        const T *g = r < rowsValid
                         ? base +
                               static_cast<long long>(physicalRow(row0 + r)) *
                                   RowStride +
                               headOffset + chunk * 8
                         : base;
        ATTNC_UNROLL
        for (int i = 0; i < kChunksPerCopyRow<D>; ++i)
          cpAsync16OrZero(d + 8 * kLanes * i, g + 8 * kLanes * i,
                          r < rowsValid);
      }
    }
  } else {
    for (int c = tid; c < Rows * kChunks; c += Threads) {
      const int r = c / kChunks, chunk = c % kChunks;
      const bool valid = r < rowsValid && chunk < kValidChunks;
      const T *src = valid ? base +
                                 static_cast<long long>(physicalRow(row0 + r)) *
                                     RowStride +
                                 headOffset + chunk * 8
                           : base;
      cpAsync16OrZero(dst.row(r) + chunk * 8, src, valid);
    }
  }
}

/// Widens 8 fp8 elements (8 bytes, Fp8Kind K) to T and stores them, 16
/// bytes, at shared `dst`.
template <Fp8Kind K, typename T>
ATTNC_DEVICE void storeWidened(T *dst, uint2 bits) {
  const uint2 lo = fp8x4ToPairs<K, T>(bits.x);
  const uint2 hi = fp8x4ToPairs<K, T>(bits.y);
  storeShared(reinterpret_cast<uint4 *>(dst),
              make_uint4(lo.x, lo.y, hi.x, hi.y));
}

/// loadKVAsync for a K/V cache stored in fp8 (Fp8Kind K): 8-element chunks
/// (8 bytes) read with plain global loads, widened to T (exactly: fp8.cuh)
/// and stored, 16 bytes each, to the same shared tile the 16-bit path
/// fills. `base`, RowStride and `headOffset` count fp8 elements, i.e.
/// bytes. Synchronous: the stores are done when it returns, and the
/// __syncthreads() before the tile's first use publishes them (the
/// generated code has no cp.async commit or wait for it).
///
/// As in loadKVAsync, each thread keeps one chunk column and takes every
/// RowsPerPass-th row, two rows a step (both loads in flight together):
/// the second row lies RowsPerPass rows after the first in memory when the
/// rows are contiguous (a dense cache) or in one page (SegmentRows), so a
/// step looks a row up once. The step loop stays rolled: unrolled, ptxas
/// hoists the later steps' loads and runs out of registers at d = 128.
template <Fp8Kind K, int Threads, long long RowStride, bool ContiguousRows,
          int Cols = 0, int SegmentRows = 0, typename T, int Rows, int D,
          typename RowFn>
ATTNC_DEVICE void loadKVWiden(SmemTile<T, Rows, D> dst,
                              const unsigned char *base, int headOffset,
                              int row0, int rowsValid, RowFn physicalRow) {
  constexpr int kChunks = D / 8;
  constexpr int kValidChunks = (Cols == 0 ? D : Cols) / 8;
  const int tid = static_cast<int>(threadIdx.x);
  if constexpr (kValidChunks == kChunks && kChunks > 32 && kChunks % 8 == 0 &&
                Threads % 8 == 0 && Rows % (Threads / 8) == 0) {
    // Rows of more than 32 chunks (head dims past 256, MLA's 576: 72
    // chunks, more than a column per thread of 128 threads would cover):
    // eight lanes share a row, each widening every eighth chunk (64
    // contiguous bytes of the row per step of the eight, 128 of the shared
    // tile), so a row is looked up once, not once a chunk. All of a row's
    // loads are in flight before its stores.
    constexpr int kRowsPerPass = Threads / 8, kPerLane = kChunks / 8;
    const int r0 = tid / 8, lane = tid % 8;
    ATTNC_NO_UNROLL
    for (int r = r0; r < Rows; r += kRowsPerPass) {
      uint2 bits[kPerLane];
      const unsigned char *row =
          r < rowsValid
              ? base +
                    static_cast<long long>(physicalRow(row0 + r)) * RowStride +
                    headOffset + lane * 8
              : nullptr;
      ATTNC_UNROLL
      for (int i = 0; i < kPerLane; ++i)
        bits[i] =
            row ? loadGlobal(reinterpret_cast<const uint2 *>(row + 64 * i))
                : make_uint2(0u, 0u);
      ATTNC_UNROLL
      for (int i = 0; i < kPerLane; ++i)
        storeWidened<K>(dst.row(r) + (lane + 8 * i) * 8, bits[i]);
    }
  } else if constexpr (kValidChunks == kChunks && Threads % kChunks == 0 &&
                       Rows % (2 * (Threads / kChunks)) == 0) {
    constexpr int kRowsPerPass = Threads / kChunks;
    constexpr bool kPairAdjacent =
        ContiguousRows ||
        (SegmentRows > 0 && SegmentRows % (2 * kRowsPerPass) == 0 &&
         Rows % SegmentRows == 0);
    constexpr long long kPairOffset = kRowsPerPass * RowStride;
    const int r0 = tid / kChunks, chunk = tid % kChunks;
    const unsigned char *first =
        ContiguousRows
            ? base + static_cast<long long>(physicalRow(row0)) * RowStride +
                  headOffset + chunk * 8
            : base;
    ATTNC_NO_UNROLL
    for (int r = r0; r < Rows; r += 2 * kRowsPerPass) {
      uint2 a = make_uint2(0u, 0u), b = make_uint2(0u, 0u);
      if (r < rowsValid) {
        const unsigned char *pa =
            ContiguousRows ? first + static_cast<long long>(r) * RowStride
                           : base +
                                 static_cast<long long>(physicalRow(row0 + r)) *
                                     RowStride +
                                 headOffset + chunk * 8;
        const unsigned char *pb = kPairAdjacent || r + kRowsPerPass >= rowsValid
                                      ? pa + kPairOffset
                                      : base +
                                            static_cast<long long>(physicalRow(
                                                row0 + r + kRowsPerPass)) *
                                                RowStride +
                                            headOffset + chunk * 8;
        a = loadGlobal(reinterpret_cast<const uint2 *>(pa));
        if (r + kRowsPerPass < rowsValid)
          b = loadGlobal(reinterpret_cast<const uint2 *>(pb));
      }
      storeWidened<K>(dst.row(r) + chunk * 8, a);
      storeWidened<K>(dst.row(r + kRowsPerPass) + chunk * 8, b);
    }
  } else {
    // Any shape: chunk by chunk (a padded head dim's missing chunks are
    // zeros).
    for (int c = tid; c < Rows * kChunks; c += Threads) {
      const int r = c / kChunks, chunk = c % kChunks;
      uint2 bits = make_uint2(0u, 0u);
      if (r < rowsValid && chunk < kValidChunks)
        bits = loadGlobal(reinterpret_cast<const uint2 *>(
            base + static_cast<long long>(physicalRow(row0 + r)) * RowStride +
            headOffset + chunk * 8));
      storeWidened<K>(dst.row(r) + chunk * 8, bits);
    }
  }
}

/// The K row and column half a lane addresses in an ldmatrix.x4 that brings
/// the B fragments of two 8-key n-tiles (at np = ks = 0): lanes 0-15 the
/// first n-tile's 8 keys, 16-31 the second's, each at column 0 then 8.
template <typename T, int Bc, int D>
ATTNC_DEVICE const T *keyPairRow(SmemTile<T, Bc, D> k, int lane) {
  return k.row((lane & 7) + ((lane >> 4) << 3)) + ((lane >> 3) & 1) * 8;
}

/// The B fragments of 8-key n-tiles 2 np and 2 np + 1 at 16-column k-step
/// ks of a K tile, by one ldmatrix.x4 from this lane's keyPairRow (`row`,
/// at shared address `addr`): a compile-time offset from both.
template <typename T, int Bc, int D>
ATTNC_DEVICE void keyPairFragments(FragB<T> (&b)[2], const T *row,
                                   unsigned addr, int np, int ks) {
  unsigned r[4];
  const int offset = np * 16 * SmemTile<T, Bc, D>::kStride + ks * 16;
  ldmatrixX4(r, row + offset, addr + offset * static_cast<unsigned>(sizeof(T)));
  b[0] = {{r[0], r[1]}};
  b[1] = {{r[2], r[3]}};
}

/// qk with one ldmatrix.x2 per 8-key n-tile: fewer live registers, for
/// head dims whose accumulators leave no room for pairs.
template <typename T, int Bc, int D, int MB>
ATTNC_DEVICE void qkSingle(AccTile<Bc, MB> &s, const QTile<T, D, MB> &q,
                           SmemTile<T, Bc, D> k, float scale) {
  const int lane = laneId();
  // This lane's row and column half at nt = ks = 0.
  const T *kBase = k.row(lane & 7) + ((lane >> 3) & 1) * 8;
  const unsigned kAddr = smemAddress(kBase);
  ATTNC_UNROLL
  for (int nt = 0; nt < Bc / 8; ++nt) {
    FragC acc[MB];
    ATTNC_UNROLL
    for (int mb = 0; mb < MB; ++mb)
      zero(acc[mb]);
    ATTNC_UNROLL
    for (int ks = 0; ks < D / 16; ++ks) {
      FragB<T> b;
      const int offset = nt * 8 * SmemTile<T, Bc, D>::kStride + ks * 16;
      ldmatrixX2(b.x, kBase + offset,
                 kAddr + offset * static_cast<unsigned>(sizeof(T)));
      ATTNC_UNROLL
      for (int mb = 0; mb < MB; ++mb)
        mmaM16N8K16(acc[mb], q.f[mb][ks], b, acc[mb]);
    }
    ATTNC_UNROLL
    for (int mb = 0; mb < MB; ++mb)
      ATTNC_UNROLL
    for (int r = 0; r < 4; ++r)
      s.f[mb][nt].x[r] = acc[mb].x[r] * scale;
  }
}

/// S = scale * Q K^T for the warp's rows and the Bc keys of `k`. One
/// ldmatrix.x4 brings the B fragments of two 8-key n-tiles (lanes 16-31
/// address the second), each loaded once for all MB row blocks.
template <typename T, int Bc, int D, int MB>
ATTNC_DEVICE void qkPaired(AccTile<Bc, MB> &s, const QTile<T, D, MB> &q,
                           SmemTile<T, Bc, D> k, float scale) {
  static_assert(Bc % 16 == 0, "n-tiles come in pairs");
  const T *rowBase = keyPairRow(k, laneId());
  const unsigned baseAddr = smemAddress(rowBase);
  ATTNC_UNROLL
  for (int np = 0; np < Bc / 16; ++np) {
    FragC acc[2][MB];
    ATTNC_UNROLL
    for (int h = 0; h < 2; ++h)
      ATTNC_UNROLL
    for (int mb = 0; mb < MB; ++mb)
      zero(acc[h][mb]);
    ATTNC_UNROLL
    for (int ks = 0; ks < D / 16; ++ks) {
      FragB<T> b[2];
      keyPairFragments<T, Bc, D>(b, rowBase, baseAddr, np, ks);
      ATTNC_UNROLL
      for (int h = 0; h < 2; ++h)
        ATTNC_UNROLL
      for (int mb = 0; mb < MB; ++mb)
        mmaM16N8K16(acc[h][mb], q.f[mb][ks], b[h], acc[h][mb]);
    }
    ATTNC_UNROLL
    for (int h = 0; h < 2; ++h)
      ATTNC_UNROLL
    for (int mb = 0; mb < MB; ++mb)
      ATTNC_UNROLL
    for (int r = 0; r < 4; ++r)
      s.f[mb][2 * np + h].x[r] = acc[h][mb].x[r] * scale;
  }
}

/// S = scale * Q K^T for the warp's rows and the Bc keys of `k`, each K
/// fragment loaded once for all MB row blocks. Up to d = 128, n-tiles go in
/// pairs (half the ldmatrix instructions); at d = 256 the O accumulators
/// take most registers and pairs would spill.
template <typename T, int Bc, int D, int MB>
ATTNC_DEVICE void qk(AccTile<Bc, MB> &s, const QTile<T, D, MB> &q,
                     SmemTile<T, Bc, D> k, float scale) {
  if constexpr (D <= 128)
    qkPaired(s, q, k, scale);
  else
    qkSingle(s, q, k, scale);
}

/// S = Q K^T for Q rows [qRow0, qRow0 + 16 MB) of a tile in shared memory
/// and K rows [kRow0, kRow0 + Keys): per 16-column k-step, one ldmatrix.x4
/// per row block brings its A fragment and one per pair of 8-key n-tiles
/// the B fragments (an .x2 for an odd last n-tile), each used for every
/// row block, accumulating into S directly. The Q fragments live for one
/// k-step instead of the whole loop (FlashAttention-2's order).
template <int Keys, typename T, int Br, int Bc, int D, int MB>
ATTNC_DEVICE void qkFromShared(FragC (&s)[MB][Keys / 8], SmemTile<T, Br, D> q,
                               int qRow0, SmemTile<T, Bc, D> k, int kRow0) {
  constexpr int kStride = SmemTile<T, Bc, D>::kStride;
  const int lane = laneId();
  // A: lanes 0-15 address rows 0-15 of the block at column 0, lanes 16-31
  // the same rows at column 8.
  const T *qBase = q.row(qRow0 + (lane & 15)) + (lane >> 4) * 8;
  const unsigned qAddr = smemAddress(qBase);
  const T *kPair = keyPairRow(k, lane) + kRow0 * kStride;
  const unsigned kPairAddr = smemAddress(kPair);
  ATTNC_UNROLL
  for (int mb = 0; mb < MB; ++mb)
    ATTNC_UNROLL
  for (int nt = 0; nt < Keys / 8; ++nt)
    zero(s[mb][nt]);
  ATTNC_UNROLL
  for (int ks = 0; ks < D / 16; ++ks) {
    FragA<T> a[MB];
    ATTNC_UNROLL
    for (int mb = 0; mb < MB; ++mb) {
      const int offset = mb * 16 * SmemTile<T, Br, D>::kStride + ks * 16;
      ldmatrixX4(a[mb].x, qBase + offset,
                 qAddr + offset * static_cast<unsigned>(sizeof(T)));
    }
    ATTNC_UNROLL
    for (int np = 0; np < Keys / 16; ++np) {
      FragB<T> b[2];
      keyPairFragments<T, Bc, D>(b, kPair, kPairAddr, np, ks);
      ATTNC_UNROLL
      for (int h = 0; h < 2; ++h)
        ATTNC_UNROLL
      for (int mb = 0; mb < MB; ++mb)
        mmaM16N8K16(s[mb][2 * np + h], a[mb], b[h], s[mb][2 * np + h]);
    }
    if constexpr (Keys % 16 != 0) {
      constexpr int nt = Keys / 8 - 1;
      const T *kSingle = k.row(kRow0 + (lane & 7)) + ((lane >> 3) & 1) * 8;
      FragB<T> b;
      const int offset = nt * 8 * kStride + ks * 16;
      ldmatrixX2(b.x, kSingle + offset,
                 smemAddress(kSingle) +
                     offset * static_cast<unsigned>(sizeof(T)));
      ATTNC_UNROLL
      for (int mb = 0; mb < MB; ++mb)
        mmaM16N8K16(s[mb][nt], a[mb], b, s[mb][nt]);
    }
  }
}

/// S = scale * Q K^T with the warp's Q rows in shared memory (loadQShared),
/// by qkFromShared.
template <typename T, int Bc, int D, int MB, int Br>
ATTNC_DEVICE void qk(AccTile<Bc, MB> &s, SmemTile<T, Br, D> q,
                     SmemTile<T, Bc, D> k, float scale) {
  static_assert(Bc % 16 == 0, "n-tiles come in pairs");
  qkFromShared<Bc>(s.f, q, warpId() * MB * 16, k, 0);
  // A scale of 1 (attn-fold-scale's usual result) folds away.
  ATTNC_UNROLL
  for (int i = 0; i < AccTile<Bc, MB>::kElems; ++i)
    s.at(i) *= scale;
}

/// dst = x * factor, element-wise.
template <int N, int MB>
ATTNC_DEVICE void scale(AccTile<N, MB> &dst, const AccTile<N, MB> &x,
                        float factor) {
  ATTNC_UNROLL
  for (int i = 0; i < AccTile<N, MB>::kElems; ++i)
    dst.at(i) = x.at(i) * factor;
}

/// m_new = max(m, rowmax(S)).
template <int N, int MB>
ATTNC_DEVICE void rowMax(Rows<MB> &dst, const AccTile<N, MB> &s,
                         const Rows<MB> &m) {
  ATTNC_UNROLL
  for (int mb = 0; mb < MB; ++mb) {
    float tileMax[2];
    rowMax(tileMax, s.f[mb]);
    dst.x[2 * mb] = fmaxf(m.x[2 * mb], tileMax[0]);
    dst.x[2 * mb + 1] = fmaxf(m.x[2 * mb + 1], tileMax[1]);
  }
}

/// exp2(x - m), where a row max m of -inf (every score so far masked, or
/// NaN) subtracts 0 instead: a masked x then gives exp2(-inf) = 0 and a NaN
/// x NaN, which reaches l, O and LSE (NaN propagates as in PyTorch instead
/// of passing for a fully masked row); exp2(-inf - -inf) would be NaN for
/// every masked score.
ATTNC_DEVICE float exp2Diff(float x, float m) {
  return fastExp2(x - (m == negInf() ? 0.0f : m));
}

/// P = exp2(S - m) row-wise (see exp2Diff above for a row max of -inf).
template <int N, int MB>
ATTNC_DEVICE void exp2Diff(AccTile<N, MB> &dst, const AccTile<N, MB> &s,
                           const Rows<MB> &m) {
  ATTNC_UNROLL
  for (int i = 0; i < AccTile<N, MB>::kElems; ++i)
    dst.at(i) = exp2Diff(s.at(i), m.x[AccTile<N, MB>::half(i)]);
}
/// alpha = exp2(m_old - m_new).
template <int MB>
ATTNC_DEVICE void exp2Diff(Rows<MB> &dst, const Rows<MB> &x,
                           const Rows<MB> &m) {
  ATTNC_UNROLL
  for (int r = 0; r < 2 * MB; ++r)
    dst.x[r] = exp2Diff(x.x[r], m.x[r]);
}

/// The scaled forms (attn-fold-scale): exp2(c x - c m), S and m unscaled.
/// c m is formed once per row, so each score costs one fused multiply-add
/// and the exp2.
template <int N, int MB>
ATTNC_DEVICE void exp2Diff(AccTile<N, MB> &dst, const AccTile<N, MB> &s,
                           const Rows<MB> &m, float c) {
  float cm[2 * MB];
  ATTNC_UNROLL
  for (int r = 0; r < 2 * MB; ++r)
    cm[r] = m.x[r] == negInf() ? 0.0f : m.x[r] * c;
  ATTNC_UNROLL
  for (int i = 0; i < AccTile<N, MB>::kElems; ++i)
    dst.at(i) = fastExp2(fmaf(s.at(i), c, -cm[AccTile<N, MB>::half(i)]));
}
template <int MB>
ATTNC_DEVICE void exp2Diff(Rows<MB> &dst, const Rows<MB> &x, const Rows<MB> &m,
                           float c) {
  ATTNC_UNROLL
  for (int r = 0; r < 2 * MB; ++r)
    dst.x[r] =
        fastExp2(fmaf(x.x[r], c, -(m.x[r] == negInf() ? 0.0f : m.x[r] * c)));
}

/// attn.sink on one row: a key of logit `sigma` (natural-log units) and a
/// zero value row joins the state (m, l). `toState` (log2(e) / c) puts the
/// logit in m's units; exponents are scaled by c as in exp2Diff. A NaN
/// sigma becomes the max (fmaxf would drop it against the empty state's
/// -inf), so l turns NaN and the row's O and LSE with it. Where warps keep
/// partial sums of one row (column_warps.cuh), the term enters one warp's
/// (`countTerm`) and the others only move to the new maximum.
ATTNC_DEVICE void addSink(float &m, float &l, float sigma, float toState,
                          float c, bool countTerm = true) {
  const float s = sigma * toState;
  const float mNew = s != s ? s : fmaxf(m, s);
  if (mNew == negInf())
    return; // no sink and no key yet: the state stays empty
  l = l * fastExp2((m - mNew) * c) +
      (countTerm ? fastExp2((s - mNew) * c) : 0.0f);
  m = mNew;
}

/// l_new = alpha l + rowsum(P).
template <int N, int MB>
ATTNC_DEVICE void rowSum(Rows<MB> &dst, const AccTile<N, MB> &p,
                         const Rows<MB> &l, const Rows<MB> &alpha) {
  ATTNC_UNROLL
  for (int mb = 0; mb < MB; ++mb) {
    float tileSum[2];
    rowSum(tileSum, p.f[mb]);
    ATTNC_UNROLL
    for (int r = 0; r < 2; ++r)
      dst.x[2 * mb + r] = alpha.x[2 * mb + r] * l.x[2 * mb + r] + tileSum[r];
  }
}

/// acc *= alpha row-wise.
template <int N, int MB>
ATTNC_DEVICE void rescale(AccTile<N, MB> &dst, const AccTile<N, MB> &acc,
                          const Rows<MB> &alpha) {
  ATTNC_UNROLL
  for (int i = 0; i < AccTile<N, MB>::kElems; ++i)
    dst.at(i) = acc.at(i) * alpha.x[AccTile<N, MB>::half(i)];
}

/// acc + P V: P is repacked from its accumulators into A fragments in
/// registers (rounded to T), V is read with ldmatrix.trans, each fragment
/// once for all MB row blocks.
template <typename T, int Bc, int D, int MB, int S>
ATTNC_DEVICE void pv(AccTile<D, MB> &dst, const AccTile<Bc, MB> &p,
                     SmemTile<T, Bc, D, S> v, const AccTile<D, MB> &acc) {
  static_assert(Bc % 16 == 0, "P V needs whole k16 steps");
  const int lane = laneId();
  // This lane's row and column of the .x4.trans loads, at ks = nt = 0.
  const T *vBase = v.row(lane & 15) + (lane >> 4) * 8;
  const unsigned vAddr = smemAddress(vBase);
  // And of the .x2.trans loads (d = 256).
  const T *vRow = v.row(lane & 15);
  const unsigned vRowAddr = smemAddress(vRow);
  AccTile<D, MB> out = acc;
  ATTNC_UNROLL
  for (int ks = 0; ks < Bc / 16; ++ks) {
    FragA<T> a[MB];
    ATTNC_UNROLL
    for (int mb = 0; mb < MB; ++mb)
      accToA(a[mb], p.f[mb][2 * ks], p.f[mb][2 * ks + 1]);
    // Up to d = 128 one ldmatrix.x4.trans brings the B fragments of n-tiles
    // nt and nt + 1 (lanes 16-31 address the second's columns); at d = 256
    // pairs would spill, so one x2 per n-tile.
    if constexpr (D <= 128) {
      ATTNC_UNROLL
      for (int nt = 0; nt < D / 8; nt += 2) {
        unsigned r[4];
        const int offset = ks * 16 * S + nt * 8;
        ldmatrixX4Trans(r, vBase + offset,
                        vAddr + offset * static_cast<unsigned>(sizeof(T)));
        const FragB<T> b[2] = {{{r[0], r[1]}}, {{r[2], r[3]}}};
        ATTNC_UNROLL
        for (int h = 0; h < 2; ++h)
          ATTNC_UNROLL
        for (int mb = 0; mb < MB; ++mb)
          mmaM16N8K16(out.f[mb][nt + h], a[mb], b[h], out.f[mb][nt + h]);
      }
    } else {
      ATTNC_UNROLL
      for (int nt = 0; nt < D / 8; ++nt) {
        FragB<T> b;
        // Lanes 16-31 repeat 0-15's rows (the .x2 form reads 0-15's).
        const int offset = ks * 16 * S + nt * 8;
        ldmatrixX2Trans(b.x, vRow + offset,
                        vRowAddr + offset * static_cast<unsigned>(sizeof(T)));
        ATTNC_UNROLL
        for (int mb = 0; mb < MB; ++mb)
          mmaM16N8K16(out.f[mb][nt], a[mb], b, out.f[mb][nt]);
      }
    }
  }
  dst = out;
}

/// O = acc / l and LSE = ln2 (m + log2 l); O = 0, LSE = -inf where l = 0
/// (every key masked). A NaN l (a NaN score) gives NaN O and LSE.
template <int D, int MB>
ATTNC_DEVICE void finalize(AccTile<D, MB> &o, Rows<MB> &lse,
                           const AccTile<D, MB> &acc, const Rows<MB> &m,
                           const Rows<MB> &l, float scale = 1.0f) {
  const float kLn2 = 0.69314718055994531f;
  float inv[2 * MB];
  ATTNC_UNROLL
  for (int r = 0; r < 2 * MB; ++r) {
    const bool none = l.x[r] == 0.0f;
    inv[r] = none ? 0.0f : 1.0f / l.x[r];
    lse.x[r] = none ? negInf() : (m.x[r] * scale + log2f(l.x[r])) * kLn2;
  }
  ATTNC_UNROLL
  for (int i = 0; i < AccTile<D, MB>::kElems; ++i)
    o.at(i) = acc.at(i) * inv[AccTile<D, MB>::half(i)];
}

/// Writes the warp's O rows (converted to T), laid out as loadQ reads Q;
/// query rows at or past `rowsValid` and columns at or past Cols (0: D) are
/// not written.
template <int G = 1, int Cols = 0, typename T, int D, int MB>
ATTNC_DEVICE void storeO(T *o, long long rowStride, int rowsValid,
                         const AccTile<D, MB> &src, int headBase = 0,
                         int headStride = 0) {
  using Tile = AccTile<D, MB>;
  constexpr int kCols = Cols == 0 ? D : Cols;
  ATTNC_UNROLL
  for (int i = 0; i < Tile::kElems; i += 2) {
    const int row = Tile::row(i);
    if (row / G >= rowsValid || (kCols != D && Tile::col(i) >= kCols))
      continue;
    T *dst = o + (row / G) * rowStride +
             static_cast<long long>(headBase + row % G) * headStride +
             Tile::col(i);
    storeGlobal(dst, fromFloat<T>(src.at(i)));
    storeGlobal(dst + 1, fromFloat<T>(src.at(i + 1)));
  }
}

/// Calls fn(offset, r) for each of the warp's rows this lane stores one
/// value of (one lane of each quad): `offset` places the row as loadQ reads
/// Q, and r is its Rows<MB> entry. Rows at or past `rowsValid` are skipped.
template <int G, int MB, typename Fn>
ATTNC_DEVICE void forEachStoredRow(long long rowStride, int rowsValid,
                                   int headBase, int headStride, Fn fn) {
  const int lane = laneId();
  if ((lane & 3) != 0)
    return;
  ATTNC_UNROLL
  for (int mb = 0; mb < MB; ++mb)
    ATTNC_UNROLL
  for (int r = 0; r < 2; ++r) {
    const int row = (warpId() * MB + mb) * 16 + (lane >> 2) + 8 * r;
    if (row / G < rowsValid)
      fn((row / G) * rowStride +
             static_cast<long long>(headBase + row % G) * headStride,
         2 * mb + r);
  }
}

/// Writes the warp's LSE rows, laid out as loadQ reads Q (one element per
/// row).
template <int G = 1, int MB>
ATTNC_DEVICE void storeLse(float *lse, long long rowStride, int rowsValid,
                           const Rows<MB> &src, int headBase = 0,
                           int headStride = 0) {
  forEachStoredRow<G, MB>(
      rowStride, rowsValid, headBase, headStride,
      [&](long long at, int r) { storeGlobal(lse + at, src.x[r]); });
}

/// A split's LSE rows in two parts, as finalize would form them from (m, l,
/// scale): hi = ln2 scale m (the scaled maximum logit) and lo = ln l; both
/// -inf where l = 0. hi + lo is the LSE; kept apart, hi is exact where the
/// sum would round away lo (a logit of 1e6 has an f32 ulp of 1/16).
template <int G = 1, int MB>
ATTNC_DEVICE void storeLseParts(float *hi, float *lo, long long rowStride,
                                int rowsValid, const Rows<MB> &m,
                                const Rows<MB> &l, float scale = 1.0f,
                                int headBase = 0, int headStride = 0) {
  const float kLn2 = 0.69314718055994531f;
  forEachStoredRow<G, MB>(
      rowStride, rowsValid, headBase, headStride, [&](long long at, int r) {
        const bool none = l.x[r] == 0.0f;
        storeGlobal(hi + at, none ? negInf() : m.x[r] * scale * kLn2);
        storeGlobal(lo + at, none ? negInf() : logf(l.x[r]));
      });
}

/// The merge kernels' work: one (query row, head) slot per warp, this
/// warp's slot and how many there are.
ATTNC_DEVICE long long mergeSlot() {
  return static_cast<long long>(blockIdx.x) * (blockDim.x / 32) + warpId();
}
ATTNC_DEVICE long long mergeSlots(const AttnKernelArgs &args, int qHeads) {
  return static_cast<long long>(loadGlobal(args.qo_indptr + args.batch)) *
         qHeads;
}

/// attn.merge_splits for one (query row, head) slot per warp: combines the
/// splits' partial O and LSE parts (storeLseParts) from the workspace into O
/// (type T) and LSE. A split's weight is exp((hi_s - max hi) + lo_s): the
/// difference of maxima is exact where an f32 LSE per split would have lost
/// the log of the sum.
/// Lanes split the head dimension, so partial O is read and O written in
/// consecutive 128-byte runs; each lane recomputes the split weights from
/// the (broadcast, cached) LSE loads rather than keeping an array of them,
/// which would live in local memory.
template <typename T, int D>
ATTNC_DEVICE void mergeSplits(const AttnKernelArgs &args, int qHeads) {
  const int lane = laneId();
  const long long slots = mergeSlots(args, qHeads);
  const long long slot = mergeSlot();
  if (slot >= slots)
    return; // the whole warp: no collectives follow
  const float *hi = args.lse_partial;
  const float *lo = args.lse_partial + args.num_splits * slots;
  float m = negInf();
  for (int s = 0; s < args.num_splits; ++s)
    m = fmaxf(m, loadGlobal(hi + s * slots + slot));
  // Every split empty: subtract 0, so each weight is exp(-inf) = 0; a NaN
  // split (a NaN score) makes its weight, O and LSE NaN.
  if (m == negInf())
    m = 0.0f;
  auto weight = [&](int s) {
    return expf((loadGlobal(hi + s * slots + slot) - m) +
                loadGlobal(lo + s * slots + slot));
  };
  float sum = 0.0f;
  for (int s = 0; s < args.num_splits; ++s)
    sum += weight(s);
  const bool none = sum == 0.0f;
  const float inv = none ? 0.0f : 1.0f / sum;
  T *o = static_cast<T *>(args.o) + slot * D;
  for (int d = lane; d < D; d += 32) {
    float acc = 0.0f;
    for (int s = 0; s < args.num_splits; ++s)
      acc +=
          weight(s) * loadGlobal(args.o_partial + (s * slots + slot) * D + d);
    storeGlobal(o + d, fromFloat<T>(acc * inv));
  }
  if (lane == 0)
    storeGlobal(args.lse + slot, none ? negInf() : m + logf(sum));
}

/// Cascade attention's merge: one (query row, head) slot per warp. The
/// prefix launch left (O_p, LSE_p) in args.o_prefix / args.lse_prefix, the
/// suffix launch (O_s, LSE_s) in args.o / args.lse; both become
///   LSE = log(e^LSE_p + e^LSE_s),  O = e^(LSE_p - LSE) O_p + e^(LSE_s - LSE) O_s
/// A half that saw no key (LSE -inf) weighs 0; both: O = 0, LSE = -inf.
template <typename T, int D>
ATTNC_DEVICE void mergeCascade(const AttnKernelArgs &args, int qHeads) {
  const int lane = laneId();
  const long long slot = mergeSlot();
  if (slot >= mergeSlots(args, qHeads))
    return; // the whole warp
  const float lp = loadGlobal(args.lse_prefix + slot);
  const float ls = loadGlobal(args.lse + slot);
  float m = fmaxf(lp, ls);
  if (m == negInf())
    m = 0.0f;
  const float wp = expf(lp - m), ws = expf(ls - m);
  const float sum = wp + ws;
  const bool none = sum == 0.0f;
  const float inv = none ? 0.0f : 1.0f / sum;
  const T *op = static_cast<const T *>(args.o_prefix) + slot * D;
  T *o = static_cast<T *>(args.o) + slot * D;
  for (int d = lane; d < D; d += 32) {
    const float acc = wp * toFloat(loadGlobal(op + d)) +
                      ws * toFloat(loadGlobal(o + d));
    storeGlobal(o + d, fromFloat<T>(acc * inv));
  }
  // Every lane has read its LSE before lane 0 overwrites it.
  __syncwarp();
  if (lane == 0)
    storeGlobal(args.lse + slot, none ? negInf() : m + logf(sum));
}

} // namespace attnc::dev

#include "column_warps.cuh"

#endif // ATTNC_DEVICE_ATTENTION_TILE_CUH
