//===- Runtime.h - Load generated kernels and launch them -----------------===//
//
//   auto rt = attnc::Runtime::create({.backend = "auto"});
//   auto kernel = (*rt)->load(cudaSource, info);     // compiled once, cached
//   Status s = (*rt)->run(*kernel, tensors, stream); // validated, launched
//
// run() is plan() then launch(): a plan holds the checked arguments, grid
// and split count, and launches any number of times without touching the
// host again (decode loops, CUDA graphs, timing loops).
//
// The runtime does not depend on MLIR: it takes the CUDA source and the
// KernelInfo the code generator printed (JIT through attnc's compiler
// library, or ahead of time). Every tensor is checked against the kernel
// before anything is launched; a bad input is an error naming the tensor,
// and nothing is written.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_API_RUNTIME_H
#define ATTNC_RUNTIME_API_RUNTIME_H

#include "runtime/aot/Registry.h"
#include "runtime/api/Backend.h"
#include "runtime/api/BlockMask.h"
#include "runtime/core/Validate.h"
#include "runtime/jit/PackageLocation.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace attnc {

struct RuntimeOptions {
  /// "auto" (cuda when a device is present, else sim), "cuda" or "sim".
  std::string backend = "auto";
  /// Kernel cache directory; empty: $ATTNC_CACHE_DIR, $XDG_CACHE_HOME/attnc
  /// or ~/.cache/attnc.
  std::string cacheDir;
  /// CUDA device ordinal.
  int device = 0;
};

/// A kernel ready to run: what it is and where it is loaded.
struct Kernel {
  KernelInfo info;
  std::shared_ptr<LoadedKernel> loaded;
};

/// A checked launch, ready to enqueue: arguments, grid and split count
/// fixed. It refers to the tensors it was planned with (they must outlive
/// it) and owns its split-KV workspace, so plans may run on different
/// streams at once. It must not outlive the runtime.
struct LaunchPlan {
  Kernel kernel;
  AttnKernelArgs args = {};
  unsigned gridX = 0; ///< programs along x; 0: no query rows, nothing to run
  int numSplits = 1;
  unsigned mergeGridX = 0; ///< split-KV merge programs
  std::shared_ptr<void> workspace;
  /// Kernels with a runtime block mask: the one the kernel reads, given
  /// (AttentionTensors::blockMask) or the plan's own, which launch()
  /// builds first (`buildsBlockMask`).
  std::shared_ptr<const BlockMask> blockMask;
  bool buildsBlockMask = false;
};

/// One step of cascade attention over a paged KV cache
/// (runtime/kvcache/CascadeTables.h builds the tables from the KV manager).
/// Sequences sharing a prefix form groups of consecutive batch entries; the
/// kernel (KernelInfo::qPositions) runs once over each group's shared pages
/// with all of the group's queries, reading them once, and once over each
/// sequence's keys past the shared prefix; the two results merge by LSE
/// into `batch.o` and `batch.lse`, equal to attention over whole sequences.
/// The launches split each group's keys at its shared length rounded down
/// to the kernel's KV tile (KernelInfo::blockKV), so no tile is read by
/// both; a group sharing less than one tile reads everything per sequence.
struct CascadeTensors {
  /// The launch as run() takes it: q, o, lse, qo_indptr, k_cache, v_cache,
  /// block_table and kv_lens of every sequence, the spec's params; neither
  /// q_positions nor the `cascade_kv_start` param (runCascade sets both).
  AttentionTensors batch;
  /// [groups + 1], i32: group g is sequences [group_indptr[g],
  /// group_indptr[g + 1]).
  TensorRef groupIndptr;
  /// [groups, max_prefix_pages], i32: the pages every member of group g
  /// maps first; prefixLens [groups], i32: the shared length in tokens
  /// (at most every member's kv_len; 0 for a group of one).
  TensorRef prefixBlockTable, prefixLens;
};

/// Key rows a cascade step reads, against one launch over whole sequences
/// (per KV head; sim's counters measure the bytes).
struct CascadeReport {
  int64_t prefixRows = 0, suffixRows = 0, plainRows = 0;
};

class Runtime {
public:
  static Expected<std::unique_ptr<Runtime>>
  create(const RuntimeOptions &options);

  Backend &backend() { return *backendImpl; }
  /// How the backend was chosen, e.g. "auto: no CUDA device (...); using sim".
  const std::string &selection() const { return selectionNote; }

  /// Compiles and loads `source`'s kernel; the same source and kernel are
  /// loaded once per runtime (and compiled once per cache directory).
  Expected<Kernel> load(const std::string &source, const KernelInfo &info);

  /// A kernel compiled ahead of time (runtime/aot/Registry.h): the cubin for
  /// the device's architecture on cuda (no NVRTC), the source on sim; a
  /// device with no matching cubin falls back to compiling the source.
  Expected<Kernel> loadAot(const aot::AotKernel &kernel);

