//===- NpyTestSupport.h - Temporary directories and hand-built .npy bytes -===//
#ifndef ATTNC_TESTS_UNIT_RUNTIME_NPYTESTSUPPORT_H
#define ATTNC_TESTS_UNIT_RUNTIME_NPYTESTSUPPORT_H

#include "runtime/npy/Npy.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace attnc::test {

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when the test ends.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "attnc-npy-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::permissions(root, std::filesystem::perms::owner_all,
                                 ignored);
    std::filesystem::remove_all(root, ignored);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  std::string path(const std::string &name) const {
    return (std::filesystem::path(root) / name).string();
  }
  const std::string &dir() const { return root; }
  /// The names in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(root))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  std::string root;
};

inline std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void writeBytes(const std::string &path,
                       const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

/// A .npy file built by hand: magic, version `major`.0, the header length
/// (2 bytes for version 1, else 4), `header` exactly as given (no padding
/// added), then `data`. Lets a test spell out every format variant and
/// every way of getting one wrong.
inline std::vector<uint8_t> npyBytes(const std::string &header,
                                     const std::vector<uint8_t> &data = {},
                                     int major = 1) {
  std::vector<uint8_t> out = {
      0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  size_t lengthBytes = major == 1 ? 2 : 4;
  for (size_t i = 0; i < lengthBytes; ++i)
    out.push_back(static_cast<uint8_t>((header.size() >> (8 * i)) & 0xff));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

/// The header dict np.save writes for `descr` and `shape` (a Python tuple
/// as text, e.g. "(2, 3)"), ended by a newline.
inline std::string npyDict(const std::string &descr, const std::string &shape,
                           bool fortran = false) {
  return "{'descr': '" + descr +
         "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }\n";
}

/// The bytes of `values` as they lie in memory: little-endian, as .npy
/// wants them, on every host attnc runs on.
template <typename T>
std::vector<uint8_t> elementBytes(const std::vector<T> &values) {
  std::vector<uint8_t> out(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(out.data(), values.data(), out.size());
  return out;
}

} // namespace attnc::test

#endif // ATTNC_TESTS_UNIT_RUNTIME_NPYTESTSUPPORT_H
