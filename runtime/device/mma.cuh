//===- mma.cuh - mma.sync.aligned.m16n8k16 with fp32 accumulation ---------===//
//
// D = A * B + C for one warp: A 16x16 (row), B 16x8 (col), C/D 16x8 fp32.
// All 32 lanes must call it together (.sync.aligned). `d` may be `c`.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_MMA_CUH
#define ATTNC_DEVICE_MMA_CUH

#include "types.cuh"

namespace attnc::dev {

ATTNC_DEVICE void mmaM16N8K16(FragC &d, const FragA<f16> &a,
                              const FragB<f16> &b, const FragC &c) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::mmaM16N8K16(::attnc::sim::detail::MmaType::F16, d.x,
                                    a.x, b.x, c.x);
#else
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
               : "=f"(d.x[0]), "=f"(d.x[1]), "=f"(d.x[2]), "=f"(d.x[3])
               : "r"(a.x[0]), "r"(a.x[1]), "r"(a.x[2]), "r"(a.x[3]),
                 "r"(b.x[0]), "r"(b.x[1]), "f"(c.x[0]), "f"(c.x[1]),
                 "f"(c.x[2]), "f"(c.x[3]));
#endif
}

ATTNC_DEVICE void mmaM16N8K16(FragC &d, const FragA<bf16> &a,
                              const FragB<bf16> &b, const FragC &c) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::mmaM16N8K16(::attnc::sim::detail::MmaType::BF16, d.x,
                                    a.x, b.x, c.x);
#else
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
               : "=f"(d.x[0]), "=f"(d.x[1]), "=f"(d.x[2]), "=f"(d.x[3])
               : "r"(a.x[0]), "r"(a.x[1]), "r"(a.x[2]), "r"(a.x[3]),
                 "r"(b.x[0]), "r"(b.x[1]), "f"(c.x[0]), "f"(c.x[1]),
                 "f"(c.x[2]), "f"(c.x[3]));
#endif
}

/// Zeroes an accumulator.
ATTNC_DEVICE void zero(FragC &d) { d.x[0] = d.x[1] = d.x[2] = d.x[3] = 0.0f; }

} // namespace attnc::dev

#endif // ATTNC_DEVICE_MMA_CUH
