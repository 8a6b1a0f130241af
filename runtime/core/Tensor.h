//===- Tensor.h - Tensors a kernel launch takes
//----------------------------===//
//
// The runtime does not own tensors: a TensorRef points at memory the caller
// owns (host memory, or device memory on the cuda backend) and says what it
// holds. AttentionTensors is DESIGN's tensor contract as one struct.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CORE_TENSOR_H
#define ATTNC_RUNTIME_CORE_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnc {

/// F8E4M3 (e4m3fn) and F8E5M2: the bytes of an fp8 K/V cache.
enum class DType { F16, BF16, F32, I32, I64, F8E4M3, F8E5M2 };

/// "f16", "bf16", "f32", "i32", "i64", "e4m3", "e5m2".
const char *dtypeName(DType dtype);
/// Bytes per element.
size_t dtypeSize(DType dtype);

enum class MemoryKind { Host, Device };

struct TensorRef {
  void *data = nullptr;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  MemoryKind memory = MemoryKind::Host;
  /// Element strides, one per dimension; empty means row-major and dense.
  /// Only the page dimension of k_cache and v_cache may have its own
  /// stride (K and V in one tensor, a layer dimension inside the pages):
  /// validateAttentionInputs() refuses other layouts.
  std::vector<int64_t> strides;

  /// True when no tensor was given (null data and no shape).
  bool absent() const { return data == nullptr && shape.empty(); }
  int64_t numElements() const;
  /// The stride of dimension d in elements: strides[d], or the row-major
  /// one where no strides are given.
  int64_t stride(size_t d) const;
  /// Whether the elements are row-major and dense (strides of extent-1
  /// dimensions do not matter).
  bool rowMajor() const;
  size_t bytes() const {
    return static_cast<size_t>(numElements()) * dtypeSize(dtype);
  }
  /// "[3, 8, 128] bf16".
  std::string describe() const;
};

/// The tensors of one attention launch (DESIGN.md, "Tensor contract").
struct BlockMask; // runtime/api/BlockMask.h

struct AttentionTensors {
  TensorRef q;        ///< [total_q, q_heads, head_dim], the kernel's dtype
  TensorRef o;        ///< [total_q, q_heads, head_dim], the kernel's dtype
  TensorRef lse;      ///< [total_q, q_heads], f32 (natural log)
  TensorRef qoIndptr; ///< [batch + 1], i32
  // Dense KV.
  TensorRef k, v;     ///< [total_kv, kv_heads, head_dim], the KV dtype
  TensorRef kvIndptr; ///< [batch + 1], i32
  // Paged KV.
  TensorRef kCache, vCache; ///< [num_pages, page_size, kv_heads, head_dim]
  TensorRef blockTable;     ///< [batch, max_pages], i32
  TensorRef kvLens;         ///< [batch], i32
  /// One per `param` of the spec, by name: f32 or i32.
  std::map<std::string, TensorRef> params;
  /// Cascade kernels (KernelInfo::qPositions) only: each query row's
  /// position, [total_q], i32.
  TensorRef qPositions;
  /// Kernels with a runtime block mask: one built earlier for these lengths
  /// and parameters (runtime/api/BlockMask.h); null: each run builds its
  /// own.
  const BlockMask *blockMask = nullptr;
};

} // namespace attnc

#endif // ATTNC_RUNTIME_CORE_TENSOR_H
