//===- BlockRunner.cpp - Blocks, fibers, barriers and warp collectives ----===//

#include "BlockRunner.h"

#include <cstring>

namespace attnc::sim {

void LaunchState::fail(LaunchError kind, std::string text) {
  std::lock_guard<std::mutex> lock(errorMutex);
  if (error == LaunchError::None) {
    error = kind;
    message = std::move(text);
  }
  aborted.store(true, std::memory_order_relaxed);
}

namespace {

bool sameOp(const char *a, const char *b) {
  return a == b || (a && b && std::strcmp(a, b) == 0);
}

thread_local BlockRunner *tlsRunner = nullptr;

} // namespace

BlockRunner &BlockRunner::forThisThread() {
  thread_local BlockRunner runner;
  tlsRunner = &runner;
  runner.currentSlot = &detail::currentThread;
  return runner;
}

BlockRunner &runner() { return *tlsRunner; }

bool inFiber() { return tlsRunner && tlsRunner->inFiber(); }

// Padding around the shared-memory buffer: an access a little out of bounds
// lands in owned memory, so checked mode can report it instead of the
// process faulting first.
constexpr size_t kSmemRedzone = 4096;
constexpr size_t kSmemAlign = 128;

bool BlockRunner::prepare(LaunchState &l) {
  launch = &l;
  blockDim = l.block;
  gridDim = l.grid;
  numThreads = l.block.x * l.block.y * l.block.z;
  if (stackBytes != l.stackBytes) {
    stacks.clear();
    stackBytes = l.stackBytes;
  }
  while (stacks.size() < numThreads) {
    FiberStack s;
    if (!s.allocate(stackBytes)) {
      l.fail(LaunchError::OutOfMemory,
             "kernel '" + l.kernelName + "': cannot map " +
                 std::to_string(numThreads) + " fiber stacks of " +
                 std::to_string(stackBytes) + " bytes");
      return false;
    }
    stacks.push_back(std::move(s));
  }
  if (threads.size() < numThreads)
    threads.resize(numThreads);
  unsigned numWarps = (numThreads + 31) / 32;
  while (warps.size() < numWarps)
    warps.push_back(std::make_unique<WarpSlot>());
  ring.resize(numThreads);

  size_t need = l.smemBytes + 2 * kSmemRedzone + kSmemAlign;
  if (smemCapacity < need) {
    smemStorage.reset(new (std::nothrow) char[need]);
    if (!smemStorage) {
      smemCapacity = 0;
      l.fail(LaunchError::OutOfMemory,
             "kernel '" + l.kernelName + "': cannot allocate shared memory");
      return false;
    }
    smemCapacity = need;
  }
  auto base = reinterpret_cast<uintptr_t>(smemStorage.get()) + kSmemRedzone;
  smem = reinterpret_cast<char *>((base + kSmemAlign - 1) & ~(kSmemAlign - 1));
  smemBytes = l.smemBytes;
  raceCheck = l.checked && l.raceCheck;
  if (raceCheck)
    race.prepare(smemBytes, blockDim);

  for (unsigned i = 0; i < numThreads; ++i) {
    SimThread &t = threads[i];
    t.linear = i;
    t.id.threadIdx = {i % blockDim.x, (i / blockDim.x) % blockDim.y,
                      i / (blockDim.x * blockDim.y)};
    t.id.blockDim = blockDim;
    t.id.gridDim = gridDim;
    t.id.lane = i % 32;
    t.id.warp = i / 32;
  }
  for (unsigned w = 0; w < numWarps; ++w) {
    unsigned lanes = numThreads - w * 32 < 32 ? numThreads - w * 32 : 32;
    warps[w]->present = lanes == 32 ? ~0u : (1u << lanes) - 1;
  }
  return true;
}

bool BlockRunner::runBlock(uint64_t b) {
  blockIdx = {static_cast<unsigned>(b % gridDim.x),
              static_cast<unsigned>(b / gridDim.x % gridDim.y),
              static_cast<unsigned>(b / (uint64_t(gridDim.x) * gridDim.y))};
  // Poison: 0xff bytes are NaN as float, half and bf16, so a kernel that
  // reads shared memory it never wrote (or data an earlier block left)
  // produces NaN instead of plausible numbers.
  std::memset(smem, 0xff, smemBytes);
  barrierArrived = 0;
  barrierAccum = 0;
  exitedCount = 0;
  failed = false;
  ringHead = ringSize = 0;
  if (raceCheck)
    race.beginBlock();
  for (unsigned w = 0; w < (numThreads + 31) / 32; ++w) {
    warps[w]->arrived = 0;
    warps[w]->exited = 0;
  }
  for (unsigned i = 0; i < numThreads; ++i) {
    SimThread &t = threads[i];
    t.id.blockIdx = blockIdx;
    makeFiber(t.ctx, stacks[i], &BlockRunner::fiberMain, &t);
    t.state = FiberState::Ready;
    t.copies.clear();
    t.copyHead = 0;
    t.openGroup = 0;
    push(i);
  }
  SimThread *first = &threads[ring[ringHead]];
  ringHead = (ringHead + 1) % numThreads;
  --ringSize;
  setCurrent(first);
  first->state = FiberState::Running;
  switchFiber(mainCtx, first->ctx);
  setCurrent(nullptr);
  return !failed;
}

void BlockRunner::push(unsigned linear) {
  ring[(ringHead + ringSize) % numThreads] = linear;
  ++ringSize;
}

void BlockRunner::park() {
  SimThread *self = cur;
  if (ringSize == 0) {
    failed = true;
    launch->fail(LaunchError::Deadlock, deadlockReport());
    abandon();
  }
  SimThread *next = &threads[ring[ringHead]];
  ringHead = ringHead + 1 == numThreads ? 0 : ringHead + 1;
  --ringSize;
  setCurrent(next);
  next->state = FiberState::Running;
  switchFiber(self->ctx, next->ctx);
  // Resumed: whoever switched here already made us current.
}

void BlockRunner::fiberMain(void *arg) {
  auto *t = static_cast<SimThread *>(arg);
  BlockRunner &r = runner();
  r.launch->kernel.invoke(r.launch->kernel.closure);
  // cp.asyncs still in flight complete before the thread is gone; the race
  // detector calls that a bug (docs/sim.md).
  if (r.raceCheck && t->copyHead < t->copies.size())
    r.race.exitWithCopyInFlight(r.smemOffset(t->copies[t->copyHead].dst),
                                t->linear);
  r.completeCopies(*t, ~0u);
  r.exitCurrent();
}

void BlockRunner::exitCurrent() {
  SimThread *self = cur;
  self->state = FiberState::Exited;
  ++exitedCount;
  warps[self->linear / 32]->exited |= 1u << (self->linear % 32);
  if (exitedCount == numThreads)
    switchFiber(self->ctx, mainCtx);
  else
    park();
  __builtin_unreachable();
}

void BlockRunner::abandon() {
  // The block's other fibers are never resumed; their stacks are rebuilt for
  // the next block. Kernel code holds no resources that need unwinding.
  switchFiber(cur->ctx, mainCtx);
  __builtin_unreachable();
}

void BlockRunner::fail(LaunchError kind, const std::string &what) {
  failed = true;
  launch->fail(kind, describeThread(cur->linear) + ": " + what);
  abandon();
}

//===--- Block barrier ----------------------------------------------------===//

void BlockRunner::syncThreads() {
  if (++barrierArrived == numThreads) {
    barrierArrived = 0;
    if (raceCheck)
      race.barrier();
    // Everyone else is parked at this barrier.
    for (unsigned i = 0; i < numThreads; ++i)
      if (i != cur->linear)
        wake(i);
    return;
  }
  cur->state = FiberState::AtBarrier;
  park();
}

int BlockRunner::syncThreadsReduce(int pred, int op) {
  barrierAccum += pred != 0;
  if (barrierArrived + 1 == numThreads) {
    int count = barrierAccum;
    barrierAccum = 0;
    barrierResult = op == 0   ? count
                    : op == 1 ? count == static_cast<int>(numThreads)
                              : count != 0;
  }
  syncThreads();
  // Stable until every thread has read it: the next barrier cannot complete
  // before each has resumed from this one.
  return barrierResult;
}

//===--- Warp collectives -------------------------------------------------===//

void BlockRunner::warpCollective(const char *op, unsigned mask,
                                 detail::CollectiveFn fn, const void *arg,
                                 const uint32_t *in, unsigned numIn,
                                 uint32_t *out, unsigned numOut) {
  SimThread &t = *cur;
  WarpSlot &w = *warps[t.linear / 32];
  unsigned lane = t.linear % 32;
  unsigned bit = 1u << lane;
  if (mask & ~w.present)
    fail(LaunchError::WarpDivergence,
         std::string(op) + " with mask " + formatMask(mask) +
             " names lanes that do not exist in this warp (lanes " +
             formatLanes(w.present) + ")");
  if (!(mask & bit))
    fail(LaunchError::WarpDivergence,
         std::string(op) + " with mask " + formatMask(mask) +
             " called by lane " + std::to_string(lane) +
             ", which is not in it");
  std::memcpy(w.exchange.in[lane], in, numIn * sizeof(uint32_t));
  w.op[lane] = op;
  w.mask[lane] = mask;
  w.arrived |= bit;
  if ((w.arrived & mask) != mask) {
    t.state = FiberState::AtWarp;
    park();
  } else {
    for (unsigned m = mask & ~bit; m; m &= m - 1) {
      unsigned l = __builtin_ctz(m);
      if (w.mask[l] != mask || !sameOp(w.op[l], op))
        fail(LaunchError::WarpDivergence,
             "lanes of warp " + std::to_string(t.linear / 32) +
                 " disagree: lane " + std::to_string(lane) + " calls " + op +
                 " with mask " + formatMask(mask) + " while lane " +
                 std::to_string(l) + " waits in " + w.op[l] + " with mask " +
                 formatMask(w.mask[l]));
    }
    fn(w.exchange, mask, arg);
    w.arrived &= ~mask;
    unsigned base = t.linear & ~31u;
    for (unsigned m = mask & ~bit; m; m &= m - 1)
      wake(base + __builtin_ctz(m));
  }
  std::memcpy(out, w.exchange.out[lane], numOut * sizeof(uint32_t));
}

unsigned BlockRunner::activeMask() const {
  const WarpSlot &w = *warps[cur->linear / 32];
  return w.present & ~w.exited;
}

//===--- Running a launch's blocks ----------------------------------------===//

void runBlocks(LaunchState &launch) {
  BlockRunner &r = BlockRunner::forThisThread();
  if (!r.prepare(launch))
    return;
  while (!launch.aborted.load(std::memory_order_relaxed)) {
    uint64_t b = launch.nextBlock.fetch_add(1, std::memory_order_relaxed);
    if (b >= launch.numBlocks || !r.runBlock(b))
      break;
  }
}

} // namespace attnc::sim
