//===- RaceCheck.h - Checked mode's shared-memory race detector -----------===//
//
// Internal to attnc_sim. The sim runs a block's warps one after another and
// lands each cp.async at its issuing thread's wait, so a kernel missing a
// __syncthreads() (or a cp.async wait) usually computes the right numbers
// here and the wrong ones on the GPU. This detector reports such a kernel
// whatever the schedule: it fails the launch when two warps touch the same
// bytes of dynamic shared memory, one of them writing, with no block barrier
// between the two accesses.
//
// Time is counted in epochs: a block's epoch advances at every completed
// __syncthreads(). Every thread is in the same epoch between two barriers,
// so two accesses are unordered exactly when they happen in the same epoch,
// and the shadow state only has to remember the current epoch's accesses.
// Per 4-byte word of shared memory it keeps
//
//   - the epoch of the last write and its thread (hence its warp);
//   - the epoch of the last reads and the mask of warps that read then;
//   - "in flight": a cp.async into the word was issued and its thread has
//     not yet passed the cp.async.wait_group covering it.
//
// The rules (W, R: the accessing warp; E: the current epoch):
//
//   read    error if in flight (the GPU may not have written it yet), or if
//           written in E by another warp; then R joins E's readers
//   write   error if in flight, written in E by another warp, or read in E
//           by another warp (write-after-read: a refill without a barrier)
//   cp.async issue: the checks of a write (it may land any time from now),
//           then the word is in flight
//   cp.async completion (the covering wait): a write by the issuing thread
//           in the then-current epoch, so only a barrier after the wait
//           makes it readable by other warps
//   thread exit with a cp.async in flight: an error (see docs/sim.md)
//
// Lanes of one warp are not checked against each other: the kernels this
// targets share data within a warp only through warp collectives (ldmatrix,
// mma, shuffles). A race between lanes of one warp that needs __syncwarp()
// on Volta and later is not reported.
//
// Epochs are absolute (they keep counting from block to block), so nothing
// is reset between blocks: an entry whose epoch is not the current one is
// simply old. Only equality with the current epoch matters, so when the
// counter nears its end the entries are rebased.
//
// Words are the unit because generated kernels touch shared memory in
// 16-byte rows (cp.async, ldmatrix). An access that covers part of a word
// splits that word into four byte entries, so two warps writing the two
// halves of one word (f16 elements) are not a race; the split word stays
// split, and slower, until the next launch.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_RACECHECK_H
#define ATTNC_RUNTIME_SIM_RACECHECK_H

#include "VectorTypes.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnc::sim {

/// The device-library operations the detector sees.
enum class SmemOp : uint8_t { LoadShared, Ldmatrix, StoreShared, CpAsync };

class RaceChecker {
public:
  /// Sizes and clears the shadow state for a launch.
  void prepare(size_t smemBytes, dim3 blockDim);
  /// A new block: accesses of the previous one are in older epochs.
  void beginBlock() {
    nextEpoch();
    barriers = 0;
  }
  /// A __syncthreads() completed.
  void barrier() {
    nextEpoch();
    ++barriers;
  }

  /// `bytes` at shared `offset` (in bounds) are read or written by thread
  /// `thread` (linear index in the block) with `op`. On a race the launch
  /// fails and the call does not return.
  void read(size_t offset, size_t bytes, unsigned thread, SmemOp op);
  void write(size_t offset, size_t bytes, unsigned thread, SmemOp op);
  /// A 16-byte cp.async to `offset` issued / completed by `thread`.
  void issueCopy(size_t offset, unsigned thread);
  void completeCopy(size_t offset, unsigned thread);
  /// Fails the launch: `thread` exits with its cp.async to `offset` still in
  /// flight.
  [[noreturn]] void exitWithCopyInFlight(size_t offset, unsigned thread);

private:
  struct Shadow {
    /// Epoch of the last write; kInFlight while a cp.async is pending;
    /// kSplit for a word whose state lives in four byte entries.
    uint32_t writeEpoch;
    /// Epoch in which `readers` read; 0 while in flight.
    uint32_t readEpoch;
    /// Warps that read in readEpoch; while in flight, the barrier count
    /// when the cp.async was issued (for the message).
    uint32_t readers;
    /// Last writer: thread | op bit.
    uint16_t writer;
    /// First reader in readEpoch, and the last one whose warp was not yet
    /// among the readers: thread | op bit. Whichever warp writes next, one
    /// of the two is another warp's if any is, so a report can name it.
    uint16_t reader;
    uint16_t newWarpReader;
  };
  static_assert(sizeof(Shadow) == 20, "20 bytes per word of shared memory");
  static constexpr uint32_t kInFlight = ~0u;
  static constexpr uint32_t kSplit = ~0u - 1;
  static constexpr uint32_t kLastEpoch = ~0u - 16;
  /// Bit 15 of writer/reader: the write was a cp.async / the read an
  /// ldmatrix (the other op otherwise).
  static constexpr uint16_t kOpBit = 0x8000;
  static constexpr uint16_t kThreadMask = 0x3ff;

