//===- Fiber.h - Stackful fibers with a hand-written context switch -------===//
//
// Every CUDA thread of a block runs as a fiber on one host thread. A kernel
// with an mma.sync per few instructions switches fibers millions of times, so
// the switch must be cheap: on x86-64 it is a dozen instructions of assembly
// that save the callee-saved registers and the stack pointer (glibc's
// swapcontext makes a sigprocmask system call per switch, ~50x slower). Other
// architectures fall back to ucontext.
//
// Fibers never migrate between host threads: a block starts and finishes on
// the host thread that picked it up, which is what lets kernel code keep
// per-block state in thread_local storage.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_FIBER_H
#define ATTNC_RUNTIME_SIM_FIBER_H

#include <cstddef>

// ATTNC_SIM_UCONTEXT forces the portable path on x86-64 too (to test it).
#if defined(__x86_64__) && !defined(ATTNC_SIM_UCONTEXT)
#define ATTNC_SIM_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

namespace attnc::sim {

/// A suspended execution context.
struct FiberContext {
#ifdef ATTNC_SIM_ASM_SWITCH
  void *sp = nullptr; ///< Saved stack pointer; registers live on the stack.
#else
  ucontext_t uc;
#endif
};

using FiberEntry = void (*)(void *arg);

/// An mmap'ed fiber stack with an inaccessible guard page below it, so an
/// overflow faults at once instead of corrupting a neighbour's stack.
class FiberStack {
public:
  FiberStack() = default;
  FiberStack(const FiberStack &) = delete;
  FiberStack &operator=(const FiberStack &) = delete;
  FiberStack(FiberStack &&other) noexcept;
  FiberStack &operator=(FiberStack &&other) noexcept;
  ~FiberStack();

  /// Maps a stack of at least `bytes` usable bytes; false if mmap fails.
  bool allocate(size_t bytes);
  void release();

  char *base() const { return usable; }
  size_t size() const { return usableBytes; }
  /// The guard page, for telling a stack overflow from other faults.
  const char *guard() const { return mapping; }

private:
  char *mapping = nullptr;
  size_t mappingBytes = 0;
  char *usable = nullptr;
  size_t usableBytes = 0;
};

/// Prepares `ctx` so that switching to it calls `entry(arg)` on `stack`.
/// `entry` must never return: it ends by switching to another context.
void makeFiber(FiberContext &ctx, const FiberStack &stack, FiberEntry entry,
               void *arg);

/// Saves the running context into `from` and resumes `to`.
void switchFiber(FiberContext &from, FiberContext &to);

} // namespace attnc::sim

#endif // ATTNC_RUNTIME_SIM_FIBER_H
