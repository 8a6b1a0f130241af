//===- ReferenceCheck.h - fp16 kernel outputs against the AST reference ---===//
//
// Runtime tests launch kernels on host tensors of fp16 bits; these helpers
// hand the same tensors to the float64 AST reference (reference/) and check
// every output element against it, so a test fails on a wrong value, not
// only on a non-finite one.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_API_REFERENCECHECK_H
#define ATTNC_TESTS_UNIT_API_REFERENCECHECK_H

#include "dsl/Frontend.h"
#include "reference/AstReference.h"
#include "runtime/core/Tensor.h"
#include "runtime/sim/HalfTypes.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace attnc::test {

/// A host tensor of `shape` at `data`.
inline TensorRef hostRef(void *data, DType dtype, std::vector<int64_t> shape) {
  TensorRef r;
  r.data = data;
  r.dtype = dtype;
  r.shape = std::move(shape);
  return r;
}

/// fp16 bits as the reference's float64 tensor (the conversion is exact).
inline HostTensor halfTensor(const std::vector<uint16_t> &bits,
                             std::vector<int64_t> shape) {
  std::vector<double> values;
  values.reserve(bits.size());
  for (uint16_t b : bits)
    values.push_back(sim::halfBitsToFloat(b));
  return HostTensor::floats(std::move(shape), std::move(values));
}

/// Checks O (fp16 bits, [total_q, q_heads, head_dim]) and LSE against the
/// float64 AST reference of the spec `specText` on `inputs`, element by
/// element: |o - ref| <= 1e-2 (inputs in [-1, 1], fp16 P and O roundings)
/// and |lse - ref| <= 1e-3; a row the reference leaves empty must have
/// O = 0 and LSE = -inf.
inline void checkAgainstReference(const std::string &specText,
                                  const AttentionInputs &inputs,
                                  const std::vector<uint16_t> &o,
                                  const std::vector<float> &lse) {
  std::string error;
  std::optional<dsl::Module> module =
      dsl::parseAndCheckText("reference.attn", specText, error);
  INFO(error);
  REQUIRE(module);
  std::optional<AttentionOutputs> expected =
      astReference(module->specs.front(), inputs, error);
  INFO(error);
  REQUIRE(expected);
  REQUIRE(expected->o.size() == o.size());
  REQUIRE(expected->lse.size() == lse.size());
  for (size_t i = 0; i < o.size(); ++i) {
    double actual = sim::halfBitsToFloat(o[i]);
    INFO("o[" << i << "] = " << actual << ", reference " << expected->o[i]);
    REQUIRE(std::abs(actual - expected->o[i]) <= 1e-2);
  }
  for (size_t i = 0; i < lse.size(); ++i) {
    INFO("lse[" << i << "] = " << lse[i] << ", reference " << expected->lse[i]);
    if (std::isinf(expected->lse[i]))
      REQUIRE(lse[i] == expected->lse[i]);
    else
      REQUIRE(std::abs(lse[i] - expected->lse[i]) <= 1e-3);
  }
}

} // namespace attnc::test

#endif // ATTNC_TESTS_UNIT_API_REFERENCECHECK_H
