//===- arrays.cpp - Python tensors as the runtime's TensorRefs ------------===//
#include "arrays.h"

namespace nb = nanobind;

namespace attnc::python {

std::string Placement::describe() const {
  return memory == MemoryKind::Host ? "cpu" : "cuda:" + std::to_string(device);
}

Placement placementOf(const Array &array, const std::string &name) {
  switch (array.device_type()) {
  case nb::device::cpu::value:
    return {MemoryKind::Host, 0};
  case nb::device::cuda::value:
    return {MemoryKind::Device, array.device_id()};
  default:
    throw nb::value_error((name +
                           " is in memory attnc cannot use (DLPack "
                           "device type " +
                           std::to_string(array.device_type()) +
                           "); pass a CPU or CUDA tensor")
                              .c_str());
  }
}

/// The runtime's dtype for a DLPack dtype, if it has one.
static std::optional<DType> dtypeOf(nb::dlpack::dtype t) {
  if (t.lanes != 1)
    return std::nullopt;
  auto code = static_cast<nb::dlpack::dtype_code>(t.code);
  if (code == nb::dlpack::dtype_code::Float && t.bits == 16)
    return DType::F16;
  if (code == nb::dlpack::dtype_code::Bfloat && t.bits == 16)
    return DType::BF16;
  if (code == nb::dlpack::dtype_code::Float && t.bits == 32)
    return DType::F32;
  if (code == nb::dlpack::dtype_code::Int && t.bits == 32)
    return DType::I32;
  if (code == nb::dlpack::dtype_code::Int && t.bits == 64)
    return DType::I64;
  return std::nullopt;
}

/// "float64", "uint8", ... as torch and numpy spell them.
static std::string spell(nb::dlpack::dtype t) {
  std::string kind;
  switch (static_cast<nb::dlpack::dtype_code>(t.code)) {
  case nb::dlpack::dtype_code::Int:
    kind = "int";
    break;
  case nb::dlpack::dtype_code::UInt:
    kind = "uint";
    break;
  case nb::dlpack::dtype_code::Float:
    kind = "float";
    break;
  case nb::dlpack::dtype_code::Bfloat:
    kind = "bfloat";
    break;
  case nb::dlpack::dtype_code::Complex:
    kind = "complex";
    break;
  case nb::dlpack::dtype_code::Bool:
    return "bool";
  default:
    kind = "dtype code " + std::to_string(t.code) + " of ";
  }
  return kind + std::to_string(t.bits);
}

TensorRef tensorRef(const Array &array, const std::string &name) {
  TensorRef ref;
  std::optional<DType> dtype = dtypeOf(array.dtype());
  if (!dtype)
    throw nb::type_error((name + " is " + spell(array.dtype()) +
                          "; attnc takes float16 or bfloat16 (q, k, v and the "
                          "caches), float32 and int32 tensors")
                             .c_str());
  ref.dtype = *dtype;
  ref.memory = placementOf(array, name).memory;
  ref.shape.assign(array.shape_ptr(), array.shape_ptr() + array.ndim());
  // Row-major and dense: the kernels index with the shapes alone. Strides
  // of extent-1 dimensions do not matter (torch leaves them arbitrary).
  int64_t expected = 1;
  for (size_t d = array.ndim(); d-- > 0;) {
    if (array.shape(d) != 1 && array.stride(d) != expected)
      throw nb::value_error(
          (name + " is not contiguous; pass " + name +
           ".contiguous() (attnc reads tensors in place and does not copy "
           "them)")
              .c_str());
    expected *= array.shape(d);
  }
  ref.data = const_cast<void *>(array.data());
  return ref;
}

HostI32 hostI32(const Array &array, const std::string &name) {
  if (placementOf(array, name).memory != MemoryKind::Host)
    throw nb::value_error(
        ("the host copy of " + name + " must be a CPU tensor").c_str());
  HostI32 view;
  if (dtypeOf(array.dtype()) == DType::I32) {
    view.data = static_cast<const int32_t *>(array.data());
    view.count = static_cast<int64_t>(array.size());
  }
  return view;
}

} // namespace attnc::python
