//===- arrays.cpp - Python tensors as the runtime's TensorRefs ------------===//
#include "arrays.h"

#include <unordered_map>

namespace nb = nanobind;

namespace attnc::python {

namespace {

/// DLPackExchangeAPI of dlpack.h (DLPack 1.x), in that header's layout:
/// the stable header, then the producer's function pointers, of which only
/// the DLTensor view is used here.
struct ExchangeAPI {
  uint32_t major, minor; // header.version
  const void *prevAPI;
  const void *managedTensorAllocator;
  const void *managedTensorFromPyObject;
  const void *managedTensorToPyObject;
  int (*dltensorFromPyObject)(void *object, nb::dlpack::dltensor *out);
  const void *currentWorkStream;
};

/// The exchange API of objects of `type` when it has a DLTensor view, else
/// null. Looked up once per type for the first few types (each kept alive,
/// so that its address is not reused); the GIL guards the cache.
const ExchangeAPI *exchangeAPI(PyTypeObject *type) {
  static std::unordered_map<PyTypeObject *, const ExchangeAPI *> known;
  if (auto found = known.find(type); found != known.end())
    return found->second;
  const ExchangeAPI *api = nullptr;
  if (PyObject *capsule = PyObject_GetAttrString(
          reinterpret_cast<PyObject *>(type), "__dlpack_c_exchange_api__")) {
    api = static_cast<const ExchangeAPI *>(
        PyCapsule_GetPointer(capsule, "dlpack_exchange_api"));
    Py_DECREF(capsule);
  }
  PyErr_Clear();
  if (api && (api->major != 1 || !api->dltensorFromPyObject))
    api = nullptr;
  if (known.size() < 16) {
    Py_INCREF(type);
    known.emplace(type, api);
  }
  return api;
}

} // namespace

TensorArg::TensorArg(nb::handle object, const char *name) {
  if (const ExchangeAPI *api = exchangeAPI(Py_TYPE(object.ptr()))) {
    if (api->dltensorFromPyObject(object.ptr(), &dl) != 0)
      throw nb::python_error();
    return;
  }
  if (!nb::try_cast(object, imported))
    throw nb::type_error((std::string(name) + " must be a tensor, not " +
                          Py_TYPE(object.ptr())->tp_name)
                             .c_str());
  dl.data = imported.data();
  dl.device = {imported.device_type(), imported.device_id()};
  dl.ndim = static_cast<int32_t>(imported.ndim());
  dl.dtype = imported.dtype();
  dl.shape = const_cast<int64_t *>(imported.shape_ptr());
  dl.strides = const_cast<int64_t *>(imported.stride_ptr());
}

std::string Placement::describe() const {
  return memory == MemoryKind::Host ? "cpu" : "cuda:" + std::to_string(device);
}

Placement placementOf(const TensorArg &array, const char *name) {
  const nb::dlpack::dltensor &t = array.view();
  switch (t.device.device_type) {
  case nb::device::cpu::value:
    return {MemoryKind::Host, 0};
  case nb::device::cuda::value:
    return {MemoryKind::Device, t.device.device_id};
  default:
    throw nb::value_error((std::string(name) +
                           " is in memory attnc cannot use (DLPack "
                           "device type " +
                           std::to_string(t.device.device_type) +
                           "); pass a CPU or CUDA tensor")
                              .c_str());
  }
}

/// DLPack's kDLFloat8_e4m3fn and kDLFloat8_e5m2 (torch.float8_e4m3fn,
/// torch.float8_e5m2), by number: older nanobind releases have no
/// dtype_code names for them.
constexpr uint8_t kDLFloat8E4M3FN = 10;
constexpr uint8_t kDLFloat8E5M2 = 12;

/// Whether `t` is uint8: the raw bytes of an fp8 K/V cache (vLLM keeps its
/// fp8 cache as uint8), taken as such only where the kernel reads fp8.
static bool isBytes(nb::dlpack::dtype t) {
  return t.lanes == 1 && t.bits == 8 &&
         t.code == static_cast<uint8_t>(nb::dlpack::dtype_code::UInt);
}

/// The runtime's dtype for a DLPack dtype, if it has one.
static std::optional<DType> dtypeOf(nb::dlpack::dtype t) {
  if (t.lanes != 1)
    return std::nullopt;
  if (t.code == kDLFloat8E4M3FN && t.bits == 8)
    return DType::F8E4M3;
  if (t.code == kDLFloat8E5M2 && t.bits == 8)
    return DType::F8E5M2;
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
  if (t.code == kDLFloat8E4M3FN && t.bits == 8)
    return "float8_e4m3fn";
  if (t.code == kDLFloat8E5M2 && t.bits == 8)
    return "float8_e5m2";
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

TensorRef tensorRef(const TensorArg &array, const char *name,
                    bool ownPageStride, std::optional<DType> bytesAs,
                    bool anyStrides) {
  const nb::dlpack::dltensor &t = array.view();
  TensorRef ref;
  std::optional<DType> dtype =
      bytesAs && isBytes(t.dtype) ? bytesAs : dtypeOf(t.dtype);
  if (!dtype)
    throw nb::type_error(
        (std::string(name) + " is " + spell(t.dtype) +
         "; attnc takes float16 or bfloat16 (q, o and 16-bit K/V), "
         "float8_e4m3fn or float8_e5m2 (the K/V of a spec with an fp8 "
         "kv_dtype, also as their uint8 bytes), float32 and int32 tensors")
            .c_str());
  ref.dtype = *dtype;
  ref.memory = placementOf(array, name).memory;
  ref.shape.assign(t.shape, t.shape + t.ndim);
  // Row-major and dense: the kernels index with the shapes alone. Strides
  // of extent-1 dimensions do not matter (torch leaves them arbitrary);
  // none at all means row-major (DLPack before 1.2). A cache's pages may
  // lie further apart (k_cache = kv[:, 0] of a [pages, 2, ...] tensor);
  // the runtime checks that stride against its page size.
  int64_t expected = 1;
  for (int32_t d = t.ndim; t.strides && !anyStrides && d-- > 0;) {
    bool free = ownPageStride && d == 0;
    if (!free && t.shape[d] != 1 && t.strides[d] != expected)
      throw nb::value_error(
          (std::string(name) + " is not contiguous" +
           (ownPageStride ? " within a page" : "") + "; pass " + name +
           ".contiguous() (attnc reads tensors in place and does not copy "
           "them)")
              .c_str());
    expected *= t.shape[d];
  }
  if ((ownPageStride || anyStrides) && t.strides && t.ndim > 0)
    ref.strides.assign(t.strides, t.strides + t.ndim);
  ref.data = static_cast<char *>(t.data) + t.byte_offset;
  return ref;
}

HostI32 hostI32(const TensorArg &array, const char *name) {
  if (placementOf(array, name).memory != MemoryKind::Host)
    throw nb::value_error(
        (std::string("the host copy of ") + name + " must be a CPU tensor")
            .c_str());
  const nb::dlpack::dltensor &t = array.view();
  HostI32 view;
  if (dtypeOf(t.dtype) == DType::I32) {
    view.data = reinterpret_cast<const int32_t *>(
        static_cast<const char *>(t.data) + t.byte_offset);
    view.count = 1;
    for (int32_t d = 0; d < t.ndim; ++d)
      view.count *= t.shape[d];
  }
  return view;
}

} // namespace attnc::python
