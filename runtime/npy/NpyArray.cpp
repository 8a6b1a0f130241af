//===- NpyArray.cpp - Element types and conversions of .npy arrays --------===//

#include "runtime/npy/Npy.h"
#include "runtime/npy/NpyHeader.h"

#include <cmath>
#include <cstring>

using namespace attnc;

namespace {

/// The IEEE binary16 value with bits `h`, exactly (every f16 is an f32).
float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    std::memcpy(&bits, &magnitude, sizeof(bits));
    bits |= sign;
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

template <typename T>
T loadElement(const std::vector<uint8_t> &bytes, int64_t i) {
  T value;
  std::memcpy(&value, bytes.data() + static_cast<size_t>(i) * sizeof(T),
              sizeof(T));
  return value;
}

/// "element 5 (index [1, 2])": where a flat index lies in `shape`.
std::string describeIndex(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  int64_t rest = flat;
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = rest % shape[d];
    rest /= shape[d];
  }
  std::string out = "element " + std::to_string(flat) + " (index [";
  for (size_t d = 0; d < index.size(); ++d)
    out += (d ? ", " : "") + std::to_string(index[d]);
  return out + "])";
}

Status conversionError(const NpyArray &array, const std::string &what) {
  return Status::error(ErrorCode::IOError, array.source + ": " + what);
}

/// The element count of `array`, checked against its shape and bytes:
/// arrays built by hand need not be consistent.
Expected<int64_t> checkedSize(const NpyArray &array) {
  Expected<int64_t> count =
      npy::checkedElementCount(array.shape, npyDTypeSize(array.dtype),
                               array.source + ": array", ErrorCode::IOError);
  if (!count)
    return count;
  if (array.bytes.size() !=
      static_cast<size_t>(*count) * npyDTypeSize(array.dtype))
    return conversionError(array, "array " + array.describe() + " holds " +
                                      std::to_string(array.bytes.size()) +
                                      " bytes, not the size of its shape");
  return count;
}

} // namespace

const char *attnc::npyDescr(NpyDType dtype) {
  switch (dtype) {
  case NpyDType::F16:
    return "<f2";
  case NpyDType::F32:
    return "<f4";
  case NpyDType::F64:
    return "<f8";
  case NpyDType::I32:
    return "<i4";
  case NpyDType::I64:
    return "<i8";
  }
  return "?";
}

size_t attnc::npyDTypeSize(NpyDType dtype) {
  switch (dtype) {
  case NpyDType::F16:
    return 2;
  case NpyDType::F32:
  case NpyDType::I32:
    return 4;
  case NpyDType::F64:
  case NpyDType::I64:
    return 8;
  }
  return 0;
}

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string NpyArray::describe() const {
  return npy::formatShape(shape) + " " + npyDescr(dtype);
}

Expected<std::vector<float>> NpyArray::toFloat32() const {
  Expected<int64_t> count = checkedSize(*this);
  if (!count)
    return count.takeStatus();
  int64_t n = *count;
  std::vector<float> out(static_cast<size_t>(n));
  switch (dtype) {
  case NpyDType::F32:
    if (n > 0)
      std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  case NpyDType::F16:
    for (int64_t i = 0; i < n; ++i)
      out[i] = halfToFloat(loadElement<uint16_t>(bytes, i));
    return out;
  case NpyDType::F64:
    for (int64_t i = 0; i < n; ++i) {
      double x = loadElement<double>(bytes, i);
      // Finite values from FLT_MAX plus half an ulp on round to infinity;
      // converting them is undefined in C++ and wrong for the user.
      if (std::isfinite(x) && std::fabs(x) >= 0x1.ffffffp127)
        return conversionError(*this, describeIndex(i, shape) + " = " +
                                          std::to_string(x) +
                                          " is beyond the range of f32");
      out[i] = static_cast<float>(x);
    }
    return out;
  case NpyDType::I32:
  case NpyDType::I64:
    break;
  }
  return conversionError(*this, "holds " + describe() +
                                    " integers where floating-point data "
                                    "(<f2, <f4 or <f8) is expected");
}

Expected<std::vector<int32_t>> NpyArray::toInt32() const {
  Expected<int64_t> count = checkedSize(*this);
  if (!count)
    return count.takeStatus();
  int64_t n = *count;
  std::vector<int32_t> out(static_cast<size_t>(n));
  switch (dtype) {
  case NpyDType::I32:
    if (n > 0)
      std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  case NpyDType::I64:
    for (int64_t i = 0; i < n; ++i) {
      int64_t x = loadElement<int64_t>(bytes, i);
      if (x < INT32_MIN || x > INT32_MAX)
        return conversionError(*this, describeIndex(i, shape) + " = " +
                                          std::to_string(x) +
                                          " does not fit in int32");
      out[i] = static_cast<int32_t>(x);
    }
    return out;
  case NpyDType::F16:
  case NpyDType::F32:
  case NpyDType::F64:
    break;
  }
  return conversionError(*this, "holds " + describe() +
                                    " floating-point data where integers "
                                    "(<i4 or <i8) are expected");
}
