//===- ldmatrix.cuh - ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].b16 -----===//
//
// Loads 8x8 tiles of 16-bit elements from shared memory into registers. Each
// lane passes one row address (16 bytes, 16-byte aligned): lanes 8i..8i+7
// address the rows of matrix i; lanes past the last matrix pass anything.
// Register i receives matrix i with lane l holding row l/4, columns
// 2(l%4) and 2(l%4)+1; .trans gives the transpose (rows 2(l%4), 2(l%4)+1 of
// column l/4).
//
// For mma.m16n8k16 from row-major shared tiles:
//   A (16x16 at row r0, col c0):  x4, lane l -> row r0 + l%16, col c0 +
//   8*(l/16) B from K (N x K row-major):    x2, lane l -> row n0 + l%8,  col k0
//   + 8*(l/8) B from V (K x N row-major):    x2.trans, lane l -> row k0 + l%16,
//   col n0
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_LDMATRIX_CUH
#define ATTNC_DEVICE_LDMATRIX_CUH

#include "memory.cuh"
#include "types.cuh"

namespace attnc::dev {

ATTNC_DEVICE void ldmatrixX1(unsigned &dst, const void *smemRow) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::ldmatrix(&dst, 1, false, smemRow);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];"
               : "=r"(dst)
               : "r"(smemAddress(smemRow))
               : "memory");
#endif
}

ATTNC_DEVICE void ldmatrixX1Trans(unsigned &dst, const void *smemRow) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::ldmatrix(&dst, 1, true, smemRow);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];"
               : "=r"(dst)
               : "r"(smemAddress(smemRow))
               : "memory");
#endif
}

ATTNC_DEVICE void ldmatrixX2(unsigned (&dst)[2], const void *smemRow) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::ldmatrix(dst, 2, false, smemRow);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];"
               : "=r"(dst[0]), "=r"(dst[1])
               : "r"(smemAddress(smemRow))
               : "memory");
#endif
}

ATTNC_DEVICE void ldmatrixX2Trans(unsigned (&dst)[2], const void *smemRow) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::ldmatrix(dst, 2, true, smemRow);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];"
               : "=r"(dst[0]), "=r"(dst[1])
               : "r"(smemAddress(smemRow))
               : "memory");
#endif
}

ATTNC_DEVICE void ldmatrixX4(unsigned (&dst)[4], const void *smemRow) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::ldmatrix(dst, 4, false, smemRow);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(dst[0]), "=r"(dst[1]), "=r"(dst[2]), "=r"(dst[3])
               : "r"(smemAddress(smemRow))
               : "memory");
#endif
}

ATTNC_DEVICE void ldmatrixX4Trans(unsigned (&dst)[4], const void *smemRow) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::ldmatrix(dst, 4, true, smemRow);
#else
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
      : "=r"(dst[0]), "=r"(dst[1]), "=r"(dst[2]), "=r"(dst[3])
      : "r"(smemAddress(smemRow))
      : "memory");
#endif
}

/// A fragment of a row-major 16x16 tile (see the header comment for the
/// per-lane row address).
/// The .x4 (and .x4.trans) forms at a shared address computed by the
/// caller: `addr` is smemAddress(smemRow). A tile's loads then add
/// compile-time offsets to one base register, which ptxas folds into the
/// instructions' immediates; converting each row pointer (smemAddress)
/// would cost an address computation per load. Under sim the pointer is
/// used.
ATTNC_DEVICE void ldmatrixX4(unsigned (&dst)[4], const void *smemRow,
                             unsigned addr) {
#ifdef ATTNC_SIM
  (void)addr;
  ldmatrixX4(dst, smemRow);
#else
  (void)smemRow;
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(dst[0]), "=r"(dst[1]), "=r"(dst[2]), "=r"(dst[3])
               : "r"(addr)
               : "memory");
#endif
}

ATTNC_DEVICE void ldmatrixX4Trans(unsigned (&dst)[4], const void *smemRow,
                                  unsigned addr) {
#ifdef ATTNC_SIM
  (void)addr;
  ldmatrixX4Trans(dst, smemRow);
#else
  (void)smemRow;
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
      : "=r"(dst[0]), "=r"(dst[1]), "=r"(dst[2]), "=r"(dst[3])
      : "r"(addr)
      : "memory");
#endif
}

/// The .x2 (and .x2.trans) forms at a caller-computed shared address, as
/// above.
ATTNC_DEVICE void ldmatrixX2(unsigned (&dst)[2], const void *smemRow,
                             unsigned addr) {
#ifdef ATTNC_SIM
  (void)addr;
  ldmatrixX2(dst, smemRow);
#else
  (void)smemRow;
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];"
               : "=r"(dst[0]), "=r"(dst[1])
               : "r"(addr)
               : "memory");
#endif
}

ATTNC_DEVICE void ldmatrixX2Trans(unsigned (&dst)[2], const void *smemRow,
                                  unsigned addr) {
#ifdef ATTNC_SIM
  (void)addr;
  ldmatrixX2Trans(dst, smemRow);
#else
  (void)smemRow;
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];"
               : "=r"(dst[0]), "=r"(dst[1])
               : "r"(addr)
               : "memory");
#endif
}

template <typename T>
ATTNC_DEVICE void ldmatrixA(FragA<T> &dst, const void *smemRow) {
  ldmatrixX4(dst.x, smemRow);
}

/// B fragment of an N x K row-major tile (K^T as B: S = Q.K^T).
template <typename T>
ATTNC_DEVICE void ldmatrixB(FragB<T> &dst, const void *smemRow) {
  ldmatrixX2(dst.x, smemRow);
}

/// B fragment of a K x N row-major tile (V as B: O = P.V).
template <typename T>
ATTNC_DEVICE void ldmatrixBTrans(FragB<T> &dst, const void *smemRow) {
  ldmatrixX2Trans(dst.x, smemRow);
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_LDMATRIX_CUH
