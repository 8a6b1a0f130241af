//===- BlockMask.h - A runtime block mask, built once, reused -------------===//
//
// A kernel whose mask the compiler cannot bound statically (KernelInfo::
// hasBlockMask) iterates over a block mask: per (sequence, mask head, query
// tile), the KV tiles holding a visible element, each marked full or
// partial. Its pre-pass kernel builds it from the mask, the sequence
// lengths and the parameters only, never from Q, K or V, so one build
// serves every layer that shares them:
//
//   auto mask = (*rt)->buildBlockMask(kernel, tensors);   // once
//   tensors.blockMask = mask->get();                      // every layer
//   rt->run(kernel, tensors);
//
// Without one, each run builds its own first. A plan checks that a given
// mask was built by the same loaded kernel, for the same sequence lengths
// and the same i32 parameter values (by a hash of their contents); f32
// parameters are not checked, so a mask that reads one must be built again
// when it changes.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_API_BLOCKMASK_H
#define ATTNC_RUNTIME_API_BLOCKMASK_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attnc {

class LoadedKernel;

struct BlockMask {
  /// The kernel whose pre-pass built it (its spec and tiling).
  const LoadedKernel *builtBy = nullptr;
  std::string kernelName;
  /// Lists per sequence (the kernel's blockMaskHeads), query tiles and KV
  /// tiles per list (the longest sequences').
  int batch = 0, heads = 0, qTiles = 0, kvTiles = 0;
  /// Sequence lengths and i32 parameter hashes it was built for.
  std::vector<int32_t> qLens, kvLens;
  std::map<std::string, uint64_t> paramHashes;
  /// In the backend's memory: counts [batch, heads, qTiles] and tiles
  /// [batch, heads, qTiles, kvTiles], each entry tile * 2 + full.
  std::shared_ptr<void> storage;
  int *counts = nullptr;
  int *tiles = nullptr;

  size_t countElements() const {
    return static_cast<size_t>(batch) * heads * qTiles;
  }
  size_t tileElements() const { return countElements() * kvTiles; }
};

} // namespace attnc

#endif // ATTNC_RUNTIME_API_BLOCKMASK_H
