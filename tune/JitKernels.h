//===- JitKernels.h - A spec's kernels, compiled and chosen per shape -----===//
//
// The JIT way of using attnc from C++: give it a spec, ask for the kernel
// for a problem shape, run it.
//
//   auto jit = attnc::JitKernels::create(*runtime, "llama.attn", text, {});
//   auto pick = (*jit)->select(batch, maxQLen, maxKVLen);
//   runtime->run(pick->kernel, tensors, stream, pick->numSplits);
//
// select() looks the shape up in the tuning database (what `attnc tune`
// measured on this device for this spec) and otherwise falls back to the
// heuristics: the decode variant (GQA heads packed, split-KV) when each
// sequence's packed query rows fit one tile, else the prefill variant; tile
// sizes by head_dim; the split count left to the runtime. Variants are
// lowered once per configuration and loaded through the runtime's kernel
// cache.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TUNE_JITKERNELS_H
#define ATTNC_TUNE_JITKERNELS_H

#include "runtime/api/Runtime.h"
#include "tune/TuningDB.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

namespace mlir {
class MLIRContext;
}

namespace attnc {

namespace dsl {
struct Module;
}

/// The compiled paths: "prefill" (one program per query head and query
/// tile), "packed" (the query heads of a KV head packed into the tile rows,
/// attn-pack-gqa: K/V read once per KV head) and "decode" (packed, and the
/// KV loop split across programs with a merge, attn-split-kv).
bool isKernelPath(const std::string &path);

/// A split count for people: "auto" (0: the runtime chooses) or the count.
std::string splitsLabel(int splits);

/// What fixes a compiled variant.
struct KernelConfig {
  std::string path = "prefill"; ///< isKernelPath
  int blockQ = 0, blockKV = 0;  ///< 0: by head_dim
  int stages = 2;               ///< K tiles in flight (2: attn-prefetch-kv)
  int warps = 0;                ///< per CTA (0: one per 16 rows of blockQ)
  bool operator<(const KernelConfig &o) const {
    return std::tie(path, blockQ, blockKV, stages, warps) <
           std::tie(o.path, o.blockQ, o.blockKV, o.stages, o.warps);
  }
  /// "decode 64x32 stages 1", with " warps 2" when not one per 16 rows.
  std::string describe() const;
};

/// A variant printed as CUDA.
struct CompiledVariant {
  std::string cuda;
  KernelInfo info;
};

class JitKernels {
public:
  struct Options {
    std::string kernel;   ///< the attention block; empty: the only one
    std::string tuningDB; ///< the tuning database file; empty: none
    /// "auto", or a path (isKernelPath) to force (a tuned entry for another
    /// path is then ignored).
    std::string path = "auto";
    int blockQ = 0, blockKV = 0; ///< heuristic tile sizes (0: by head_dim)
    /// Which masks iterate over a runtime block mask (PipelineOptions::
    /// blockMask): auto, always, never.
    std::string blockMask = "auto";
    /// Autotuning (see withAutotuning in tune/Tuner.h): called by select()
    /// on path "auto" when the database has no entry for the shape's
    /// bucket; the configuration it returns is stored (and saved to
    /// `tuningDB` when set) and used.
    std::function<Expected<TunedConfig>(JitKernels &, int64_t batch,
                                        int64_t maxQLen, int64_t maxKVLen)>
        tuneOnMiss;
    /// Compile every variant for cascade attention (attn-cascade; run with
    /// Runtime::runCascade).
    bool cascade = false;
    /// A synchronization to remove from the selected kernel's source before
    /// it is loaded (tune/SimFault.h: "drop-barrier:N", "drop-wait:N");
    /// sim backend only.
    std::string simFault;
  };

  /// Parses and checks `specText` (named `specName` in messages): an error
  /// with the rendered diagnostics when it does not check, when it names
  /// no such block, or when the tuning database is malformed.
  static Expected<std::unique_ptr<JitKernels>>
  create(Runtime &runtime, const std::string &specName,
         const std::string &specText, const Options &options);
  ~JitKernels();

  struct Selection {
    Kernel kernel;
    KernelConfig config;
    int numSplits = 0;  ///< for Runtime::run (0: the runtime chooses)
    bool tuned = false; ///< from the tuning database
    std::string why;    ///< one line for people
  };
  /// The kernel for a batch of `batch` sequences whose longest has
  /// `maxQLen` queries over `maxKVLen` keys, compiled and loaded.
  Expected<Selection> select(int64_t batch, int64_t maxQLen, int64_t maxKVLen);

  /// Lowers the spec with `config` (once per config) and prints it.
  Expected<CompiledVariant> variant(const KernelConfig &config);

  /// The spec's KernelInfo as the prefill variant prints it: tensors,
  /// dtype, heads and params (the same for every variant).
  const KernelInfo &info() const { return baseInfo; }
  /// The tuning database key of this spec and block.
  const std::string &fingerprint() const { return specKey; }
  /// The checked spec, one block (for callers that build IR from it).
  const dsl::Module &module() const { return *spec; }
  Runtime &runtimeRef() { return runtime; }

private:
  explicit JitKernels(Runtime &runtime);

  Runtime &runtime;
  Options options;
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<dsl::Module> spec;
  std::string specKey;
  std::optional<TuningDB> db;
  KernelInfo baseInfo;
  std::map<KernelConfig, CompiledVariant> variants;
};

} // namespace attnc

#endif // ATTNC_TUNE_JITKERNELS_H
