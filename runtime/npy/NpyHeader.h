//===- NpyHeader.h - The header of a .npy file ----------------------------===//
//
// A .npy file is a preamble (magic "\x93NUMPY", a version, the header
// length), a header that is a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// padded with spaces to a multiple of 64 bytes and ended by '\n', then the
// raw elements. Parsing is split from file reading so that a reader can
// learn how many bytes the header takes from the first 12 bytes, and so that
// the parser can be fuzzed on memory.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_NPY_NPYHEADER_H
#define ATTNC_RUNTIME_NPY_NPYHEADER_H

#include "runtime/core/Status.h"
#include "runtime/npy/Npy.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnc::npy {

/// Bytes a reader needs to know the header length: magic, version and a
/// 4-byte length (a v1.0 file uses only 2 of them).
constexpr size_t kPreambleBytes = 12;
/// Larger headers are refused before anything is allocated for them. NumPy
/// writes a few hundred bytes even for 32-dimensional shapes.
constexpr size_t kMaxHeaderBytes = 1 << 20;

/// NumPy's NPY_MAXDIMS (64 since NumPy 2; 32 before): neither the reader
/// nor the writer goes beyond it.
constexpr size_t kMaxRank = 64;

/// What a header says about the data that follows it.
struct NpyHeader {
  NpyDType dtype = NpyDType::F32;
  std::vector<int64_t> shape;
  /// Where the elements start: preamble plus header.
  size_t dataOffset = 0;
  /// How many bytes of elements the shape and dtype call for.
  uint64_t dataBytes = 0;
};

/// The offset of the data, read from the first min(size, kPreambleBytes)
/// bytes of a file: checks the magic, the version and the length field.
/// `name` is the file, for messages.
Expected<size_t> parseNpyPreamble(const uint8_t *data, size_t size,
                                  const std::string &name);

/// Parses the preamble and header at the start of `data`, which must hold
/// at least the whole header (the data may follow or not).
Expected<NpyHeader> parseNpyHeader(const uint8_t *data, size_t size,
                                   const std::string &name);

/// Checks that `available` bytes after the header are exactly the data the
/// header calls for: fewer is a truncated file, more is trailing garbage.
Status checkNpyDataSize(const NpyHeader &header, uint64_t available,
                        const std::string &name);

/// The preamble and header for an array of `dtype` and `shape` (at most
/// kMaxRank dimensions), byte for byte as np.save writes them: version 1.0,
/// padded so that the data starts at a multiple of 64 bytes.
std::string formatNpyHeader(NpyDType dtype, const std::vector<int64_t> &shape);

/// The number of elements in `shape`, or an error when a dimension is
/// negative or the product (or its size in bytes of `elementSize`) does not
/// fit in 63 bits. `what` starts the message ("file.npy: shape").
Expected<int64_t> checkedElementCount(const std::vector<int64_t> &shape,
                                      size_t elementSize,
                                      const std::string &what, ErrorCode code);

/// "(3, 4)", "(5,)", "()": a shape as NumPy prints it.
std::string formatShape(const std::vector<int64_t> &shape);

} // namespace attnc::npy

#endif // ATTNC_RUNTIME_NPY_NPYHEADER_H
