//===- NpyMalformedTest.cpp - Every way a .npy file can be wrong ----------===//
//
// Each malformed file is read twice, from disk with readNpy() and from
// memory with parseNpy(): both must give an IOError that names the file and
// says what is wrong.
//
//===----------------------------------------------------------------------===//

#include "NpyTestSupport.h"

using namespace attnc;
using namespace attnc::test;

namespace {

/// Reads `bytes` as a file and from memory; both must fail with an IOError
/// naming the file and containing `problem`.
void expectMalformed(const std::vector<uint8_t> &bytes,
                     const std::string &problem) {
  TempDir tmp;
  std::string path = tmp.path("bad.npy");
  writeBytes(path, bytes);
  Expected<NpyArray> fromFile = readNpy(path);
  REQUIRE_FALSE(fromFile.ok());
  CHECK(fromFile.status().code() == ErrorCode::IOError);
  CHECK_THAT(fromFile.status().message(),
             Catch::StartsWith(path + ": ") && Catch::Contains(problem));

  Expected<NpyArray> fromMemory =
      parseNpy(bytes.data(), bytes.size(), "mem.npy");
  REQUIRE_FALSE(fromMemory.ok());
  CHECK(fromMemory.status().code() == ErrorCode::IOError);
  CHECK(fromMemory.status().message() ==
        "mem.npy" + fromFile.status().message().substr(path.size()));
}

/// Reads `bytes` expecting success, from disk and from memory alike.
NpyArray expectValid(const std::vector<uint8_t> &bytes) {
  Expected<NpyArray> fromMemory =
      parseNpy(bytes.data(), bytes.size(), "mem.npy");
  INFO((fromMemory.ok() ? "" : fromMemory.status().message()));
  REQUIRE(fromMemory.ok());
  TempDir tmp;
  writeBytes(tmp.path("ok.npy"), bytes);
  Expected<NpyArray> fromFile = readNpy(tmp.path("ok.npy"));
  REQUIRE(fromFile.ok());
  CHECK(fromFile->bytes == fromMemory->bytes);
  CHECK(fromFile->shape == fromMemory->shape);
  CHECK(fromFile->dtype == fromMemory->dtype);
  return fromMemory.takeValue();
}

std::vector<uint8_t> floats(size_t n) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = 0.5f + static_cast<float>(i);
  return elementBytes(values);
}

} // namespace

TEST_CASE("hand-built files of every supported format variant read", "[npy]") {
  SECTION("versions 1.0, 2.0 and 3.0") {
    for (int major : {1, 2, 3}) {
      NpyArray a =
          expectValid(npyBytes(npyDict("<f4", "(2, 3)"), floats(6), major));
      CHECK(a.shape == std::vector<int64_t>{2, 3});
      CHECK(a.bytes == floats(6));
    }
  }
  SECTION("every dtype, with '<' and '|'") {
    const std::pair<const char *, NpyDType> kinds[] = {{"f2", NpyDType::F16},
                                                       {"f4", NpyDType::F32},
                                                       {"f8", NpyDType::F64},
                                                       {"i4", NpyDType::I32},
                                                       {"i8", NpyDType::I64}};
    for (const auto &[code, dtype] : kinds) {
      for (const char *order : {"<", "|"}) {
        size_t bytes = 3 * npyDTypeSize(dtype);
        NpyArray a =
            expectValid(npyBytes(npyDict(std::string(order) + code, "(3,)"),
                                 std::vector<uint8_t>(bytes, 7)));
        CHECK(a.dtype == dtype);
        CHECK(a.bytes.size() == bytes);
      }
    }
  }
  SECTION("0-d, zero-size and high-rank shapes") {
    CHECK(expectValid(npyBytes(npyDict("<f4", "()"), floats(1))).shape.empty());
    CHECK(expectValid(npyBytes(npyDict("<i8", "(0,)"))).shape ==
          std::vector<int64_t>{0});
    CHECK(expectValid(npyBytes(npyDict("<f4", "(4, 0, 3)"))).bytes.empty());
    // A zero extent makes any other extent harmless: no element exists.
    CHECK(expectValid(npyBytes(npyDict("<f8", "(0, 9223372036854775807)")))
              .shape[1] == INT64_MAX);
    std::string dims;
    for (int i = 0; i < 64; ++i)
      dims += "1, ";
    CHECK(expectValid(npyBytes(npyDict("<f4", "(" + dims + ")"), floats(1)))
              .shape.size() == 64);
  }
  SECTION("spacing, quotes, key order, padding and Python 2 longs") {
    expectValid(npyBytes("{\"shape\":(2,),\"fortran_order\":False,"
                         "\"descr\":\"<f4\"}",
                         floats(2)));
    expectValid(npyBytes("  {  'descr' : '<f4' , 'fortran_order' : False , "
                         "'shape' : ( 2 , ) }" +
                             std::string(40, ' ') + "\n",
                         floats(2)));
    NpyArray a = expectValid(npyBytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }\n",
        floats(2)));
    CHECK(a.shape == std::vector<int64_t>{2, 1});
  }
  SECTION("Fortran order where it lays out the bytes as C order does") {
    expectValid(npyBytes(npyDict("<f4", "(5,)", true), floats(5)));
    expectValid(npyBytes(npyDict("<f4", "(1, 5, 1)", true), floats(5)));
    expectValid(npyBytes(npyDict("<f4", "()", true), floats(1)));
    expectValid(npyBytes(npyDict("<f4", "(3, 0)", true)));
  }
}

