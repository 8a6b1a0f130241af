//===- DevicePrimitives.cu - Kernels that exercise every device primitive -===//
//
// One source, two compilers: NvrtcTest compiles it with NVRTC for sm_80 and
// sm_90 and checks ptxas's resource report; the sim tests compile it with
// the host compiler (-DATTNC_SIM, through DevicePrimitivesSim.cpp) and check
// each kernel's output against a scalar reference. None of these is an
// attention kernel; attnc_test_tile_* chains the primitives the way one
// does (S = Q.K^T, row max, exp2, row sum, P repacked, O = P.V) on one tile.
//
// 16-bit data crosses the kernel boundary as raw `unsigned short` bits.
//
//===----------------------------------------------------------------------===//

#include "attnc_device.cuh"

using namespace attnc::dev;

//===--- mma.sync ---------------------------------------------------------===//

namespace {

/// d[0..127] = A.B + C, d[128..255] = A.B + (A.B + C), from raw per-lane
/// registers: a[lane*4 + r], b[lane*2 + r], c[lane*4 + i].
template <typename T>
__device__ __forceinline__ void mmaRaw(const unsigned *a, const unsigned *b,
                                       const float *c, float *d) {
  int lane = laneId();
  FragA<T> fa;
  FragB<T> fb;
  FragC fc, fd;
  for (int r = 0; r < 4; ++r)
    fa.x[r] = loadGlobal(a + lane * 4 + r);
  for (int r = 0; r < 2; ++r)
    fb.x[r] = loadGlobal(b + lane * 2 + r);
  for (int i = 0; i < 4; ++i)
    fc.x[i] = loadGlobal(c + lane * 4 + i);
  mmaM16N8K16(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i)
    storeGlobal(d + lane * 4 + i, fd.x[i]);
  mmaM16N8K16(fd, fa, fb, fd); // accumulate in place
  for (int i = 0; i < 4; ++i)
    storeGlobal(d + 128 + lane * 4 + i, fd.x[i]);
}

} // namespace

extern "C" __global__ void attnc_test_mma_f16(const unsigned *a,
                                              const unsigned *b, const float *c,
                                              float *d) {
  mmaRaw<f16>(a, b, c, d);
}

extern "C" __global__ void attnc_test_mma_bf16(const unsigned *a,
                                               const unsigned *b,
                                               const float *c, float *d) {
  mmaRaw<bf16>(a, b, c, d);
}

//===--- Fragment coordinates ---------------------------------------------===//

/// Per thread, 34 ints: C (row, col) x 4, A (row, col) x 8, B (k, n) x 4,
/// then warpId and laneId.
extern "C" __global__ void attnc_test_fragment_coords(int *out) {
  int lane = laneId();
  int *o = out + threadIdx.x * 34;
  for (int i = 0; i < 4; ++i) {
    storeGlobal(o + 2 * i, accRow(lane, i));
    storeGlobal(o + 2 * i + 1, accCol(lane, i));
  }
  for (int e = 0; e < 8; ++e) {
    storeGlobal(o + 8 + 2 * e, aRow(lane, e));
    storeGlobal(o + 9 + 2 * e, aCol(lane, e));
  }
  for (int e = 0; e < 4; ++e) {
    storeGlobal(o + 24 + 2 * e, bRow(lane, e));
    storeGlobal(o + 25 + 2 * e, bCol(lane, e));
  }
  storeGlobal(o + 32, warpId());
  storeGlobal(o + 33, lane);
}

//===--- ldmatrix ---------------------------------------------------------===//

/// Shared tile for the ldmatrix test: 32 x 32 16-bit elements.
constexpr int kLdmCols = 32;
constexpr int kLdmElems = 32 * kLdmCols;

/// Loads a 32x32 tile into shared memory, then every ldmatrix variant with
/// matrix m (m = lane / 8) at an irregular origin: (0,0), (8,8), (16,0),
/// (3,16). out[variant * 128 + lane * 4 + reg], variants x1 x2 x4 x1.trans
/// x2.trans x4.trans.
extern "C" __global__ void attnc_test_ldmatrix(const unsigned short *tile,
                                               unsigned *out) {
  ATTNC_DYNAMIC_SMEM(unsigned char, smem);
  unsigned short *s = reinterpret_cast<unsigned short *>(smem);
  for (int i = threadIdx.x; i < kLdmElems; i += blockDim.x)
    storeShared(s + i, loadGlobal(tile + i));
  __syncthreads();

  int lane = laneId();
  int m = lane / 8;
  int row = (m == 3 ? 3 : 8 * m) + lane % 8;
  int col = m == 1 ? 8 : (m == 3 ? 16 : 0);
  const unsigned short *addr = s + row * kLdmCols + col;
  unsigned *o = out + lane * 4;

  unsigned r1;
  unsigned r2[2];
  unsigned r4[4];
  ldmatrixX1(r1, addr);
  storeGlobal(o, r1);
  ldmatrixX2(r2, addr);
  for (int i = 0; i < 2; ++i)
    storeGlobal(o + 128 + i, r2[i]);
  ldmatrixX4(r4, addr);
  for (int i = 0; i < 4; ++i)
    storeGlobal(o + 256 + i, r4[i]);
  ldmatrixX1Trans(r1, addr);
  storeGlobal(o + 384, r1);
  ldmatrixX2Trans(r2, addr);
  for (int i = 0; i < 2; ++i)
    storeGlobal(o + 512 + i, r2[i]);
  ldmatrixX4Trans(r4, addr);
  for (int i = 0; i < 4; ++i)
    storeGlobal(o + 640 + i, r4[i]);
}

