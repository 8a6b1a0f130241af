//===- Tensor.cpp - Tensors a kernel launch takes
//--------------------------===//
#include "runtime/core/Tensor.h"

using namespace attnc;

const char *attnc::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::F8E4M3:
    return "e4m3";
  case DType::F8E5M2:
    return "e5m2";
  }
  return "?";
}

size_t attnc::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F8E4M3:
  case DType::F8E5M2:
    return 1;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::I64:
    return 8;
  }
  return 0;
}

int64_t TensorRef::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t TensorRef::stride(size_t d) const {
  if (!strides.empty())
    return strides[d];
  int64_t n = 1;
  for (size_t i = d + 1; i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

bool TensorRef::rowMajor() const {
  if (strides.empty())
    return true;
  if (strides.size() != shape.size())
    return false;
  int64_t expected = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] != 1 && strides[d] != expected)
      return false;
    expected *= shape[d];
  }
  return true;
}

std::string TensorRef::describe() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "] " + dtypeName(dtype);
}
