//===- ReadExample.h - The text of a spec in examples/ --------------------===//
#ifndef ATTNC_TESTS_UNIT_PASSES_READEXAMPLE_H
#define ATTNC_TESTS_UNIT_PASSES_READEXAMPLE_H

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace attnc::test {

/// examples/`name` under $ATTNC_SOURCE_DIR (ctest sets it), else the
/// working directory.
inline std::string readExample(const std::string &name) {
  const char *dir = std::getenv("ATTNC_SOURCE_DIR");
  std::ifstream in(std::string(dir ? dir : ".") + "/examples/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace attnc::test

#endif // ATTNC_TESTS_UNIT_PASSES_READEXAMPLE_H
