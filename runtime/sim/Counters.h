//===- Counters.h - What sim kernels count as they run --------------------===//
//
// Generated kernels count, under sim only, the KV tiles their loops visit
// and the tiles that run the element mask (runtime/device/tile_loop.cuh).
// The counts are process-wide and accumulate over launches until reset:
//
//   attnc::sim::resetCounters();
//   ... launch ...
//   attnc::sim::Counters c = attnc::sim::readCounters();
//
// They measure tile skipping exactly and without a GPU: a test compares
// them with the tiles that hold a visible element. In checked mode the sim
// also counts the bytes kernels read from the K/V buffers (those named k, v,
// k_cache and v_cache): what an fp8 cache halves.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_COUNTERS_H
#define ATTNC_RUNTIME_SIM_COUNTERS_H

#include <cstdint>

namespace attnc::sim {

enum class Event {
  KVTile,     ///< a KV tile visited by one program (CTA)
  MaskedTile, ///< a KV tile that ran the element mask
};

struct Counters {
  int64_t kvTiles = 0;
  int64_t maskedTiles = 0;
  /// Checked mode only: global bytes read from K/V buffers (loads and
  /// cp.async sources; zero-filled cp.async bytes are not read).
  int64_t kvBytesRead = 0;
};

/// Called by kernels (one thread per CTA); thread-safe.
void countEvent(Event event);
/// Called by checked mode for each global read of a buffer named k, v,
/// k_cache or v_cache; thread-safe.
void countKVBytesRead(int64_t bytes);
Counters readCounters();
void resetCounters();

} // namespace attnc::sim

#endif // ATTNC_RUNTIME_SIM_COUNTERS_H
