//===- DeadlockReport.cpp - What a stuck block is waiting for -------------===//
//
// When no fiber of a block can run, the report lists how many threads reached
// __syncthreads(), which exited, and which warp collectives wait for which
// lanes, with thread indices compressed into ranges.
//
//===----------------------------------------------------------------------===//

#include "BlockRunner.h"

#include <cstdio>

namespace attnc::sim {

std::string formatIdx(uint3 v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "(%u,%u,%u)", v.x, v.y, v.z);
  return buf;
}

std::string formatMask(unsigned mask) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", mask);
  return buf;
}

/// "0-3,8,10-31": lanes set in `mask`.
std::string formatLanes(unsigned mask) {
  std::string out;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(mask >> l & 1))
      continue;
    unsigned end = l;
    while (end + 1 < 32 && (mask >> (end + 1) & 1))
      ++end;
    if (!out.empty())
      out += ",";
    out += std::to_string(l);
    if (end > l)
      out += "-" + std::to_string(end);
    l = end;
  }
  return out.empty() ? "none" : out;
}

std::string BlockRunner::describeThread(unsigned linear) const {
  return "kernel '" + launch->kernelName + "' block " + formatIdx(blockIdx) +
         " thread " + formatIdx(threads[linear].id.threadIdx);
}

std::string BlockRunner::threadList(FiberState state) const {
  std::string out;
  unsigned ranges = 0;
  for (unsigned i = 0; i < numThreads; ++i) {
    if (threads[i].state != state)
      continue;
    unsigned end = i;
    while (end + 1 < numThreads && threads[end + 1].state == state)
      ++end;
    if (++ranges > 8) {
      out += ", ...";
      break;
    }
    if (!out.empty())
      out += ", ";
    out += formatIdx(threads[i].id.threadIdx);
    if (end > i)
      out += "-" + formatIdx(threads[end].id.threadIdx);
    i = end;
  }
  return out;
}

std::string BlockRunner::deadlockReport() const {
  unsigned atBarrier = 0, atWarp = 0;
  for (unsigned i = 0; i < numThreads; ++i) {
    atBarrier += threads[i].state == FiberState::AtBarrier;
    atWarp += threads[i].state == FiberState::AtWarp;
  }
  std::string msg = "kernel '" + launch->kernelName + "' block " +
                    formatIdx(blockIdx) + ": deadlock:";
  if (atBarrier) {
    msg += " __syncthreads() reached by " + std::to_string(atBarrier) + " of " +
           std::to_string(numThreads) + " threads;";
  }
  if (exitedCount) {
    msg += " " + std::to_string(exitedCount) + " exited (" +
           threadList(FiberState::Exited) + ");";
  }
  for (unsigned w = 0; w < (numThreads + 31) / 32; ++w) {
    const WarpSlot &slot = *warps[w];
    for (unsigned m = slot.arrived; m; m &= m - 1) {
      unsigned l = __builtin_ctz(m);
      // Report each waiting group once, from its lowest arrived lane.
      if ((slot.arrived & slot.mask[l] & ((1u << l) - 1)) != 0)
        continue;
      unsigned missing = slot.mask[l] & ~slot.arrived;
      msg += " warp " + std::to_string(w) + " waits in " + slot.op[l] +
             " (mask " + formatMask(slot.mask[l]) + ") for lanes " +
             formatLanes(missing);
      if (missing & slot.exited)
        msg += " (exited: " + formatLanes(missing & slot.exited) + ")";
      msg += ";";
    }
  }
  if (atBarrier && atBarrier + exitedCount < numThreads && atWarp)
    msg += " threads in warp collectives never reach the barrier;";
  if (atBarrier) {
    msg += " threads at the barrier: " + threadList(FiberState::AtBarrier);
  }
  if (!msg.empty() && msg.back() == ';')
    msg.pop_back();
  return msg;
}

} // namespace attnc::sim