//===--- cp.async ---------------------------------------------------------===//

/// Three groups of 16-byte chunks, one chunk per thread and group:
///   group 0: chunk t gets the first max(0, min(16, validBytes - 16t)) bytes
///            of src + 16t, zero-filled (cpAsync16ZeroFill);
///   group 1: chunk n+t gets all of src + 16(n+t) if it lies within
///            validBytes, else zeros (cpAsync16OrZero);
///   group 2: chunk 2n+t gets full[16t..16t+15] (cpAsync16).
/// Group 0 is read back (by the neighbouring thread) after wait<2> and a
/// barrier; the other groups after cpAsyncWaitAll.
extern "C" __global__ void attnc_test_cp_async(const unsigned char *src,
                                               int validBytes,
                                               const unsigned char *full,
                                               unsigned char *out) {
  ATTNC_DYNAMIC_SMEM(unsigned char, smem);
  int t = threadIdx.x;
  int n = blockDim.x;

  int bytes0 = validBytes - 16 * t;
  bytes0 = bytes0 < 0 ? 0 : (bytes0 > 16 ? 16 : bytes0);
  cpAsync16ZeroFill(smem + 16 * t, src + 16 * t, static_cast<unsigned>(bytes0));
  cpAsyncCommit();
  int c1 = n + t;
  bool valid1 = 16 * c1 + 16 <= validBytes;
  cpAsync16OrZero(smem + 16 * c1, valid1 ? src + 16 * c1 : src, valid1);
  cpAsyncCommit();
  cpAsync16(smem + 16 * (2 * n + t), full + 16 * t);
  cpAsyncCommit();

  // Group 0 is complete after wait<2>; another thread's chunk is visible
  // after the barrier.
  cpAsyncWait<2>();
  __syncthreads();
  int neighbour = (t + 1) % n;
  storeGlobal(reinterpret_cast<uint4 *>(out) + neighbour,
              loadShared(reinterpret_cast<const uint4 *>(smem) + neighbour));
  cpAsyncWaitAll();
  __syncthreads();
  for (int c = n + t; c < 3 * n; c += n)
    storeGlobal(reinterpret_cast<uint4 *>(out) + c,
                loadShared(reinterpret_cast<const uint4 *>(smem) + c));
}

//===--- Reductions -------------------------------------------------------===//

/// Per thread 8 floats: quadMax, quadSum, warpMax, warpSum of in[t], then
/// rowMax and rowSum (rows g and g+8) of a 16x16 accumulator tile whose lane
/// registers are in[n + lane*8 + j*4 + i].
extern "C" __global__ void attnc_test_reduce(const float *in, float *out) {
  int t = threadIdx.x;
  int lane = laneId();
  float v = loadGlobal(in + t);
  float *o = out + t * 8;
  storeGlobal(o + 0, quadMax(v));
  storeGlobal(o + 1, quadSum(v));
  storeGlobal(o + 2, warpMax(v));
  storeGlobal(o + 3, warpSum(v));
  FragC s[2];
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 4; ++i)
      s[j].x[i] = loadGlobal(in + blockDim.x + lane * 8 + j * 4 + i);
  float mx[2], sum[2];
  rowMax(mx, s);
  rowSum(sum, s);
  storeGlobal(o + 4, mx[0]);
  storeGlobal(o + 5, mx[1]);
  storeGlobal(o + 6, sum[0]);
  storeGlobal(o + 7, sum[1]);
}

//===--- Conversions and numerics -----------------------------------------===//

