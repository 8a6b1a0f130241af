//===- attention.h - A compiled spec, callable on tensors -----------------===//
//
// What attnc.compile() returns underneath: a spec checked and lowered once,
// whose kernels are chosen per call with JitKernels::select (tuning
// database, then heuristics) and launched through the runtime after the
// tensors were validated. CPU tensors run on the sim backend, CUDA tensors
// on the cuda backend of their device; each backend gets its own
// JitKernels, created on first use.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_PYTHON_ATTENTION_H
#define ATTNC_PYTHON_ATTENTION_H

#include "arrays.h"
#include "dsl/AST.h"
#include "tune/JitKernels.h"

#include <nanobind/nanobind.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

namespace attnc::python {

/// What compile() was asked for.
struct CompileRequest {
  std::string text;     ///< the DSL source
  std::string name;     ///< how diagnostics name it (a path, or "<string>")
  std::string kernel;   ///< the attention block; empty: the only one
  std::string backend;  ///< "auto", "sim" or "cuda"
  std::string path;     ///< "auto", "prefill", "packed" or "decode"
  std::string tuningDB; ///< empty: none
  std::string cacheDir; ///< empty: the default kernel cache
};

/// The tensors of one call, as Python passed them. Host copies of the
/// index tensors (by their names) and i32 params ("param:NAME") come with
/// CUDA tensors: kernel choice and validation read them on the host.
struct CallArgs {
  TensorArg o, lse, q, qoIndptr;
  nanobind::dict params;
  int numSplits = 0;
  uintptr_t stream = 0;
  nanobind::dict hostIndices;
  std::optional<TensorArg> k, v, kvIndptr;                     // dense
  std::optional<TensorArg> kCache, vCache, blockTable, kvLens; // paged
  /// Cascade attention (Runtime::runCascade) over the paged tensors.
  std::optional<TensorArg> groupIndptr, prefixBlockTable, prefixLens;
};

class CompiledAttention {
public:
  /// Checks and lowers the spec: SpecError with the diagnostics when it
  /// does not check, ValueError for a bad backend or path, RuntimeError
  /// when the backend cannot start.
  static std::unique_ptr<CompiledAttention> compile(const CompileRequest &r);

  /// attnc's description of the spec (Attention.info).
  nanobind::dict info() const;
  /// "sim" or "cuda": the backend compile() chose.
  std::string backend() const { return primary; }
  /// How it was chosen, e.g. "auto: no CUDA device (...); using sim".
  std::string selection() const { return selectionNote; }

  /// Validates the tensors, picks the kernel for their shape and runs it,
  /// writing o and lse; on any error nothing is written. With timedRuns >
  /// 0, then runs Runtime::run that many more times (the kernel chosen
  /// once, as a C++ program would) and returns the mean seconds per run.
  double run(CallArgs &args, int timedRuns = 0);
  /// Cascade attention (args.groupIndptr and the prefix tables set): the
  /// cascade variant for the shape, run by Runtime::runCascade, which
  /// validates everything before it writes o and lse.
  void runCascade(CallArgs &args);

  /// The kernel a call of this shape on `device` ("cpu", "cuda:N") would
  /// use, as a dict (path, block_q, block_kv, stages, warps, splits, tuned,
  /// why); compiles it if needed.
  nanobind::dict kernelFor(int64_t batch, int64_t maxQLen, int64_t maxKVLen,
                           const std::string &device);

private:
  using Pick = std::shared_ptr<const JitKernels::Selection>;
  struct Engine {
    std::shared_ptr<Runtime> runtime;
    std::unique_ptr<JitKernels> jit;
    /// The cascade variants (attn-cascade), created on the first cascade
    /// call.
    std::unique_ptr<JitKernels> cascadeJit;
    /// select()'s answers by exact shape: it is deterministic for a shape
    /// once created (the database is read at creation), so repeated calls
    /// of one shape skip the lookup, the variant copy and the load (and
    /// share the answer instead of copying its strings).
    std::map<std::tuple<int64_t, int64_t, int64_t>, Pick> picks;
  };

  explicit CompiledAttention(CompileRequest request)
      : request(std::move(request)) {}
  /// A call's tensors, every one on q's device (`where`), as the runtime
  /// takes them, with host copies of the index tensors and the engine of
  /// that device; the cascade tables too when `cascade` is given. Imported
  /// arguments that own DLPack capsules stay in `held` for the call.
  Engine &gather(CallArgs &a, Placement &where, AttentionTensors &t,
                 std::vector<TensorArg> &held, HostIndexData &host,
                 CascadeTensors *cascade = nullptr);
  /// The engine for tensors at `where`, created on first use (GIL held).
  Engine &engineFor(const Placement &where);
  /// Creates the engine of `runtime` (its JitKernels).
  Engine &addEngine(const std::string &key, std::shared_ptr<Runtime> runtime);
  /// The memo's answer for this shape, or null (nothing is selected).
  Pick memoized(Engine &engine, int64_t batch, int64_t maxQ, int64_t maxKV);
  /// select() through the memo; call with the GIL released.
  Expected<Pick> pick(Engine &engine, int64_t batch, int64_t maxQ,
                      int64_t maxKV);

  CompileRequest request;
  std::string primary, selectionNote;
  nanobind::dict infoDict;
  bool paged = false;
  /// kv_layout = latent: V, if given, is a strided view of K's columns.
  bool latentKV = false;
  /// The fp8 dtype of the K/V tensors of a spec with an fp8 kv_dtype (a
  /// uint8 K/V tensor is taken as its bytes); nullopt for 16-bit K/V.
  std::optional<DType> kvBytes;
  std::mutex mutex; ///< engines' JitKernels and memos, the last engine
  std::map<std::string, std::unique_ptr<Engine>> engines;
  /// The engine engineFor found last, and for where: most processes call
  /// on one device, and finding it by name costs a string and a lookup.
  Engine *lastEngine = nullptr;
  Placement lastWhere;
};

/// The block of `r`'s spec that `r.kernel` names (the only one when empty):
/// SpecError with the rendered diagnostics when the spec does not check,
/// or when the block is ambiguous or missing.
dsl::AttentionSpec checkSpec(const CompileRequest &r);

/// JitKernels for `r` on `runtime` (with `r`'s block, tuning database and
/// path in `options`): OSError for a tuning database that does not read,
/// SpecError for a spec the compiler refuses.
std::unique_ptr<JitKernels> createJit(Runtime &runtime, const CompileRequest &r,
                                      JitKernels::Options options);

/// Registers compile() and the CompiledAttention class on the module.
void bindAttention(nanobind::module_ &m);

} // namespace attnc::python

#endif // ATTNC_PYTHON_ATTENTION_H