TEST_CASE("malformed preambles", "[npy]") {
  expectMalformed({}, "empty file");
  expectMalformed({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0},
                  "not a .npy file (it does not start with the magic bytes");
  expectMalformed({0x93, 'N', 'U', 'M'},
                  "truncated: 4 bytes, too short for the .npy preamble");
  expectMalformed({0x93, 'N', 'U', 'M', 'P', 'Y', 1},
                  "truncated: 7 bytes, too short for the .npy preamble");
  expectMalformed({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 10},
                  "truncated: 9 bytes, too short for the .npy preamble");
  expectMalformed({0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 10, 0, 0},
                  "truncated: 11 bytes, too short for the .npy preamble");
  expectMalformed(npyBytes(npyDict("<f4", "(1,)"), floats(1), 4),
                  "unsupported .npy format version 4.0 (supported: 1.0, "
                  "2.0, 3.0)");
  std::vector<uint8_t> minor = npyBytes(npyDict("<f4", "(1,)"), floats(1));
  minor[7] = 1;
  expectMalformed(minor, "unsupported .npy format version 1.1");
  std::vector<uint8_t> zero = npyBytes(npyDict("<f4", "(1,)"), floats(1));
  zero[6] = 0;
  expectMalformed(zero, "unsupported .npy format version 0.0");
}

TEST_CASE("malformed header lengths", "[npy]") {
  std::vector<uint8_t> longer = npyBytes(npyDict("<f4", "(1,)"));
  longer[8] = 0xff;
  expectMalformed(longer, "truncated header: the preamble announces 265 "
                          "bytes of preamble and header, the file has");
  std::vector<uint8_t> huge = npyBytes(npyDict("<f4", "(1,)"), {}, 2);
  huge[8] = huge[9] = huge[10] = huge[11] = 0xff;
  expectMalformed(huge, "header length 4294967295 is implausibly large");
  // A length that ends the header inside the dict.
  std::vector<uint8_t> shorter = npyBytes(npyDict("<f4", "(1,)"), floats(1));
  shorter[8] = 20;
  expectMalformed(shorter, "malformed header: unterminated string");
}

TEST_CASE("malformed header dicts", "[npy]") {
  auto header = [](const std::string &dict, const std::string &problem) {
    INFO(dict);
    expectMalformed(npyBytes(dict, floats(1)), problem);
  };
  header("", "expected '{' to open the header dict");
  header("[1, 2]", "expected '{' to open the header dict");
  header("{'descr': '<f4', 'fortran_order': False}",
         "no 'shape' entry in \"{'descr'");
  header("{'shape': (1,), 'fortran_order': False}", "no 'descr' entry");
  header("{'shape': (1,), 'descr': '<f4'}", "no 'fortran_order' entry");
  header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
         "'extra': 1}",
         "unknown key 'extra' (a .npy header has exactly 'descr', "
         "'fortran_order' and 'shape')");
  header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
         "'shape': (1,)}",
         "duplicate key 'descr'");
  header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
         "'shape': (1,)}",
         "duplicate key 'shape'");
  header("{descr: '<f4'}", "expected a key string at offset 1");
  header("{'descr' '<f4'}", "expected ':' after key 'descr' at offset 9");
  header("{'descr': '<f4' 'fortran_order': False}",
         "expected ',' or '}' after the value of 'descr'");
  header("{'descr': '<f4", "unterminated string");
  header("{'descr': '<f\\x34'}", "unsupported character in a string");
  header("{'descr': 4}", "expected a dtype string as 'descr'");
  header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}",
         "structured dtypes (a list as 'descr') are not supported");
  header("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
         "expected True or False as 'fortran_order'");
  header("{'descr': '<f4', 'fortran_order': Falsehood, 'shape': (1,)}",
         "expected True or False as 'fortran_order'");
  header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
         "unexpected text after the header dict");
  header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\x01",
         "unexpected text after the header dict at offset 55 of "
         "\"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\\x01\"");
  header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,),,}",
         "expected a key string");
  header("{'d\xe9scr': '<f4'}", "unknown key 'd\\xe9scr'");
  // Long headers are shown cut short.
  header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), " +
             std::string(100, 'z') + "}",
         "zzzzzzzzzz\"...");
}

