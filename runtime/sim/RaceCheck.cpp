//===- RaceCheck.cpp - Shared-memory race detector: state and reports -----===//
//
// The rules are in RaceCheck.h; this file holds what runs rarely: sizing
// and rebasing the shadow state, splitting words, and the error messages,
// which name the shared offset, both warps (and threads where known), the
// operations and the barrier since which both accesses happened.
//
//===----------------------------------------------------------------------===//

#include "RaceCheck.h"
#include "BlockRunner.h"

#include <algorithm>

namespace attnc::sim {

void RaceChecker::prepare(size_t smemBytes, dim3 dim) {
  blockDim = dim;
  // Every launch starts from a clear state, which also drops split words
  // and whatever a failed block left in flight.
  words.assign((smemBytes + 3) / 4, Shadow{});
  bytes.clear();
  epoch = 1;
  barriers = 0;
}

void RaceChecker::rebase() {
  // Only equality with the current epoch matters, and the counter has just
  // moved past every recorded one: all of them become "long ago".
  auto reset = [](Shadow &s) {
    if (s.writeEpoch < kSplit)
      s.writeEpoch = 0;
    s.readEpoch = 0;
  };
  std::for_each(words.begin(), words.end(), reset);
  std::for_each(bytes.begin(), bytes.end(), reset);
  epoch = 1;
}

RaceChecker::Shadow *RaceChecker::byteEntries(size_t w) {
  if (bytes.empty())
    bytes.resize(words.size() * 4);
  Shadow *b = &bytes[w * 4];
  Shadow &s = words[w];
  if (s.writeEpoch != kSplit) {
    std::fill(b, b + 4, s);
    s.writeEpoch = kSplit;
  }
  return b;
}

//===--- Reports ----------------------------------------------------------===//

namespace {

const char *opName(SmemOp op) {
  switch (op) {
  case SmemOp::LoadShared:
    return "loadShared";
  case SmemOp::Ldmatrix:
    return "ldmatrix";
  case SmemOp::StoreShared:
    return "storeShared";
  case SmemOp::CpAsync:
    return "cp.async";
  }
  return "?";
}

} // namespace

std::string RaceChecker::thread(unsigned linear) const {
  uint3 idx{linear % blockDim.x, linear / blockDim.x % blockDim.y,
            linear / (blockDim.x * blockDim.y)};
  return "thread " + formatIdx(idx);
}

std::string RaceChecker::since(uint32_t barrier) const {
  return barrier ? "since barrier " + std::to_string(barrier)
                 : "since the block started (no barrier yet)";
}

void RaceChecker::fail(size_t at, const std::string &what) {
  detail::failThread(LaunchError::DataRace, "shared-memory race at offset " +
                                                std::to_string(at) + ": " +
                                                what);
}

// Called for a read of an entry written in this epoch or in flight.
void RaceChecker::checkReadSlow(const Shadow &s, size_t at, unsigned reader,
                                SmemOp op) {
  unsigned warp = reader >> 5;
  unsigned writer = s.writer & kThreadMask;
  // A warp reading what it wrote itself in this epoch is the common case
  // here; it must not pay for a message.
  if (s.writeEpoch != kInFlight && writer >> 5 == warp)
    return;
  std::string who = "warp " + std::to_string(warp) + " reads (" + opName(op) +
                    ", " + thread(reader) + ")";
  if (s.writeEpoch == kInFlight)
    fail(at, who + inFlightBy(s));
  fail(at, who + writtenBy(s));
}

std::string RaceChecker::inFlightBy(const Shadow &s) const {
  unsigned writer = s.writer & kThreadMask;
  return " what a cp.async of " + thread(writer) + " (warp " +
         std::to_string(writer >> 5) + "), issued " + since(s.readers) +
         ", may still be writing: no cp.async.wait_group of that thread "
         "covers it yet";
}

std::string RaceChecker::writtenBy(const Shadow &s) const {
  unsigned writer = s.writer & kThreadMask;
  return " what warp " + std::to_string(writer >> 5) + " wrote (" +
         opName(s.writer & kOpBit ? SmemOp::CpAsync : SmemOp::StoreShared) +
         ", " + thread(writer) + ") " + since(barriers) +
         ", with no __syncthreads() between them";
}

void RaceChecker::writeConflict(const Shadow &s, size_t at, unsigned writer,
                                SmemOp op) {
  unsigned warp = writer >> 5;
  std::string who = "warp " + std::to_string(warp) + " writes (" + opName(op) +
                    ", " + thread(writer) + ")";
  if (s.writeEpoch == kInFlight)
    fail(at, who + inFlightBy(s));
  uint32_t others = s.readEpoch == epoch ? s.readers & ~(1u << warp) : 0;
  if (others) {
    // One of the two recorded readers is another warp's (RaceCheck.h).
    uint16_t r = others >> ((s.reader & kThreadMask) >> 5) & 1
                     ? s.reader
                     : s.newWarpReader;
    unsigned reader = r & kThreadMask;
    fail(at, who + " what warp " + std::to_string(reader >> 5) + " read (" +
                 opName(r & kOpBit ? SmemOp::Ldmatrix : SmemOp::LoadShared) +
                 ", " + thread(reader) + ") " + since(barriers) +
                 ", with no __syncthreads() between them");
  }
  fail(at, who + writtenBy(s));
}

void RaceChecker::exitWithCopyInFlight(size_t offset, unsigned linear) {
  const Shadow &s = words[offset / 4].writeEpoch == kSplit ? bytes[offset]
                                                           : words[offset / 4];
  fail(offset, thread(linear) + " exits with its cp.async there (issued " +
                   since(s.readers) +
                   ") still in flight: no cp.async.wait_group covers it, and "
                   "the block's shared memory does not outlive the block");
}

} // namespace attnc::sim
