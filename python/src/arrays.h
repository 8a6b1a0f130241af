//===- arrays.h - Python tensors as the runtime's TensorRefs --------------===//
//
// Tensors arrive through DLPack (nanobind ndarrays: torch tensors, and any
// other DLPack producer) and are handed to the runtime as TensorRefs over
// the same memory: nothing is copied. A tensor the kernels cannot read as
// it is (not contiguous, an unknown dtype) is an error naming it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_PYTHON_ARRAYS_H
#define ATTNC_PYTHON_ARRAYS_H

#include "runtime/core/Tensor.h"
#include "runtime/core/Validate.h"

#include <nanobind/ndarray.h>

#include <optional>
#include <string>

namespace attnc::python {

/// Any DLPack tensor, taken without conversion (so never copied).
using Array = nanobind::ndarray<>;

/// A tensor argument of a call as DLPack describes it, over the memory of
/// the Python object it came from: read through the DLPack C exchange API
/// where the object's type offers one (torch.Tensor's
/// `__dlpack_c_exchange_api__`: a C call, no Python objects made), else
/// imported by nanobind (a DLPack capsule, or an object with __dlpack__).
/// Valid while that object is alive and unchanged: the call's arguments.
class TensorArg {
public:
  TensorArg() = default;
  /// TypeError naming `name` when `object` is no DLPack tensor.
  TensorArg(nanobind::handle object, const char *name);
  const nanobind::dlpack::dltensor &view() const { return dl; }

private:
  nanobind::dlpack::dltensor dl;
  Array imported; ///< a capsule's tensor, owned here; empty for the C API
};

/// Where a tensor lives: the runtime's memory kind, and the CUDA ordinal.
struct Placement {
  MemoryKind memory = MemoryKind::Host;
  int device = 0;
  bool operator==(const Placement &o) const {
    return memory == o.memory &&
           (memory == MemoryKind::Host || device == o.device);
  }
  bool operator!=(const Placement &o) const { return !(*this == o); }
  /// "cpu" or "cuda:N".
  std::string describe() const;
};

/// The runtime's view of `array`, named `name` in errors: TypeError for a
/// dtype other than float16, bfloat16, float8_e4m3fn, float8_e5m2, float32,
/// int32 or int64, ValueError for a tensor that is not contiguous or not in
/// CPU or CUDA memory. With `ownPageStride` (k_cache, v_cache) dimension 0
/// may have any stride, which the result carries for the runtime to check.
/// With `bytesAs` (an fp8 dtype: the K/V tensors of an fp8 kernel) a uint8
/// tensor is taken as that dtype's raw bytes; uint8 is refused otherwise.
/// With `anyStrides` (the V view of a latent K cache) every stride is
/// carried as it is, for the runtime to check against K's.
TensorRef tensorRef(const TensorArg &array, const char *name,
                    bool ownPageStride = false,
                    std::optional<DType> bytesAs = std::nullopt,
                    bool anyStrides = false);
/// `array`'s placement (ValueError as tensorRef).
Placement placementOf(const TensorArg &array, const char *name);

/// A host-readable view of an int32 tensor for validation: `array` must be
/// a CPU tensor (ValueError otherwise). Other dtypes are left empty: the
/// runtime rejects them, naming the tensor.
HostI32 hostI32(const TensorArg &array, const char *name);

} // namespace attnc::python

#endif // ATTNC_PYTHON_ARRAYS_H
