//===- Collectives.cpp - Shuffles, votes, mma.sync and ldmatrix for sim ---===//
//
// The compute half of each warp collective: it runs once, on the last lane to
// arrive, over all lanes' deposited registers. The register layouts are the
// PTX ISA's (sections "Matrix Fragments for mma.m16n8k16 with floating point
// type" and "ldmatrix"), so a kernel whose fragments are right under sim has
// them right on the GPU. With groupID g = lane / 4 and t = lane % 4:
//
//   A (16x16, row):  reg r holds A[g + 8*(r&1)][2t + 8*(r>>1) + {0,1}]
//   B (16x8,  col):  reg r holds B[2t + 8r + {0,1}][g]
//   C/D (16x8 f32):  elem i is  C[g + 8*(i>>1)][2t + (i&1)]
//   ldmatrix:        reg m holds M_m[g][2t + {0,1}], or with .trans
//                    M_m[2t + {0,1}][g], where M_m's rows are the 16-byte
//                    rows addressed by lanes 8m..8m+7
//
// {0,1} is the low and high half of the 32-bit register.
//
//===----------------------------------------------------------------------===//

#include "BlockRunner.h"
#include "HalfTypes.h"

#include <cstdio>
#include <cstring>

namespace attnc::sim::detail {

namespace {

void shuffleFn(WarpExchange &ex, unsigned mask, const void *) {
  for (unsigned m = mask; m; m &= m - 1) {
    unsigned lane = __builtin_ctz(m);
    unsigned src = ex.in[lane][2];
    if (checkedMode && !(mask >> src & 1))
      failThread(LaunchError::WarpDivergence,
                 "lane " + std::to_string(lane) + " shuffles from lane " +
                     std::to_string(src) +
                     ", which is not in the mask: its value is undefined");
    ex.out[lane][0] = ex.in[src][0];
    ex.out[lane][1] = ex.in[src][1];
  }
}

void ballotFn(WarpExchange &ex, unsigned mask, const void *) {
  unsigned bits = 0;
  for (unsigned m = mask; m; m &= m - 1) {
    unsigned lane = __builtin_ctz(m);
    bits |= (ex.in[lane][0] ? 1u : 0u) << lane;
  }
  for (unsigned m = mask; m; m &= m - 1)
    ex.out[__builtin_ctz(m)][0] = bits;
}

float decode16(MmaType type, uint32_t bits) {
  auto h = static_cast<uint16_t>(bits);
  return type == MmaType::F16 ? halfBitsToFloat(h) : bf16BitsToFloat(h);
}

void mmaFn(WarpExchange &ex, unsigned, const void *arg) {
  MmaType type = *static_cast<const MmaType *>(arg);
  double a[16][16], b[16][8], d[16][8];
  for (unsigned lane = 0; lane < 32; ++lane) {
    unsigned g = lane / 4, t = lane % 4;
    const uint32_t *in = ex.in[lane];
    for (unsigned r = 0; r < 4; ++r) {
      unsigned row = g + 8 * (r & 1), col = 2 * t + 8 * (r >> 1);
      a[row][col] = decode16(type, in[r]);
      a[row][col + 1] = decode16(type, in[r] >> 16);
    }
    for (unsigned r = 0; r < 2; ++r) {
      unsigned k = 2 * t + 8 * r;
      b[k][g] = decode16(type, in[4 + r]);
      b[k + 1][g] = decode16(type, in[4 + r] >> 16);
    }
    for (unsigned i = 0; i < 4; ++i)
      d[g + 8 * (i >> 1)][2 * t + (i & 1)] = bitsToFloat(in[6 + i]);
  }
  // 16-bit products are exact in double and the 16-term sums nearly so:
  // one rounding to float, like an ideal fp32-accumulating tensor core.
  // Each D[m][n] sums C, then k = 0..15 in order.
  for (unsigned m = 0; m < 16; ++m)
    for (unsigned n = 0; n < 8; ++n) {
      double acc = d[m][n];
      for (unsigned k = 0; k < 16; ++k)
        acc += a[m][k] * b[k][n];
      d[m][n] = acc;
    }
  for (unsigned lane = 0; lane < 32; ++lane) {
    unsigned g = lane / 4, t = lane % 4;
    for (unsigned i = 0; i < 4; ++i)
      ex.out[lane][i] =
          floatBits(static_cast<float>(d[g + 8 * (i >> 1)][2 * t + (i & 1)]));
  }
}

struct LdmatrixShape {
  unsigned numMatrices;
  bool trans;
};

void ldmatrixFn(WarpExchange &ex, unsigned, const void *arg) {
  const auto &shape = *static_cast<const LdmatrixShape *>(arg);
  uint16_t rows[4][8][8];
  for (unsigned m = 0; m < shape.numMatrices; ++m)
    for (unsigned r = 0; r < 8; ++r) {
      unsigned lane = 8 * m + r;
      uintptr_t addr = ex.in[lane][0] | uintptr_t(ex.in[lane][1]) << 32;
      const void *p = reinterpret_cast<const void *>(addr);
      if (addr % 16) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%p", p);
        failThread(LaunchError::Misaligned,
                   "ldmatrix row address " + std::string(buf) + " of lane " +
                       std::to_string(lane) + " is not 16-byte aligned");
      }
      if (checkedMode && !inSharedMemory(p, 16))
        failThread(LaunchError::MemoryViolation,
                   "out-of-bounds shared read of 16 bytes by ldmatrix (row " +
                       std::to_string(r) + " of matrix " + std::to_string(m) +
                       ", address of lane " + std::to_string(lane) + ") at " +
                       describeSharedAddress(p));
      if (checkedMode) {
        // The lane whose row this is reads it, whichever lane computes.
        BlockRunner &r = runner();
        if (r.raceCheck)
          r.race.read(r.smemOffset(p), 16, (r.current().linear & ~31u) + lane,
                      SmemOp::Ldmatrix);
      }
      std::memcpy(rows[m][r], p, 16);
    }
  for (unsigned lane = 0; lane < 32; ++lane) {
    unsigned g = lane / 4, t = lane % 4;
    for (unsigned m = 0; m < shape.numMatrices; ++m) {
      uint16_t lo = shape.trans ? rows[m][2 * t][g] : rows[m][g][2 * t];
      uint16_t hi = shape.trans ? rows[m][2 * t + 1][g] : rows[m][g][2 * t + 1];
      ex.out[lane][m] = lo | uint32_t(hi) << 16;
    }
  }
}

} // namespace

