//===- Fiber.cpp - Fiber stacks and the context switch --------------------===//

#include "Fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#ifdef ATTNC_SIM_ASM_SWITCH
// attnc_sim_switch(void **saveSp, void *loadSp): push the callee-saved
// registers of the SysV ABI, store rsp, load the other rsp, pop, return into
// the other context. MXCSR and the x87 control word are also callee-saved but
// nothing here changes them, so they are not saved: it keeps the switch at a
// dozen instructions.
//
// attnc_sim_fiber_start: a fresh fiber "returns" here from its first switch,
// with the entry function in r12 and its argument in rbx (popped from the
// frame makeFiber wrote). The undefined return address ends gdb backtraces
// cleanly at the fiber's bottom.
asm(R"(
  .text
  .p2align 4
  .globl attnc_sim_switch
  .hidden attnc_sim_switch
  .type attnc_sim_switch,@function
attnc_sim_switch:
  .cfi_startproc
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .cfi_endproc
  .size attnc_sim_switch, .-attnc_sim_switch

  .p2align 4
  .globl attnc_sim_fiber_start
  .hidden attnc_sim_fiber_start
  .type attnc_sim_fiber_start,@function
attnc_sim_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  movq %rbx, %rdi
  callq *%r12
  ud2
  .cfi_endproc
  .size attnc_sim_fiber_start, .-attnc_sim_fiber_start
)");

extern "C" void attnc_sim_switch(void **saveSp, void *loadSp);
extern "C" void attnc_sim_fiber_start();
#endif

namespace attnc::sim {

FiberStack::FiberStack(FiberStack &&other) noexcept {
  *this = std::move(other);
}

FiberStack &FiberStack::operator=(FiberStack &&other) noexcept {
  if (this != &other) {
    release();
    std::swap(mapping, other.mapping);
    std::swap(mappingBytes, other.mappingBytes);
    std::swap(usable, other.usable);
    std::swap(usableBytes, other.usableBytes);
  }
  return *this;
}

FiberStack::~FiberStack() { release(); }

bool FiberStack::allocate(size_t bytes) {
  release();
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t rounded = (bytes + page - 1) / page * page;
  // MAP_NORESERVE: a thousand threads per block at 256 KiB each is virtual
  // address space; only the pages a kernel touches are ever backed.
  void *p = mmap(nullptr, rounded + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return false;
  mapping = static_cast<char *>(p);
  mappingBytes = rounded + page;
  mprotect(mapping, page, PROT_NONE);
  usable = mapping + page;
  usableBytes = rounded;
  return true;
}

void FiberStack::release() {
  if (mapping)
    munmap(mapping, mappingBytes);
  mapping = usable = nullptr;
  mappingBytes = usableBytes = 0;
}

#ifdef ATTNC_SIM_ASM_SWITCH

void makeFiber(FiberContext &ctx, const FiberStack &stack, FiberEntry entry,
               void *arg) {
  auto top =
      reinterpret_cast<uintptr_t>(stack.base() + stack.size()) & ~uintptr_t(15);
  // Frame popped by attnc_sim_switch: r15 r14 r13 r12 rbx rbp, then the
  // return address. After the `ret`, rsp = top - 16 is 16-byte aligned, as
  // attnc_sim_fiber_start's `call` needs.
  auto *frame = reinterpret_cast<void **>(top - 72);
  frame[0] = nullptr;                                          // r15
  frame[1] = nullptr;                                          // r14
  frame[2] = nullptr;                                          // r13
  frame[3] = reinterpret_cast<void *>(entry);                  // r12
  frame[4] = arg;                                              // rbx
  frame[5] = nullptr;                                          // rbp
  frame[6] = reinterpret_cast<void *>(&attnc_sim_fiber_start); // return
  frame[7] = nullptr;
  frame[8] = nullptr;
  ctx.sp = frame;
}

void switchFiber(FiberContext &from, FiberContext &to) {
  attnc_sim_switch(&from.sp, to.sp);
}

#else

namespace {
void ucontextStart(unsigned entryLo, unsigned entryHi, unsigned argLo,
                   unsigned argHi) {
  auto entry = reinterpret_cast<FiberEntry>(
      (static_cast<uintptr_t>(entryHi) << 32) | entryLo);
  auto *arg =
      reinterpret_cast<void *>((static_cast<uintptr_t>(argHi) << 32) | argLo);
  entry(arg);
}
} // namespace

void makeFiber(FiberContext &ctx, const FiberStack &stack, FiberEntry entry,
               void *arg) {
  getcontext(&ctx.uc);
  ctx.uc.uc_stack.ss_sp = stack.base();
  ctx.uc.uc_stack.ss_size = stack.size();
  ctx.uc.uc_link = nullptr;
  auto e = reinterpret_cast<uintptr_t>(entry);
  auto a = reinterpret_cast<uintptr_t>(arg);
  makecontext(&ctx.uc, reinterpret_cast<void (*)()>(&ucontextStart), 4,
              static_cast<unsigned>(e), static_cast<unsigned>(e >> 32),
              static_cast<unsigned>(a), static_cast<unsigned>(a >> 32));
}

void switchFiber(FiberContext &from, FiberContext &to) {
  swapcontext(&from.uc, &to.uc);
}

#endif

} // namespace attnc::sim
