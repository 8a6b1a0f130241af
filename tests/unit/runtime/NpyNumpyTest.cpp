//===- NpyNumpyTest.cpp - Files NumPy writes, and files NumPy reads -------===//
//
// The hand-built fixtures of NpyMalformedTest cover every format variant on
// any machine. Where python3 with numpy is installed, this test also reads
// what np.save and np.lib.format.write_array write, and has NumPy load (and
// compare byte for byte with np.save) what writeNpy writes. Without numpy it
// says so with a warning and checks nothing else.
//
//===----------------------------------------------------------------------===//

#include "NpyTestSupport.h"

#include <cstdlib>

using namespace attnc;
using namespace attnc::test;

namespace {

bool haveNumpy() {
  return std::system("python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

/// Writes the fixtures (mode "write") or checks the files the test wrote
/// (mode "check"); exits non-zero, printing why, on any mismatch.
const char *kScript = R"PY(
import io, os, sys
import numpy as np

d, mode = sys.argv[1], sys.argv[2]
p = lambda name: os.path.join(d, name)

if mode == "write":
    np.save(p("f2.npy"), (np.arange(24, dtype=np.float16) * 0.5 - 3).reshape(2, 3, 4))
    np.save(p("f4.npy"), (np.arange(6, dtype=np.float32) / 7).reshape(2, 3))
    np.save(p("f8.npy"), np.linspace(-1, 1, 5))
    np.save(p("i4.npy"), np.arange(-3, 3, dtype=np.int32))
    np.save(p("i8.npy"), np.array([[1, -2**40], [3, 4]], dtype=np.int64))
    np.save(p("i8small.npy"), np.array([7, -7, 2**31 - 1], dtype=np.int64))
    np.save(p("scalar.npy"), np.array(2.5, dtype=np.float32))
    np.save(p("empty.npy"), np.zeros((0, 3), dtype=np.float32))
    np.save(p("strided.npy"), np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2])
    np.save(p("transposed.npy"), np.arange(6, dtype=np.float32).reshape(2, 3).T)
    np.save(p("big_endian.npy"), np.arange(3, dtype=">f4"))
    np.save(p("u1.npy"), np.arange(3, dtype=np.uint8))
    np.save(p("bool.npy"), np.array([True, False]))
    for v in [(2, 0), (3, 0)]:
        with open(p("v%d.npy" % v[0]), "wb") as f:
            np.lib.format.write_array(f, np.arange(4, dtype=np.int32), version=v)
    sys.exit(0)

failures = []
def same(name, want):
    got = np.load(p(name))
    if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
        failures.append("%s: got %r %s, want %r %s" % (name, got, got.dtype, want, want.dtype))
        return
    buf = io.BytesIO()
    np.save(buf, want)
    with open(p(name), "rb") as f:
        if f.read() != buf.getvalue():
            failures.append("%s: bytes differ from np.save's" % name)

same("c_f4.npy", (np.arange(12, dtype=np.float32) / 3).reshape(3, 4))
same("c_i4.npy", np.array([[5, -6, 2**31 - 1]], dtype=np.int32))
same("c_scalar.npy", np.array(-1.25, dtype=np.float32))
same("c_empty.npy", np.zeros((2, 0, 5), dtype=np.int32))
same("c_f2.npy", np.array([1.0, -2.0, 65504.0], dtype=np.float16))
same("c_f8.npy", np.array([0.1, 1e300], dtype=np.float64))
same("c_i8.npy", np.array([-2**40], dtype=np.int64))
same("c_rank5.npy", np.arange(32, dtype=np.float32).reshape(2, 2, 2, 2, 2))
if failures:
    print("\n".join(failures))
    sys.exit(1)
)PY";

int runScript(const TempDir &tmp, const char *mode) {
  writeBytes(tmp.path("script.py"),
             std::vector<uint8_t>(kScript, kScript + std::strlen(kScript)));
  std::string command =
      "python3 '" + tmp.path("script.py") + "' '" + tmp.dir() + "' " + mode;
  return std::system(command.c_str());
}

NpyArray read(const TempDir &tmp, const std::string &name) {
  Expected<NpyArray> a = readNpy(tmp.path(name));
  INFO(name << ": " << (a.ok() ? "ok" : a.status().message()));
  REQUIRE(a.ok());
  return a.takeValue();
}

std::string readError(const TempDir &tmp, const std::string &name) {
  Expected<NpyArray> a = readNpy(tmp.path(name));
  INFO(name);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == ErrorCode::IOError);
  return a.status().message().substr(tmp.path(name).size());
}

} // namespace