uint64_t shuffle(const char *op, unsigned mask, uint64_t value,
                 unsigned srcLane) {
  uint32_t in[3] = {static_cast<uint32_t>(value),
                    static_cast<uint32_t>(value >> 32), srcLane};
  uint32_t out[2];
  warpCollective(op, mask, &shuffleFn, nullptr, in, 3, out, 2);
  return out[0] | uint64_t(out[1]) << 32;
}

unsigned ballot(const char *op, unsigned mask, bool pred) {
  uint32_t in = pred;
  uint32_t out;
  warpCollective(op, mask, &ballotFn, nullptr, &in, 1, &out, 1);
  return out;
}

void mmaM16N8K16(MmaType type, float d[4], const uint32_t a[4],
                 const uint32_t b[2], const float c[4]) {
  uint32_t in[10];
  std::memcpy(in, a, 16);
  std::memcpy(in + 4, b, 8);
  std::memcpy(in + 6, c, 16);
  uint32_t out[4];
  static const MmaType types[2] = {MmaType::F16, MmaType::BF16};
  const char *op = type == MmaType::F16
                       ? "mma.sync.m16n8k16.row.col.f32.f16.f16.f32"
                       : "mma.sync.m16n8k16.row.col.f32.bf16.bf16.f32";
  warpCollective(op, ~0u, &mmaFn, &types[type == MmaType::BF16], in, 10, out,
                 4);
  std::memcpy(d, out, 16);
}

void ldmatrix(uint32_t *dst, unsigned numMatrices, bool trans,
              const void *rowAddr) {
  static const LdmatrixShape shapes[2][5] = {
      {{0, false}, {1, false}, {2, false}, {0, false}, {4, false}},
      {{0, true}, {1, true}, {2, true}, {0, true}, {4, true}}};
  static const char *const names[2][5] = {
      {"", "ldmatrix.x1", "ldmatrix.x2", "", "ldmatrix.x4"},
      {"", "ldmatrix.x1.trans", "ldmatrix.x2.trans", "", "ldmatrix.x4.trans"}};
  auto addr = reinterpret_cast<uintptr_t>(rowAddr);
  uint32_t in[2] = {static_cast<uint32_t>(addr),
                    static_cast<uint32_t>(addr >> 32)};
  warpCollective(names[trans][numMatrices], ~0u, &ldmatrixFn,
                 &shapes[trans][numMatrices], in, 2, dst, numMatrices);
}

} // namespace attnc::sim::detail