  /// Checks `tensors` against the kernel, then launches it. Tensors must be
  /// in the backend's memory (host memory for sim). A split-KV kernel runs
  /// with `numSplits` splits, or (0) as many as fill the device.
  Status run(const Kernel &kernel, const AttentionTensors &tensors,
             void *stream = nullptr, int numSplits = 0);

  /// run()'s checks and launch configuration, without launching. Reads the
  /// index tensors (copied from the device when they live there).
  Expected<LaunchPlan> plan(const Kernel &kernel,
                            const AttentionTensors &tensors, int numSplits = 0);
  /// plan() for an inference engine's decode loop, whose index tensors live
  /// on the device and whose host already knows them: `host` holds the
  /// host-side copies of qo_indptr, kv_indptr or block_table and kv_lens,
  /// and of the i32 params (hostIndexDataOf() builds it from host tensors).
  /// Nothing is copied from the device, so planning never waits for it;
  /// the copies are validated exactly as plan() validates what it copies.
  Expected<LaunchPlan> plan(const Kernel &kernel,
                            const AttentionTensors &tensors,
                            const HostIndexData &host, int numSplits = 0);
  /// Enqueues `plan` on `stream`: no validation, no host copies.
  Status launch(const LaunchPlan &plan, void *stream = nullptr);
  /// Builds the block mask of a kernel that has one (KernelInfo::
  /// hasBlockMask) for `tensors`' sequence lengths and parameters, on
  /// `stream`; pass it as AttentionTensors::blockMask to reuse it. Every
  /// tensor is validated as for run().
  Expected<std::shared_ptr<const BlockMask>>
  buildBlockMask(const Kernel &kernel, const AttentionTensors &tensors,
                 void *stream = nullptr);
  /// Block masks built so far by plans and runs that had none given
  /// (run() reuses one while the lengths and mask params stay the same).
  int64_t blockMaskBuilds() const { return blockMaskBuildCount.load(); }
  /// Cascade attention (see CascadeTensors) with a cascade kernel: checks
  /// the groups against the batch (every member of a group maps the group's
  /// prefix pages and holds at least its length), runs the prefix launch,
  /// the suffix launch and the merge on `stream`, and waits for them (the
  /// temporaries are released). `numSplits` as for run(), per launch.
  Status runCascade(const Kernel &kernel, const CascadeTensors &tensors,
                    void *stream = nullptr, int numSplits = 0,
                    CascadeReport *report = nullptr);
  /// Host copies of a block mask's counts and entries (BlockMask's layout).
  Status readBlockMask(const BlockMask &mask, std::vector<int32_t> &counts,
                       std::vector<int32_t> &tiles);

  /// The split count run() picks for a split-KV kernel: enough programs to
  /// give every multiprocessor two, at most 16 and at most one per KV tile.
  static int chooseSplits(const KernelInfo &info, int64_t programs,
                          int64_t maxKVLen, int multiprocessors);

  ~Runtime();

private:
  Runtime(std::unique_ptr<Backend> backend, std::string note)
      : backendImpl(std::move(backend)), selectionNote(std::move(note)) {}

  std::unique_ptr<Backend> backendImpl;
  std::string selectionNote;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<LoadedKernel>> loaded;
  using WorkspaceFn =
      std::function<Expected<std::shared_ptr<void>>(size_t bytes)>;
  /// run()'s block masks on one stream: the latest built for each kernel,
  /// reused by a run with the same lengths and mask params.
  struct MaskCache {
    std::vector<std::shared_ptr<BlockMask>> masks;
    std::shared_ptr<BlockMask> find(const BlockMask &wanted) const;
    void keep(std::shared_ptr<BlockMask> mask);
  };
  /// `given`: the caller's host copies of the index tensors; null: read
  /// (copied from the device when there) here. `forMaskBuild`: the plan is
  /// for Runtime::buildBlockMask (its mask is kept, so its params are
  /// hashed). `maskCache`: run()'s kept masks on the launch's stream.
  Expected<LaunchPlan> planWith(const Kernel &kernel,
                                const AttentionTensors &tensors, int numSplits,
                                const WorkspaceFn &workspaceFor,
                                const HostIndexData *given = nullptr,
                                bool forMaskBuild = false,
                                MaskCache *maskCache = nullptr);
  Expected<std::shared_ptr<void>> allocateWorkspace(size_t bytes);
  /// What a block mask for this launch must have been built for (no
  /// storage).
  static void describeBlockMask(const Kernel &kernel, const HostIndexData &host,
                                unsigned qTiles, int64_t maxKVLen,
                                bool hashParams, BlockMask &mask);
  /// Whether `given` fits a launch that needs `wanted`; an error saying
  /// why not.
  static Status checkBlockMask(const BlockMask &given, const BlockMask &wanted);

  /// run()'s split-KV partial results, one buffer per stream, grown as
  /// needed.
  struct Workspace {
    std::shared_ptr<void> buffer;
    size_t bytes = 0;
    MaskCache masks;
  };
  std::atomic<int64_t> blockMaskBuildCount{0};
  std::map<void *, Workspace> streamWorkspaces;
};

} // namespace attnc

#endif // ATTNC_RUNTIME_API_RUNTIME_H
