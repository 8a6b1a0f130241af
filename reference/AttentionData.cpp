//===- AttentionData.cpp - Host tensors of one attention launch -----------===//
#include "reference/AttentionData.h"

using namespace attnc;

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

HostTensor HostTensor::floats(std::vector<int64_t> shape,
                              std::vector<double> values) {
  HostTensor t;
  t.shape = std::move(shape);
  t.f = std::move(values);
  return t;
}

HostTensor HostTensor::ints(std::vector<int64_t> shape,
                            std::vector<int32_t> values) {
  HostTensor t;
  t.shape = std::move(shape);
  t.i = std::move(values);
  t.isInt = true;
  return t;
}

int64_t AttentionInputs::batch() const {
  return qoIndptr.empty() ? 0 : static_cast<int64_t>(qoIndptr.size()) - 1;
}