  static uint16_t tag(unsigned thread, SmemOp op) {
    bool bit = op == SmemOp::Ldmatrix || op == SmemOp::CpAsync;
    return static_cast<uint16_t>(thread | (bit ? kOpBit : 0));
  }

  void nextEpoch() {
    if (++epoch >= kLastEpoch)
      rebase();
  }
  void rebase();

  /// Entry-level rules; `at` is the byte offset the entry stands for.
  void readEntry(Shadow &s, size_t at, unsigned thread, SmemOp op) {
    if (__builtin_expect(s.writeEpoch == epoch || s.writeEpoch == kInFlight,
                         false))
      checkReadSlow(s, at, thread, op);
    uint32_t bit = 1u << (thread >> 5);
    if (s.readEpoch != epoch || s.readers == 0) {
      s.readEpoch = epoch;
      s.readers = bit;
      s.reader = tag(thread, op);
    } else if (!(s.readers & bit)) {
      s.readers |= bit;
      s.newWarpReader = tag(thread, op);
    }
  }
  /// The checks of a write (and of a cp.async issue).
  void checkWriteEntry(const Shadow &s, size_t at, unsigned thread, SmemOp op) {
    unsigned warp = thread >> 5;
    if (__builtin_expect(
            s.writeEpoch == kInFlight ||
                (s.writeEpoch == epoch &&
                 ((s.writer & kThreadMask) >> 5) != warp) ||
                (s.readEpoch == epoch && (s.readers & ~(1u << warp))),
            false))
      writeConflict(s, at, thread, op);
  }

  void checkReadSlow(const Shadow &s, size_t at, unsigned thread, SmemOp op);
  [[noreturn]] void writeConflict(const Shadow &s, size_t at, unsigned thread,
                                  SmemOp op);
  [[noreturn]] void fail(size_t at, const std::string &what);

  /// The four byte entries of word `w`, splitting it first if it is not
  /// split yet (they start as copies of its word entry).
  Shadow *byteEntries(size_t w);
  /// Calls fn(entry, byte offset) for each entry covering [offset, offset +
  /// bytes): word entries for whole words, byte entries for split words and
  /// the partly covered words at either end (which it splits).
  template <typename Fn> void forEachEntry(size_t offset, size_t bytes, Fn fn);

  std::string thread(unsigned linear) const;
  /// The message's second half for an entry in flight / written by another
  /// warp in this epoch ("... what warp 1 wrote (cp.async, ...) since ...").
  std::string inFlightBy(const Shadow &s) const;
  std::string writtenBy(const Shadow &s) const;
  std::string since(uint32_t barrier) const;

  std::vector<Shadow> words;
  std::vector<Shadow> bytes; ///< 4 per word, used once a word is split
  uint32_t epoch = 1;
  uint32_t barriers = 0; ///< completed __syncthreads() of the block
  dim3 blockDim;
};

template <typename Fn>
inline void RaceChecker::forEachEntry(size_t offset, size_t n, Fn fn) {
  size_t end = offset + n;
  for (size_t w = offset >> 2; w << 2 < end; ++w) {
    size_t lo = w << 2 > offset ? w << 2 : offset;
    size_t hi = (w << 2) + 4 < end ? (w << 2) + 4 : end;
    Shadow &s = words[w];
    if (__builtin_expect(hi - lo == 4 && s.writeEpoch != kSplit, true)) {
      fn(s, lo);
      continue;
    }
    Shadow *b = byteEntries(w);
    for (size_t at = lo; at < hi; ++at)
      fn(b[at & 3], at);
  }
}

inline void RaceChecker::read(size_t offset, size_t n, unsigned thread,
                              SmemOp op) {
  forEachEntry(offset, n,
               [&](Shadow &s, size_t at) { readEntry(s, at, thread, op); });
}

inline void RaceChecker::write(size_t offset, size_t n, unsigned thread,
                               SmemOp op) {
  forEachEntry(offset, n, [&](Shadow &s, size_t at) {
    checkWriteEntry(s, at, thread, op);
    s.writeEpoch = epoch;
    s.writer = tag(thread, op);
  });
}

inline void RaceChecker::issueCopy(size_t offset, unsigned thread) {
  forEachEntry(offset, 16, [&](Shadow &s, size_t at) {
    checkWriteEntry(s, at, thread, SmemOp::CpAsync);
    s.writeEpoch = kInFlight;
    s.writer = tag(thread, SmemOp::CpAsync);
    s.readEpoch = 0;
    s.readers = barriers;
  });
}

inline void RaceChecker::completeCopy(size_t offset, unsigned thread) {
  forEachEntry(offset, 16, [&](Shadow &s, size_t) {
    s.writeEpoch = epoch;
    s.writer = tag(thread, SmemOp::CpAsync);
    s.readers = 0;
  });
}

} // namespace attnc::sim

#endif // ATTNC_RUNTIME_SIM_RACECHECK_H
