//===- Npy.h - Reading and writing NumPy .npy files -----------------------===//
//
// Tensors go in and out of `attnc run` as .npy files: NumPy's own format,
// which every user of this field can read and write. Only what attention
// needs is supported: little-endian f16/f32/f64/i32/i64 in C order.
//
// Reading never trusts the file. Every malformed file (bad magic, truncated
// header or data, a header dict that does not parse, a shape whose size
// overflows, an unknown or big-endian dtype) is an IOError whose message
// names the file and what is wrong. Writing goes to a temporary file in the
// target's directory that is renamed into place, so a failed write never
// leaves a partial file behind.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_NPY_NPY_H
#define ATTNC_RUNTIME_NPY_NPY_H

#include "runtime/core/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnc {

/// Element types of the .npy files the runtime reads and writes.
enum class NpyDType { F16, F32, F64, I32, I64 };

/// NumPy's spelling of `dtype` as a header descr, e.g. "<f4".
const char *npyDescr(NpyDType dtype);
/// Bytes per element.
size_t npyDTypeSize(NpyDType dtype);

/// The contents of one .npy file: C-order, little-endian elements.
struct NpyArray {
  NpyDType dtype = NpyDType::F32;
  /// Empty for a 0-d array (which holds one element).
  std::vector<int64_t> shape;
  /// numElements() * npyDTypeSize(dtype) bytes.
  std::vector<uint8_t> bytes;
  /// Where the array came from (a path), named in conversion errors.
  std::string source;

  /// The product of the shape (which readNpy() has checked for overflow).
  int64_t numElements() const;
  /// "(3, 4) <f4".
  std::string describe() const;

  /// The elements as f32. f16 and f64 are converted; an f64 finite value
  /// beyond f32's range is an error naming the source and the index. Integer
  /// arrays are an error: they are indices, not data.
  Expected<std::vector<float>> toFloat32() const;
  /// The elements as i32. i64 values outside i32's range are an error naming
  /// the source and the index. Floating-point arrays are an error.
  Expected<std::vector<int32_t>> toInt32() const;
};

/// Reads the .npy file at `path`. A missing file is NotFound; anything else
/// that goes wrong is an IOError naming `path`.
Expected<NpyArray> readNpy(const std::string &path);

/// Parses a whole .npy file held in memory; `name` stands for the file in
/// error messages. The same checks as readNpy().
Expected<NpyArray> parseNpy(const uint8_t *data, size_t size,
                            const std::string &name);

/// Writes `shape` elements of `dtype` from `data` (C order, little-endian)
/// as a .npy file at `path`, atomically: the file either appears complete
/// or not at all, and an existing file is replaced only on success. `data`
/// may be null only when the shape holds no element.
Status writeNpyRaw(const std::string &path, NpyDType dtype, const void *data,
                   const std::vector<int64_t> &shape);

/// writeNpyRaw() for f32 data.
Status writeNpy(const std::string &path, const float *data,
                const std::vector<int64_t> &shape);
/// writeNpyRaw() for i32 data.
Status writeNpy(const std::string &path, const int32_t *data,
                const std::vector<int64_t> &shape);
/// writeNpyRaw() for an array read or built before.
Status writeNpy(const std::string &path, const NpyArray &array);

} // namespace attnc

#endif // ATTNC_RUNTIME_NPY_NPY_H