TEST_CASE("files written by numpy read back", "[npy][numpy]") {
  if (!haveNumpy()) {
    WARN("python3 with numpy is not installed: files written by NumPy are "
         "not read here (the hand-built fixtures still cover every format)");
    return;
  }
  TempDir tmp;
  REQUIRE(runScript(tmp, "write") == 0);

  NpyArray f2 = read(tmp, "f2.npy");
  CHECK(f2.dtype == NpyDType::F16);
  CHECK(f2.shape == std::vector<int64_t>{2, 3, 4});
  std::vector<float> f2Values = *f2.toFloat32();
  for (size_t i = 0; i < f2Values.size(); ++i)
    CHECK(f2Values[i] == static_cast<float>(i) * 0.5f - 3);

  NpyArray f4 = read(tmp, "f4.npy");
  CHECK(f4.shape == std::vector<int64_t>{2, 3});
  std::vector<float> f4Values = *f4.toFloat32();
  for (size_t i = 0; i < f4Values.size(); ++i)
    CHECK(f4Values[i] == static_cast<float>(i) / 7.0f);

  NpyArray f8 = read(tmp, "f8.npy");
  CHECK(f8.dtype == NpyDType::F64);
  CHECK(*f8.toFloat32() == std::vector<float>{-1, -0.5f, 0, 0.5f, 1});

  CHECK(*read(tmp, "i4.npy").toInt32() ==
        std::vector<int32_t>{-3, -2, -1, 0, 1, 2});
  CHECK(*read(tmp, "i8small.npy").toInt32() ==
        std::vector<int32_t>{7, -7, INT32_MAX});
  Expected<std::vector<int32_t>> i8 = read(tmp, "i8.npy").toInt32();
  REQUIRE_FALSE(i8.ok());
  CHECK(
      i8.status().message() ==
      tmp.path("i8.npy") +
          ": element 1 (index [0, 1]) = -1099511627776 does not fit in int32");

  NpyArray scalar = read(tmp, "scalar.npy");
  CHECK(scalar.shape.empty());
  CHECK(*scalar.toFloat32() == std::vector<float>{2.5f});
  CHECK(read(tmp, "empty.npy").shape == std::vector<int64_t>{0, 3});
  CHECK(*read(tmp, "strided.npy").toFloat32() ==
        std::vector<float>{0, 2, 4, 6, 8, 10});
  for (const char *v : {"v2.npy", "v3.npy"})
    CHECK(*read(tmp, v).toInt32() == std::vector<int32_t>{0, 1, 2, 3});

  CHECK(readError(tmp, "transposed.npy") ==
        ": array of shape (3, 2) is in Fortran (column-major) order; only C "
        "order is supported (save np.ascontiguousarray(a))");
  CHECK(readError(tmp, "big_endian.npy") ==
        ": big-endian dtype '>f4' is not supported; save the array as "
        "little-endian ('<f4')");
  CHECK_THAT(readError(tmp, "u1.npy"),
             Catch::StartsWith(": unsupported dtype '|u1'"));
  CHECK_THAT(readError(tmp, "bool.npy"),
             Catch::StartsWith(": unsupported dtype '|b1'"));
}

TEST_CASE("files written here load in numpy, identical to np.save's",
          "[npy][numpy]") {
  if (!haveNumpy()) {
    WARN("python3 with numpy is not installed: NumPy does not load the "
         "files written here (the byte-level tests still check the format)");
    return;
  }
  TempDir tmp;
  std::vector<float> f4(12);
  for (size_t i = 0; i < f4.size(); ++i)
    f4[i] = static_cast<float>(i) / 3.0f;
  REQUIRE(writeNpy(tmp.path("c_f4.npy"), f4.data(), {3, 4}).ok());
  std::vector<int32_t> i4 = {5, -6, INT32_MAX};
  REQUIRE(writeNpy(tmp.path("c_i4.npy"), i4.data(), {1, 3}).ok());
  float scalar = -1.25f;
  REQUIRE(writeNpy(tmp.path("c_scalar.npy"), &scalar, {}).ok());
  REQUIRE(writeNpy(tmp.path("c_empty.npy"),
                   static_cast<const int32_t *>(nullptr), {2, 0, 5})
              .ok());
  std::vector<uint16_t> f2 = {0x3c00, 0xc000, 0x7bff};
  REQUIRE(
      writeNpyRaw(tmp.path("c_f2.npy"), NpyDType::F16, f2.data(), {3}).ok());
  std::vector<double> f8 = {0.1, 1e300};
  REQUIRE(
      writeNpyRaw(tmp.path("c_f8.npy"), NpyDType::F64, f8.data(), {2}).ok());
  int64_t i8 = -(int64_t(1) << 40);
  REQUIRE(writeNpyRaw(tmp.path("c_i8.npy"), NpyDType::I64, &i8, {1}).ok());
  std::vector<float> rank5(32);
  for (size_t i = 0; i < rank5.size(); ++i)
    rank5[i] = static_cast<float>(i);
  REQUIRE(
      writeNpy(tmp.path("c_rank5.npy"), rank5.data(), {2, 2, 2, 2, 2}).ok());

  CHECK(runScript(tmp, "check") == 0);
}