TEST_CASE("malformed shapes", "[npy]") {
  auto shape = [](const std::string &tuple, const std::string &problem) {
    INFO(tuple);
    expectMalformed(npyBytes("{'descr': '<f4', 'fortran_order': False, "
                             "'shape': " +
                                 tuple + "}",
                             floats(1)),
                    problem);
  };
  shape("(3)", "'shape' (3) is not a tuple; a 1-d shape is written (3,)");
  shape("[3]", "expected a tuple as 'shape'");
  shape("3", "expected a tuple as 'shape'");
  shape("(-1,)", "negative dimension in 'shape'");
  shape("(3, -2)", "negative dimension in 'shape'");
  shape("(3.5,)", "expected ',' or ')' in 'shape'");
  shape("(3 4)", "expected ',' or ')' in 'shape'");
  shape("(,)", "expected a non-negative integer in 'shape'");
  shape("(a,)", "expected a non-negative integer in 'shape'");
  shape("(1,", "expected a non-negative integer in 'shape'");
  shape("(99999999999999999999,)",
        "dimension in 'shape' does not fit in 64 bits");
  shape("(9223372036854775808,)",
        "dimension in 'shape' does not fit in 64 bits");
  std::string rank65 = "(";
  for (int i = 0; i < 65; ++i)
    rank65 += "1,";
  shape(rank65 + ")", "'shape' has more than 64 dimensions");
  shape("(4294967296, 4294967296)",
        ": shape (4294967296, 4294967296) has more elements than fit in 64 "
        "bits");
  shape("(9223372036854775807,)",
        ": shape (9223372036854775807,) of 4-byte elements is too large to "
        "address");
}

TEST_CASE("unsupported dtypes and orders", "[npy]") {
  auto descr = [](const std::string &d, const std::string &shape,
                  const std::string &problem) {
    INFO(d);
    expectMalformed(npyBytes(npyDict(d, shape), floats(6)), problem);
  };
  const char *kSupported = "(supported: '<f2', '<f4', '<f8', '<i4', '<i8')";
  for (const char *d : {"<c8", "|u1", "<u4", "|b1", "|S10", "<U3", "|O", "f4",
                        "=f4", "<f16", "<", ""})
    descr(d, "(1,)",
          std::string("unsupported dtype '") + d + "' " + kSupported);
  descr(">f4", "(1,)",
        "big-endian dtype '>f4' is not supported; save the array as "
        "little-endian ('<f4')");
  descr(">i8", "(1,)", "big-endian dtype '>i8' is not supported");
  expectMalformed(npyBytes(npyDict("<f4", "(2, 3)", true), floats(6)),
                  "array of shape (2, 3) is in Fortran (column-major) order; "
                  "only C order is supported (save np.ascontiguousarray(a))");
}

TEST_CASE("data that does not match the header", "[npy]") {
  expectMalformed(npyBytes(npyDict("<f4", "(3, 4)"), floats(10)),
                  "truncated data: the (3, 4) <f4 array needs 48 bytes after "
                  "the header, the file has 40");
  expectMalformed(npyBytes(npyDict("<f4", "()")),
                  "truncated data: the () <f4 array needs 4 bytes");
  expectMalformed(npyBytes(npyDict("<i8", "(2,)"), floats(5)),
                  "4 bytes of trailing garbage after the (2,) <i8 array (16 "
                  "bytes of data expected)");
  expectMalformed(npyBytes(npyDict("<f4", "(0,)"), floats(1)),
                  "4 bytes of trailing garbage");
  // A shape far larger than the file is caught before any allocation.
  expectMalformed(npyBytes(npyDict("<f8", "(1000000000000,)"), floats(2)),
                  "needs 8000000000000 bytes after the header, the file has 8");
}

TEST_CASE("files that cannot be read", "[npy]") {
  TempDir tmp;
  Expected<NpyArray> missing = readNpy(tmp.path("nope.npy"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == ErrorCode::NotFound);
  CHECK(missing.status().message() == tmp.path("nope.npy") + ": no such file");

  Expected<NpyArray> dir = readNpy(tmp.dir());
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.status().code() == ErrorCode::IOError);
  CHECK(dir.status().message() ==
        tmp.dir() + ": is a directory, not a .npy file");

  writeBytes(tmp.path("file"), {1, 2, 3});
  Expected<NpyArray> under = readNpy(tmp.path("file") + "/x.npy");
  REQUIRE_FALSE(under.ok());
  CHECK(under.status().code() == ErrorCode::IOError);
  CHECK_THAT(under.status().message(), Catch::Contains("cannot open"));

  Expected<NpyArray> device = readNpy("/dev/null");
  REQUIRE_FALSE(device.ok());
  CHECK(device.status().message() == "/dev/null: not a regular file");
}
