//===- ValidateFixtures.h - Valid launches for tests to break -------------===//
#ifndef ATTNC_TESTS_UNIT_RUNTIME_VALIDATEFIXTURES_H
#define ATTNC_TESTS_UNIT_RUNTIME_VALIDATEFIXTURES_H

#include "runtime/core/Validate.h"

#include <cstdint>
#include <vector>

namespace attnc::test {

/// A valid launch with the memory behind it. A test changes one thing and
/// checks the error. Validation reads only the index tensors, so data
/// tensors (q, o, lse, k, v, caches, f32 params) share a dummy pointer.
struct Problem {
  KernelInfo kernel;
  AttentionTensors tensors;
  std::vector<int32_t> qoIndptr, kvIndptr, blockTable, kvLens, prefix, doc;
  std::vector<float> slope, cap;

  Problem() = default;
  Problem(const Problem &) = delete;
  Problem &operator=(const Problem &) = delete;

  /// validateAttentionInputs() with host views of the tensors. Index
  /// tensors are pointed at their vectors again first, since a test may
  /// have assigned new contents.
  Status validate() {
    repoint(tensors.qoIndptr, qoIndptr);
    repoint(tensors.kvIndptr, kvIndptr);
    repoint(tensors.blockTable, blockTable);
    repoint(tensors.kvLens, kvLens);
    return validateAttentionInputs(kernel, tensors, hostIndexDataOf(tensors));
  }

private:
  static void repoint(TensorRef &t, std::vector<int32_t> &values) {
    if (t.data != nullptr)
      t.data = values.data();
  }
};

/// What data tensors point at; never dereferenced. Aligned as the kernel
/// reads every tensor (checkAlignment).
inline void *dummyData() {
  alignas(256) static uint8_t bytes[256];
  return bytes;
}

inline TensorRef tensor(void *data, DType dtype, std::vector<int64_t> shape) {
  TensorRef t;
  t.data = data;
  t.dtype = dtype;
  t.shape = std::move(shape);
  return t;
}

inline TensorRef indexTensor(std::vector<int32_t> &values,
                             std::vector<int64_t> shape) {
  return tensor(values.data(), DType::I32, std::move(shape));
}

/// Params of every kind of dimension: f32[q_heads], i32[batch],
/// i32[batch, ?], a scalar f32.
inline void addParams(Problem &p, int64_t batch) {
  using Param = KernelInfo::Param;
  p.kernel.params = {{"slope", true, {Param::kQHeads}},
                     {"prefix", false, {Param::kBatch}},
                     {"doc", false, {Param::kBatch, Param::kDynamic}},
                     {"cap", true, {}}};
  p.slope.assign(p.kernel.qHeads, 0.5f);
  p.prefix.assign(batch, 1);
  p.doc.assign(batch * 6, 0);
  p.cap.assign(1, 50.0f);
  p.tensors.params["slope"] =
      tensor(p.slope.data(), DType::F32, {p.kernel.qHeads});
  p.tensors.params["prefix"] = indexTensor(p.prefix, {batch});
  p.tensors.params["doc"] = indexTensor(p.doc, {batch, 6});
  p.tensors.params["cap"] = tensor(p.cap.data(), DType::F32, {});
}

/// bf16, 4 query heads over 2 KV heads, head_dim 8, dense KV. Three
/// sequences: q lengths 2, 0, 3 (total 5); KV lengths 4, 1, 0 (total 5).
inline void makeDense(Problem &p) {
  p.kernel.name = "attnc_dense_test";
  p.kernel.qHeads = 4;
  p.kernel.kvHeads = 2;
  p.kernel.headDim = 8;
  p.kernel.bf16 = true;
  p.qoIndptr = {0, 2, 2, 5};
  p.kvIndptr = {0, 4, 5, 5};
  AttentionTensors &t = p.tensors;
  t.q = tensor(dummyData(), DType::BF16, {5, 4, 8});
  t.o = tensor(dummyData(), DType::BF16, {5, 4, 8});
  t.lse = tensor(dummyData(), DType::F32, {5, 4});
  t.qoIndptr = indexTensor(p.qoIndptr, {4});
  t.k = tensor(dummyData(), DType::BF16, {5, 2, 8});
  t.v = tensor(dummyData(), DType::BF16, {5, 2, 8});
  t.kvIndptr = indexTensor(p.kvIndptr, {4});
  addParams(p, 3);
}

/// fp16, 6 query heads over 2 KV heads, head_dim 16, pages of 4 tokens in a
/// pool of 10. Three sequences with KV lengths 5, 0, 8 (2, 0 and 2 pages);
/// table entries past the pages a sequence reads hold garbage on purpose.
inline void makePaged(Problem &p) {
  p.kernel.name = "attnc_paged_test";
  p.kernel.qHeads = 6;
  p.kernel.kvHeads = 2;
  p.kernel.headDim = 16;
  p.kernel.bf16 = false;
  p.kernel.paged = true;
  p.kernel.pageSize = 4;
  p.qoIndptr = {0, 1, 1, 4};
  p.kvLens = {5, 0, 8};
  p.blockTable = {7, 2, 12345, -1, -1, -1, 0, 9, -5};
  AttentionTensors &t = p.tensors;
  t.q = tensor(dummyData(), DType::F16, {4, 6, 16});
  t.o = tensor(dummyData(), DType::F16, {4, 6, 16});
  t.lse = tensor(dummyData(), DType::F32, {4, 6});
  t.qoIndptr = indexTensor(p.qoIndptr, {4});
  t.kCache = tensor(dummyData(), DType::F16, {10, 4, 2, 16});
  t.vCache = tensor(dummyData(), DType::F16, {10, 4, 2, 16});
  t.blockTable = indexTensor(p.blockTable, {3, 3});
  t.kvLens = indexTensor(p.kvLens, {3});
  addParams(p, 3);
}

} // namespace attnc::test

#endif // ATTNC_TESTS_UNIT_RUNTIME_VALIDATEFIXTURES_H
