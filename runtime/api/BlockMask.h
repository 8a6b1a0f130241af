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
// A plan checks that a given mask was built by the same loaded kernel, for
// the same sequence lengths and the same values of the i32 params the mask
// reads (by a hash of their contents); f32 params are not checked, so a
// mask that reads one must be built again when it changes. Without one,
// Runtime::run builds its own first, and keeps it for the next run of the
// same kernel on the same stream, reused while the lengths and the mask's
// params are the same (when those params are all i32 and at most
// kMaxCachedMaskParamElements elements: hashing costs a pass over them).
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

/// The largest total size of a mask's params for which Runtime::run keeps
/// the mask it built for the next run.
inline constexpr int64_t kMaxCachedMaskParamElements = int64_t(1) << 20;

struct BlockMask {
  /// The kernel whose pre-pass built it (its spec and tiling).
  const LoadedKernel *builtBy = nullptr;
  std::string kernelName;
  /// Lists per sequence (the kernel's blockMaskHeads), query tiles and KV
  /// tiles per list (the longest sequences').
  int batch = 0, heads = 0, qTiles = 0, kvTiles = 0;
  /// Sequence lengths and the hashes of the i32 params the mask reads it
  /// was built for; `paramsKnown`: every param the mask reads was hashed
  /// (none is f32 or out of the host's reach).
  std::vector<int32_t> qLens, kvLens;
  std::map<std::string, uint64_t> paramHashes;
  bool paramsKnown = false;
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