/// For each in[i]: f16 and bf16 bits (RNE) and their values back as float;
/// for each pair: pack2<f16>, pack2<bf16> and unpack2 of both.
extern "C" __global__ void
attnc_test_convert(const float *in, int n, unsigned short *h, unsigned short *b,
                   float *back, unsigned *packed, float *unpacked) {
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    float x = loadGlobal(in + i);
    f16 hv = fromFloat<f16>(x);
    bf16 bv = fromFloat<bf16>(x);
    storeGlobal(h + i, __half_as_ushort(hv));
    storeGlobal(b + i, __bfloat16_as_ushort(bv));
    storeGlobal(back + 2 * i, toFloat(hv));
    storeGlobal(back + 2 * i + 1, toFloat(bv));
  }
  for (int i = threadIdx.x; i < n / 2; i += blockDim.x) {
    float lo = loadGlobal(in + 2 * i), hi = loadGlobal(in + 2 * i + 1);
    unsigned ph = pack2<f16>(lo, hi), pb = pack2<bf16>(lo, hi);
    storeGlobal(packed + 2 * i, ph);
    storeGlobal(packed + 2 * i + 1, pb);
    float a, c;
    unpack2<f16>(a, c, ph);
    storeGlobal(unpacked + 4 * i, a);
    storeGlobal(unpacked + 4 * i + 1, c);
    unpack2<bf16>(a, c, pb);
    storeGlobal(unpacked + 4 * i + 2, a);
    storeGlobal(unpacked + 4 * i + 3, c);
  }
}

/// out: posInf, negInf, fastExp2(in[t]) for each thread t after the first
/// two slots, and fastExp2(-inf).
extern "C" __global__ void attnc_test_numeric(const float *in, float *out) {
  int t = threadIdx.x;
  if (t == 0) {
    storeGlobal(out, posInf());
    storeGlobal(out + 1, negInf());
    storeGlobal(out + 2, fastExp2(negInf()));
  }
  storeGlobal(out + 3 + t, fastExp2(loadGlobal(in + t)));
  storeGlobal(out + 3 + blockDim.x + t, fastRcp(loadGlobal(in + t)));
}

//===--- One attention-shaped tile: S = Q.K^T, softmax, O = P.V -----------===//

namespace {

/// One warp, 16 queries x 16 keys x 16 dims. q, k, v are row-major 16x16
/// (keys are rows of k and v). Score s = (q.k) * scaleLog2, masked to
/// -inf where key > query + 3; p = exp2(s - rowmax); O = (P rounded to T).V
/// / rowsum(p). out: o[16*16], then rowmax[16], rowsum[16].
template <typename T>
__device__ __forceinline__ void
tile(const unsigned short *q, const unsigned short *k, const unsigned short *v,
     float scaleLog2, float *out) {
  ATTNC_DYNAMIC_SMEM(unsigned char, smem);
  int lane = laneId();
  // Three 512-byte tiles, 32 chunks of 16 bytes each: one chunk per lane.
  cpAsync16(smem + 16 * lane, q + 8 * lane);
  cpAsync16(smem + 512 + 16 * lane, k + 8 * lane);
  cpAsync16(smem + 1024 + 16 * lane, v + 8 * lane);
  cpAsyncWaitAll();
  __syncthreads();
  const T *sq = reinterpret_cast<const T *>(smem);
  const T *sk = sq + 256;
  const T *sv = sk + 256;

  FragA<T> qa;
  ldmatrixA(qa, sq + (lane % 16) * 16 + (lane / 16) * 8);
  FragC s[2];
  for (int j = 0; j < 2; ++j) {
    FragB<T> kb;
    ldmatrixB(kb, sk + (8 * j + lane % 8) * 16 + ((lane / 8) % 2) * 8);
    zero(s[j]);
    mmaM16N8K16(s[j], qa, kb, s[j]);
  }
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 4; ++i) {
      int row = accRow(lane, i), col = 8 * j + accCol(lane, i);
      s[j].x[i] = col > row + 3 ? negInf() : s[j].x[i] * scaleLog2;
    }
  float mx[2];
  rowMax(mx, s);
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 4; ++i)
      s[j].x[i] = fastExp2(s[j].x[i] - mx[i / 2]);
  float sum[2];
  rowSum(sum, s);

  FragA<T> pa;
  accToA(pa, s[0], s[1]);
  FragC o[2];
  for (int j = 0; j < 2; ++j) {
    FragB<T> vb;
    ldmatrixBTrans(vb, sv + (lane % 16) * 16 + 8 * j);
    zero(o[j]);
    mmaM16N8K16(o[j], pa, vb, o[j]);
  }
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 4; ++i) {
      int row = accRow(lane, i), col = 8 * j + accCol(lane, i);
      storeGlobal(out + row * 16 + col, o[j].x[i] * fastRcp(sum[i / 2]));
    }
  if (lane % 4 == 0)
    for (int h = 0; h < 2; ++h) {
      int row = lane / 4 + 8 * h;
      storeGlobal(out + 256 + row, mx[h]);
      storeGlobal(out + 272 + row, sum[h]);
    }
}

} // namespace

extern "C" __global__ void __launch_bounds__(32)
    attnc_test_tile_f16(const unsigned short *q, const unsigned short *k,
                        const unsigned short *v, float scaleLog2, float *out) {
  tile<f16>(q, k, v, scaleLog2, out);
}

extern "C" __global__ void __launch_bounds__(32)
    attnc_test_tile_bf16(const unsigned short *q, const unsigned short *k,
                         const unsigned short *v, float scaleLog2, float *out) {
  tile<bf16>(q, k, v, scaleLog2, out);
}
