//===- WarpIntrinsics.h - __shfl_*_sync, votes and __syncwarp for sim -----===//
//
// Each lane computes the source lane exactly as PTX's shfl.sync does
// (segments of `width` lanes; xor and down fall back to the lane's own value
// when the source lies past the segment's end, up when it lies before its
// start), then one warp collective moves the values.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_WARPINTRINSICS_H
#define ATTNC_RUNTIME_SIM_WARPINTRINSICS_H

#include "ThreadContext.h"

#include <cstring>
#include <type_traits>

namespace attnc::sim::detail {

template <typename T> uint64_t toWord(const T &v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                "shuffles move values of at most 8 bytes");
  uint64_t w = 0;
  std::memcpy(&w, &v, sizeof(T));
  return w;
}

template <typename T> T fromWord(uint64_t w) {
  T v;
  std::memcpy(&v, &w, sizeof(T));
  return v;
}

/// First and last lane of the calling lane's `width`-lane segment.
inline void shuffleSegment(int width, unsigned &first, unsigned &last) {
  unsigned w = static_cast<unsigned>(width);
  first = laneId() & ~(w - 1);
  last = first + w - 1;
}

} // namespace attnc::sim::detail

template <typename T>
T __shfl_sync(unsigned mask, T var, int srcLane, int width = 32) {
  unsigned first, last;
  attnc::sim::detail::shuffleSegment(width, first, last);
  unsigned src = first + (static_cast<unsigned>(srcLane) & (width - 1));
  return attnc::sim::detail::fromWord<T>(attnc::sim::detail::shuffle(
      "__shfl_sync", mask, attnc::sim::detail::toWord(var), src));
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = 32) {
  unsigned first, last;
  attnc::sim::detail::shuffleSegment(width, first, last);
  unsigned lane = attnc::sim::detail::laneId();
  unsigned src = (lane ^ static_cast<unsigned>(laneMask)) & 31u;
  if (src > last)
    src = lane;
  return attnc::sim::detail::fromWord<T>(attnc::sim::detail::shuffle(
      "__shfl_xor_sync", mask, attnc::sim::detail::toWord(var), src));
}

template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  unsigned first, last;
  attnc::sim::detail::shuffleSegment(width, first, last);
  unsigned lane = attnc::sim::detail::laneId();
  unsigned src = lane + delta > last ? lane : lane + delta;
  return attnc::sim::detail::fromWord<T>(attnc::sim::detail::shuffle(
      "__shfl_down_sync", mask, attnc::sim::detail::toWord(var), src));
}

template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  unsigned first, last;
  attnc::sim::detail::shuffleSegment(width, first, last);
  unsigned lane = attnc::sim::detail::laneId();
  unsigned src =
      static_cast<int>(lane) - static_cast<int>(delta) < static_cast<int>(first)
          ? lane
          : lane - delta;
  return attnc::sim::detail::fromWord<T>(attnc::sim::detail::shuffle(
      "__shfl_up_sync", mask, attnc::sim::detail::toWord(var), src));
}

inline unsigned __ballot_sync(unsigned mask, int pred) {
  return attnc::sim::detail::ballot("__ballot_sync", mask, pred != 0);
}
inline int __any_sync(unsigned mask, int pred) {
  return attnc::sim::detail::ballot("__any_sync", mask, pred != 0) != 0;
}
inline int __all_sync(unsigned mask, int pred) {
  return attnc::sim::detail::ballot("__all_sync", mask, pred != 0) == mask;
}
inline unsigned __activemask() { return attnc::sim::detail::activeMask(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  attnc::sim::detail::syncWarp(mask);
}

#endif // ATTNC_RUNTIME_SIM_WARPINTRINSICS_H
