//===- ThreadContext.h - What kernel code calls into the sim runtime ------===//
//
// The narrow interface between a kernel compiled for sim and the scheduler in
// the attnc_sim library: who am I (threadIdx, blockIdx, ...), block and warp
// barriers, the warp collectives the device library's sim paths use, and the
// checked-mode hooks for memory accesses. A kernel compiled into its own
// shared object leaves these symbols undefined; they resolve against the
// attnc_sim copy in the process that loads it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_THREADCONTEXT_H
#define ATTNC_RUNTIME_SIM_THREADCONTEXT_H

#include "VectorTypes.h"

#include <cstddef>
#include <cstdint>

namespace attnc::sim::detail {

/// Who a CUDA thread is. Fixed while its fiber runs.
struct ThreadIdentity {
  uint3 threadIdx;
  uint3 blockIdx;
  dim3 blockDim;
  dim3 gridDim;
  unsigned lane; ///< from the linear thread index, as on the GPU
  unsigned warp;
};

/// The running fiber's identity on this host thread; null outside a block.
/// Set at every fiber switch. A plain TLS pointer rather than a function
/// so that gdb can read it without calling into the process:
///   print attnc::sim::detail::currentThread->threadIdx
/// (or `print threadIdx` in a kernel built with -g3).
extern __thread const ThreadIdentity *currentThread;

inline unsigned laneId() { return currentThread->lane; }
inline unsigned warpId() { return currentThread->warp; }

/// __syncthreads(): blocks until every thread of the block arrives.
void syncThreads();
/// __syncthreads_count/_and/_or: a barrier that also reduces `pred`.
int syncThreadsReduce(int pred, int op);
void syncWarp(unsigned mask);
/// Lanes of the calling warp that exist and have not exited.
unsigned activeMask();

/// Words each lane brings to and takes from a warp collective.
constexpr unsigned kExchangeWords = 16;

/// Per-warp scratch through which a collective's lanes meet.
struct WarpExchange {
  uint32_t in[32][kExchangeWords];
  uint32_t out[32][kExchangeWords];
};

/// Computes a collective for every lane in `mask`, reading `in` and writing
/// `out`. It runs once, on the last lane to arrive.
using CollectiveFn = void (*)(WarpExchange &ex, unsigned mask, const void *arg);

/// Runs a warp collective named `op` over the lanes in `mask`: this lane's
/// `numIn` words go in, its `numOut` result words come back. `arg` is the
/// last-arriving lane's and must be the same on every lane.
void warpCollective(const char *op, unsigned mask, CollectiveFn fn,
                    const void *arg, const uint32_t *in, unsigned numIn,
                    uint32_t *out, unsigned numOut);

/// Returns the 64-bit `value` of lane `srcLane` (a lane in `mask`).
uint64_t shuffle(const char *op, unsigned mask, uint64_t value,
                 unsigned srcLane);
/// Bit i set if lane i is in `mask` and passed a true `pred`.
unsigned ballot(const char *op, unsigned mask, bool pred);

enum class MmaType : uint32_t { F16, BF16 };
/// mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32 for the
/// calling lane's fragments, in the PTX ISA's register layout.
void mmaM16N8K16(MmaType type, float d[4], const uint32_t a[4],
                 const uint32_t b[2], const float c[4]);
/// ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].shared.b16: lanes
/// 8i..8i+7 give the row addresses of matrix i.
void ldmatrix(uint32_t *dst, unsigned numMatrices, bool trans,
              const void *rowAddr);

/// cp.async.cg.shared.global with `srcBytes` (0..16) read and the rest of the
/// 16 bytes zero-filled. The copy is deferred to the cp.async.wait_group
/// that covers it, so a kernel that reads its tile before waiting reads the
/// poison shared memory is filled with, as it could on the GPU.
void cpAsync(void *dst, const void *src, unsigned srcBytes);
void cpAsyncCommit();
/// Completes all but the `pending` most recent committed groups.
void cpAsyncWait(unsigned pending);

/// The block's dynamic shared memory (ATTNC_DYNAMIC_SMEM).
void *dynamicSmem();
size_t dynamicSmemBytes();

/// Ends the launch with an error naming this thread (the sim's __trap).
[[noreturn]] void trap(const char *why);

enum class Access : uint32_t {
  GlobalRead,
  GlobalWrite,
  SharedRead,
  SharedWrite
};

/// True while a checked-mode launch runs: the fast path of every access
/// check is this one load.
extern bool checkedMode;

/// Fails the launch if [p, p + bytes) is outside the registered global
/// buffers or the block's shared memory, whichever `kind` names, or if `p`
/// is not a multiple of `align` (the GPU faults on misaligned accesses; the
/// CPU would not).
void checkAccessSlow(const void *p, size_t bytes, size_t align, Access kind);

inline void checkAccess(const void *p, size_t bytes, size_t align,
                        Access kind) {
  if (__builtin_expect(checkedMode, false))
    checkAccessSlow(p, bytes, align, kind);
}

} // namespace attnc::sim::detail

#endif // ATTNC_RUNTIME_SIM_THREADCONTEXT_H
