//===- cp_async.cuh - 16-byte asynchronous global -> shared copies --------===//
//
// cp.async.cg (L2 only, 16 bytes) with the src-size operand: src-size bytes
// are read and the rest of the 16 are zero-filled, so rows past the end of a
// sequence load as zeros without a branch around the copy. Copies issued
// since the last commit form a group; cpAsyncWait<N>() waits until at most N
// committed groups are still in flight (double buffering: issue tile j+1,
// commit, wait<1>, compute tile j). A wait makes the copies visible to the
// issuing thread only: other threads need a __syncthreads() after it.
//
// Under sim the copy is performed at the wait that covers it, so reading a
// tile before waiting for it reads poison there too.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_CP_ASYNC_CUH
#define ATTNC_DEVICE_CP_ASYNC_CUH

#include "memory.cuh"
#include "types.cuh"

namespace attnc::dev {

/// Copies `srcBytes` (0..16) from global `src` and zero-fills the rest of the
/// 16 bytes at shared `dst`. Both 16-byte aligned; with srcBytes = 0 nothing
/// is read from `src`.
ATTNC_DEVICE void cpAsync16ZeroFill(void *dst, const void *src,
                                    unsigned srcBytes) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::cpAsync(dst, src, srcBytes);
#else
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;"
               :
               : "r"(smemAddress(dst)), "l"(__cvta_generic_to_global(src)),
                 "r"(srcBytes)
               : "memory");
#endif
}

/// Copies 16 bytes from global `src` to shared `dst`.
ATTNC_DEVICE void cpAsync16(void *dst, const void *src) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::cpAsync(dst, src, 16);
#else
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;"
               :
               : "r"(smemAddress(dst)), "l"(__cvta_generic_to_global(src))
               : "memory");
#endif
}

/// cpAsync16ZeroFill to shared `dst` + DstOffset bytes from global `src` +
/// SrcOffset bytes, where `dstShared` is smemAddress(dst): the offsets are
/// the instruction's immediates, so a tile's copies share two base
/// registers instead of computing an address pair each.
template <int DstOffset, long long SrcOffset>
ATTNC_DEVICE void cpAsync16ZeroFillAt(void *dst, unsigned dstShared,
                                      const void *src, unsigned srcBytes) {
#ifdef ATTNC_SIM
  (void)dstShared;
  ::attnc::sim::detail::cpAsync(static_cast<char *>(dst) + DstOffset,
                                static_cast<const char *>(src) + SrcOffset,
                                srcBytes);
#else
  (void)dst;
  asm volatile("cp.async.cg.shared.global [%0+%3], [%1+%4], 16, %2;"
               :
               : "r"(dstShared), "l"(__cvta_generic_to_global(src)),
                 "r"(srcBytes), "n"(DstOffset), "n"(SrcOffset)
               : "memory");
#endif
}

/// 16 bytes if `valid`, else 16 zeros: the out-of-range-row form.
ATTNC_DEVICE void cpAsync16OrZero(void *dst, const void *src, bool valid) {
  cpAsync16ZeroFill(dst, src, valid ? 16u : 0u);
}

/// Closes the group of copies issued since the last commit.
ATTNC_DEVICE void cpAsyncCommit() {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::cpAsyncCommit();
#else
  asm volatile("cp.async.commit_group;" ::: "memory");
#endif
}

/// Waits until at most `Pending` committed groups are incomplete.
template <int Pending> ATTNC_DEVICE void cpAsyncWait() {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::cpAsyncWait(Pending);
#else
  asm volatile("cp.async.wait_group %0;" ::"n"(Pending) : "memory");
#endif
}

/// Commits the open group and waits for every copy.
ATTNC_DEVICE void cpAsyncWaitAll() {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::cpAsyncCommit();
  ::attnc::sim::detail::cpAsyncWait(0);
#else
  asm volatile("cp.async.wait_all;" ::: "memory");
#endif
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_CP_ASYNC_CUH
