//===- KernelInfo.h - What a launcher needs to know about a kernel --------===//
//
// Produced by the code generator next to the CUDA source, consumed by the
// runtime (which never links the compiler): grid and block shape, shared
// memory, the tensor contract the kernel was specialised for.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CORE_KERNELINFO_H
#define ATTNC_RUNTIME_CORE_KERNELINFO_H

#include <string>
#include <vector>

namespace attnc {

/// The split-KV merge kernel's geometry: blocks of kMergeThreads threads,
/// one warp per (query row, head) slot.
inline constexpr int kMergeThreads = 128;
inline constexpr int kMergeSlotsPerBlock = kMergeThreads / 32;
/// A kernel's minimum CTAs per SM in its __launch_bounds__ is the macro
/// kMinCtasMacroPrefix + its name: 0 (ptxas chooses) unless the NVRTC
/// driver defines it (runtime/jit/Nvrtc.cpp).
inline constexpr const char kMinCtasMacroPrefix[] = "ATTNC_MIN_CTAS_";
/// The i32 [batch] parameter attn-cascade adds: the first key each batch
/// entry attends to; negative in cascade's prefix launch, which then leaves
/// an attention sink to the suffix launch.
inline constexpr const char kCascadeKVStartParam[] = "cascade_kv_start";
/// Threads per block of the block-mask pre-pass.
inline constexpr int kBlockMaskThreads = 128;

struct KernelInfo {
  std::string name;     ///< the __global__ function, e.g. attnc_llama
  std::string specName; ///< the attention block's name
  int threads = 0;      ///< per block: 32 per 16 query rows
  int sharedBytes = 0;  ///< dynamic shared memory per block
  int blockQ = 0;  ///< query rows per block (grid.x = ceil(max_q_len / blockQ))
  int blockKV = 0; ///< KV rows per loop iteration
  int qHeads = 0, kvHeads = 0, headDim = 0; ///< grid.y = qHeads, grid.z = batch
  /// Columns of V and O (v_head_dim); 0 means headDim.
  int vHeadDim = 0;
  int valueHeadDim() const { return vHeadDim ? vHeadDim : headDim; }
  /// kv_layout = latent: no V tensor (v / v_cache absent); the kernel reads
  /// V as the first valueHeadDim() columns of K's rows.
  bool latentKV = false;
  bool bf16 = false; ///< element type: bf16, else fp16
  /// How K and V (dense or paged) are stored: in the element type above,
  /// or as fp8 bytes the kernel widens to it on load.
  enum class KVFormat { Native, E4M3, E5M2 };
  KVFormat kvFormat = KVFormat::Native;
  bool kvFp8() const { return kvFormat != KVFormat::Native; }
  bool paged = false;
  int pageSize = 0;
  /// Query heads packed into each tile's rows (1: one program per query
  /// head). Packed, a program covers gqaPack query heads (a divisor of the
  /// group, all of them sharing one KV head) and blockQ / gqaPack query rows.
  int gqaPack = 1;
  /// Split-KV: the grid's x runs over (query tile, split), the kernel
  /// writes partial results to the workspace, and `mergeName` (128 threads
  /// per block, one (query row, head) per thread) combines them.
  bool splitKV = false;
  std::string mergeName;
  /// One launch of cascade attention (attn-cascade): each query row's
  /// position comes from the q_positions tensor, and the i32 [batch] param
  /// `cascade_kv_start` masks the keys before it; `cascadeMergeName` (as
  /// the split merge: 128 threads, one warp per (query row, head)) merges
  /// a prefix launch's (O, LSE) into a suffix launch's.
  bool qPositions = false;
  std::string cascadeMergeName;
  /// A runtime block mask (runtime/device/block_mask.cuh): `blockMaskName`
  /// (128 threads, grid (query tiles, blockMaskHeads, batch)) lists each
  /// query tile's visible KV tiles before the kernel runs; blockMaskHeads
  /// is gridHeads() when the mask reads the head, else 1. Empty: none.
  std::string blockMaskName;
  int blockMaskHeads = 0;
  /// The params the block mask's region reads: a mask built for some
  /// values of them fits a launch with the same values.
  std::vector<std::string> blockMaskParams;
  bool hasBlockMask() const { return !blockMaskName.empty(); }

  /// grid.y: query heads, or groups of gqaPack of them when packed.
  int gridHeads() const { return qHeads / gqaPack; }
  /// Query rows per program: grid.x = ceil(max_q_len / queryRowsPerBlock()).
  int queryRowsPerBlock() const { return blockQ / gqaPack; }
  /// A runtime parameter: its name, element type and dimensions, encoded as
  /// in attn.param: a positive extent, or kDynamic / kBatch / kQHeads /
  /// kKVHeads.
  struct Param {
    enum : long long {
      kDynamic = -1,
      kBatch = -2,
      kQHeads = -3,
      kKVHeads = -4
    };
    std::string name;
    bool isFloat = true; ///< f32, else i32
    std::vector<long long> dims;
  };
  /// In AttnKernelArgs::params order.
  std::vector<Param> params;
};

/// Whether the decode variant `decode` (packed heads, split-KV) should run a
/// batch whose longest sequence has `maxQLen` queries: when each sequence's
/// packed rows fit one query tile, the prefill kernel would leave most of
/// its tile rows empty and too few programs to fill the GPU.
inline bool prefersDecodePath(const KernelInfo &decode, long long maxQLen) {
  return maxQLen * decode.gqaPack <= decode.blockQ;
}

} // namespace attnc

#endif // ATTNC_RUNTIME_CORE_KERNELINFO_H
