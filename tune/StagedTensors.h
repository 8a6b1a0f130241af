//===- StagedTensors.h - Interpreter inputs as a launch's tensors ---------===//
//
// Copies the interpreter's AttentionInputs (doubles, already rounded to the
// kernel's dtype) into a backend's memory in the kernel's element types, with
// O and LSE pre-filled with NaN so any element a kernel fails to write shows;
// and copies O and LSE back. Used by `attnc run` and the kernel tests, so
// both launch through the same Runtime::run (validation included).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TUNE_STAGEDTENSORS_H
#define ATTNC_TUNE_STAGEDTENSORS_H

#include "interp/Interpreter.h"
#include "runtime/api/Backend.h"

#include <vector>

namespace attnc {

class StagedTensors {
public:
  StagedTensors(Backend &backend, const KernelInfo &info)
      : backend(backend), info(info) {}
  ~StagedTensors();
  StagedTensors(const StagedTensors &) = delete;
  StagedTensors &operator=(const StagedTensors &) = delete;

  /// Allocates and fills `out` from `in`.
  Status stage(const AttentionInputs &in, AttentionTensors &out);
  /// O (converted to f32) and LSE copied back to the host.
  Status fetch(const AttentionTensors &t, std::vector<float> &o,
               std::vector<float> &lse);
  /// The same, as the interpreter's outputs (to compare with its result).
  Status fetch(const AttentionTensors &t, AttentionOutputs &out);
  /// Allocates `bytes` named `name`, fills it from `data` and describes it
  /// in `ref`; released with this object.
  Status put(const char *name, const void *data, size_t bytes, DType dtype,
             std::vector<int64_t> shape, MemoryKind kind, TensorRef &ref);

private:
  Backend &backend;
  const KernelInfo &info;
  std::vector<void *> allocations;
};

} // namespace attnc

#endif // ATTNC_TUNE_STAGEDTENSORS_H
