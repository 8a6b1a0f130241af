//===- NpyFuzzTest.cpp - Garbage in, an error out, never a crash ----------===//
//
// Seeded, so a failure reproduces. Every outcome must be either a valid
// array whose bytes match its shape or an IOError naming the file; the
// sanitizers (when enabled) and the absence of a crash do the rest.
//
//===----------------------------------------------------------------------===//

#include "NpyTestSupport.h"
#include "runtime/npy/NpyHeader.h"

#include <random>

using namespace attnc;
using namespace attnc::test;

namespace {

struct Outcomes {
  int valid = 0, errors = 0;
};

/// Parses `bytes` and checks that the result is coherent either way.
void checkParse(const std::vector<uint8_t> &bytes, Outcomes &outcomes) {
  Expected<NpyArray> a = parseNpy(bytes.data(), bytes.size(), "fuzz.npy");
  if (a.ok()) {
    ++outcomes.valid;
    int64_t count = 1;
    for (int64_t d : a->shape) {
      REQUIRE(d >= 0);
      count *= d;
    }
    REQUIRE(a->bytes.size() ==
            static_cast<size_t>(count) * npyDTypeSize(a->dtype));
    return;
  }
  ++outcomes.errors;
  REQUIRE(a.status().code() == ErrorCode::IOError);
  REQUIRE_THAT(a.status().message(), Catch::StartsWith("fuzz.npy: "));
}

std::vector<uint8_t> validFile(const std::string &descr,
                               const std::string &shape, size_t dataBytes,
                               int major = 1) {
  return npyBytes(npyDict(descr, shape), std::vector<uint8_t>(dataBytes, 0x5a),
                  major);
}

/// A few valid files to mutate and truncate.
std::vector<std::vector<uint8_t>> seeds() {
  std::string written = npy::formatNpyHeader(NpyDType::F16, {3, 5});
  std::vector<uint8_t> fromWriter(written.begin(), written.end());
  fromWriter.resize(fromWriter.size() + 30, 0x11);
  return {validFile("<f4", "(2, 3)", 24), validFile("<i8", "()", 8),
          validFile("<f2", "(0, 4)", 0, 2), validFile("<i4", "(3,)", 12, 3),
          fromWriter};
}

} // namespace

TEST_CASE("random bytes never crash the parser", "[npy][fuzz]") {
  std::mt19937 rng(20240611);
  Outcomes outcomes;
  const uint8_t magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  for (int i = 0; i < 4000; ++i) {
    std::vector<uint8_t> bytes(rng() % 300);
    for (uint8_t &b : bytes)
      b = static_cast<uint8_t>(rng());
    // Half start like a .npy file, so the fuzzing gets past the magic.
    if (i % 2 && bytes.size() >= 10) {
      std::copy(std::begin(magic), std::end(magic), bytes.begin());
      bytes[6] = static_cast<uint8_t>(1 + rng() % 3);
      bytes[7] = 0;
      bytes[8] = static_cast<uint8_t>(rng() % bytes.size());
      bytes[9] = 0;
      if (bytes[6] > 1 && bytes.size() >= 12)
        bytes[10] = bytes[11] = 0;
    }
    checkParse(bytes, outcomes);
  }
  CHECK(outcomes.errors > 3900);
}

TEST_CASE("random headers from the dict's own tokens", "[npy][fuzz]") {
  // Garbage made of the right words reaches deep into the dict parser.
  const char *tokens[] = {"{",
                          "}",
                          "'descr'",
                          "'shape'",
                          "'fortran_order'",
                          ":",
                          ",",
                          "(",
                          ")",
                          "'<f4'",
                          "'<i8'",
                          "'>f4'",
                          "True",
                          "False",
                          "0",
                          "3",
                          "2L",
                          "-1",
                          " ",
                          "\n",
                          "'",
                          "\"",
                          "[",
                          "99999999999999999999",
                          "'<f2'",
                          "\\"};
  std::mt19937 rng(99);
  Outcomes outcomes;
  for (int i = 0; i < 6000; ++i) {
    std::string header;
    int n = static_cast<int>(rng() % 24);
    for (int t = 0; t < n; ++t)
      header += tokens[rng() % std::size(tokens)];
    checkParse(npyBytes(header, std::vector<uint8_t>(rng() % 40, 1)), outcomes);
  }
  CHECK(outcomes.errors > 0);

  // Shapes of the right form reach the size checks too.
  for (int i = 0; i < 2000; ++i) {
    std::string shape = "(";
    int rank = static_cast<int>(rng() % 4);
    int64_t count = 1;
    for (int d = 0; d < rank; ++d) {
      int64_t extent = rng() % 5;
      count *= extent;
      shape += std::to_string(extent) + ", ";
    }
    shape += ")";
    if (rank == 0)
      shape = "()";
    size_t exact = static_cast<size_t>(count) * 4;
    size_t given = rng() % 3 == 0 ? exact : rng() % (exact + 8);
    checkParse(npyBytes(npyDict("<i4", shape), std::vector<uint8_t>(given)),
               outcomes);
  }
  CHECK(outcomes.valid > 600);
}

TEST_CASE("mutated valid files never crash the parser", "[npy][fuzz]") {
  std::mt19937 rng(4242);
  Outcomes outcomes;
  for (const std::vector<uint8_t> &seed : seeds()) {
    Outcomes own;
    checkParse(seed, own);
    REQUIRE(own.valid == 1);
    for (int i = 0; i < 1500; ++i) {
      std::vector<uint8_t> bytes = seed;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !bytes.empty(); ++e) {
        size_t at = rng() % bytes.size();
        switch (rng() % 3) {
        case 0:
          bytes[at] = static_cast<uint8_t>(rng());
          break;
        case 1:
          bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at));
          break;
        default:
          bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                       static_cast<uint8_t>(rng()));
        }
      }
      checkParse(bytes, outcomes);
    }
  }
  CHECK(outcomes.valid > 0);
  CHECK(outcomes.errors > 0);
}

TEST_CASE("every truncation of a valid file is an error", "[npy][fuzz]") {
  for (const std::vector<uint8_t> &seed : seeds()) {
    for (size_t n = 0; n < seed.size(); ++n) {
      std::vector<uint8_t> cut(seed.begin(),
                               seed.begin() + static_cast<std::ptrdiff_t>(n));
      Expected<NpyArray> a = parseNpy(cut.data(), cut.size(), "cut.npy");
      INFO("truncated to " << n << " of " << seed.size() << " bytes");
      REQUIRE_FALSE(a.ok());
      CHECK(a.status().code() == ErrorCode::IOError);
    }
  }

  // From disk too: readNpy reads the header in two steps and must refuse
  // every cut of it the same way.
  TempDir tmp;
  std::vector<uint8_t> seed = seeds()[0];
  for (size_t n = 0; n < seed.size(); ++n) {
    std::vector<uint8_t> cut(seed.begin(),
                             seed.begin() + static_cast<std::ptrdiff_t>(n));
    writeBytes(tmp.path("cut.npy"), cut);
    Expected<NpyArray> fromFile = readNpy(tmp.path("cut.npy"));
    Expected<NpyArray> fromMemory =
        parseNpy(cut.data(), cut.size(), tmp.path("cut.npy"));
    INFO("truncated to " << n << " bytes");
    REQUIRE_FALSE(fromFile.ok());
    REQUIRE_FALSE(fromMemory.ok());
    CHECK(fromFile.status().message() == fromMemory.status().message());
  }
}
