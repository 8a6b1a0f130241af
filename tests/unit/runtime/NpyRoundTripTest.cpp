//===- NpyRoundTripTest.cpp - Writing, reading and converting .npy arrays -===//

#include "NpyTestSupport.h"
#include "runtime/npy/NpyHeader.h"

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>

using namespace attnc;
using namespace attnc::test;

namespace {

const NpyDType kAllDTypes[] = {NpyDType::F16, NpyDType::F32, NpyDType::F64,
                               NpyDType::I32, NpyDType::I64};

const std::vector<std::vector<int64_t>> kShapes = {
    {},     {0},          {1},
    {7},    {2, 3},       {3, 0, 4},
    {0, 0}, {2, 3, 4, 5}, {1, 1, 1, 1, 1, 1}};

} // namespace

TEST_CASE("every dtype and shape round-trips byte for byte", "[npy]") {
  TempDir tmp;
  std::mt19937 rng(7);
  for (NpyDType dtype : kAllDTypes) {
    for (const std::vector<int64_t> &shape : kShapes) {
      int64_t count = 1;
      for (int64_t d : shape)
        count *= d;
      // Random bytes, so NaN payloads and odd bit patterns must survive too.
      std::vector<uint8_t> data(static_cast<size_t>(count) *
                                npyDTypeSize(dtype));
      for (uint8_t &b : data)
        b = static_cast<uint8_t>(rng());
      std::string path = tmp.path("a.npy");
      INFO(npyDescr(dtype) << " " << npy::formatShape(shape));
      REQUIRE(
          writeNpyRaw(path, dtype, data.empty() ? nullptr : data.data(), shape)
              .ok());

      std::vector<uint8_t> file = readBytes(path);
      // As np.save: version 1.0, data aligned to 64 bytes, header ends '\n'.
      REQUIRE(file.size() >= 64);
      CHECK(file[6] == 1);
      CHECK(file[7] == 0);
      size_t dataOffset = 10 + file[8] + 256 * file[9];
      CHECK(dataOffset % 64 == 0);
      CHECK(file[dataOffset - 1] == '\n');
      CHECK(file.size() == dataOffset + data.size());

      Expected<NpyArray> back = readNpy(path);
      REQUIRE(back.ok());
      CHECK(back->dtype == dtype);
      CHECK(back->shape == shape);
      CHECK(back->bytes == data);
      CHECK(back->source == path);
      CHECK(back->numElements() == count);
    }
  }
  CHECK(tmp.entries() == std::vector<std::string>{"a.npy"});
}

TEST_CASE("the header is the one np.save writes", "[npy]") {
  std::string header = npy::formatNpyHeader(NpyDType::F32, {2, 3});
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, "
                     "3), }";
  // 10 bytes of preamble, 60 of dict and a newline, padded to 128.
  REQUIRE(header.size() == 128);
  CHECK(header.substr(0, 6) == "\x93NUMPY");
  CHECK(header.substr(10, dict.size()) == dict);
  CHECK(header.back() == '\n');
  CHECK(npy::formatNpyHeader(NpyDType::I64, {5}).find("'shape': (5,), }") !=
        std::string::npos);
  CHECK(npy::formatNpyHeader(NpyDType::F16, {}).find("'shape': (), }") !=
        std::string::npos);

  // The largest header the writer can make still fits version 1.0.
  std::vector<int64_t> wide(npy::kMaxRank, 0);
  wide[0] = INT64_MAX;
  std::string big = npy::formatNpyHeader(NpyDType::F64, wide);
  CHECK(big.size() % 64 == 0);
  Expected<npy::NpyHeader> parsed = npy::parseNpyHeader(
      reinterpret_cast<const uint8_t *>(big.data()), big.size(), "wide");
  REQUIRE(parsed.ok());
  CHECK(parsed->shape == wide);
  CHECK(parsed->dataBytes == 0);
}

TEST_CASE("typed writers and converters", "[npy]") {
  TempDir tmp;
  std::vector<float> floats = {1.5f, -0.0f, 3e38f, -1e-40f, 7.25f, 0.1f};
  REQUIRE(writeNpy(tmp.path("f.npy"), floats.data(), {2, 3}).ok());
  Expected<NpyArray> f = readNpy(tmp.path("f.npy"));
  REQUIRE(f.ok());
  CHECK(f->dtype == NpyDType::F32);
  Expected<std::vector<float>> asFloat = f->toFloat32();
  REQUIRE(asFloat.ok());
  CHECK(elementBytes(*asFloat) == elementBytes(floats));

  std::vector<int32_t> ints = {0, -1, INT32_MAX, INT32_MIN, 42};
  REQUIRE(writeNpy(tmp.path("i.npy"), ints.data(), {5}).ok());
  Expected<NpyArray> i = readNpy(tmp.path("i.npy"));
  REQUIRE(i.ok());
  CHECK(i->dtype == NpyDType::I32);
  Expected<std::vector<int32_t>> asInt = i->toInt32();
  REQUIRE(asInt.ok());
  CHECK(*asInt == ints);

  float scalar = 2.5f;
  REQUIRE(writeNpy(tmp.path("s.npy"), &scalar, {}).ok());
  Expected<NpyArray> s = readNpy(tmp.path("s.npy"));
  REQUIRE(s.ok());
  CHECK(s->shape.empty());
  CHECK(s->numElements() == 1);
  CHECK(s->toFloat32()->at(0) == 2.5f);

  REQUIRE(writeNpy(tmp.path("empty.npy"), static_cast<const float *>(nullptr),
                   {0, 4})
              .ok());
  Expected<NpyArray> e = readNpy(tmp.path("empty.npy"));
  REQUIRE(e.ok());
  CHECK(e->shape == std::vector<int64_t>{0, 4});
  CHECK(e->toFloat32()->empty());

  // An array read before writes back unchanged.
  REQUIRE(writeNpy(tmp.path("copy.npy"), *i).ok());
  CHECK(readBytes(tmp.path("copy.npy")) == readBytes(tmp.path("i.npy")));
}

TEST_CASE("f16 converts exactly, specials included", "[npy]") {
  NpyArray a;
  a.dtype = NpyDType::F16;
  a.shape = {9};
  a.source = "h.npy";
  std::vector<uint16_t> bits = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff,
                                0x7c00, 0xfc00, 0x8000, 0x3555};
  a.bytes = elementBytes(bits);
  Expected<std::vector<float>> f = a.toFloat32();
  REQUIRE(f.ok());
  CHECK((*f)[0] == 1.0f);
  CHECK((*f)[1] == -2.0f);
  CHECK((*f)[2] == 65504.0f);
  CHECK((*f)[3] == std::ldexp(1.0f, -24));
  CHECK((*f)[4] == std::ldexp(1023.0f, -24));
  CHECK((*f)[5] == std::numeric_limits<float>::infinity());
  CHECK((*f)[6] == -std::numeric_limits<float>::infinity());
  CHECK((*f)[7] == 0.0f);
  CHECK(std::signbit((*f)[7]));
  CHECK((*f)[8] == 0.333251953125f);

  a.shape = {1};
  a.bytes = elementBytes(std::vector<uint16_t>{0x7e00});
  CHECK(std::isnan(a.toFloat32()->at(0)));
}

TEST_CASE("f64 converts to f32 and refuses what does not fit", "[npy]") {
  NpyArray a;
  a.dtype = NpyDType::F64;
  a.source = "d.npy";
  a.shape = {5};
  double inf = std::numeric_limits<double>::infinity();
  a.bytes = elementBytes(std::vector<double>{0.5, -inf, FLT_MAX, 1e-50, 3.0});
  Expected<std::vector<float>> ok = a.toFloat32();
  REQUIRE(ok.ok());
  CHECK(*ok == std::vector<float>{0.5f, -std::numeric_limits<float>::infinity(),
                                  FLT_MAX, 0.0f, 3.0f});

  a.shape = {2, 2};
  a.bytes = elementBytes(std::vector<double>{1, 2, 3, -1e300});
  Expected<std::vector<float>> bad = a.toFloat32();
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == ErrorCode::IOError);
  CHECK(bad.status().message() == "d.npy: element 3 (index [1, 1]) = -" +
                                      std::to_string(1e300) +
                                      " is beyond the range of f32");
}

TEST_CASE("i64 converts to i32 with a range check naming the index", "[npy]") {
  NpyArray a;
  a.dtype = NpyDType::I64;
  a.source = "idx.npy";
  a.shape = {2, 3};
  a.bytes =
      elementBytes(std::vector<int64_t>{0, INT32_MIN, INT32_MAX, 5, -7, 1});
  Expected<std::vector<int32_t>> ok = a.toInt32();
  REQUIRE(ok.ok());
  CHECK(*ok == std::vector<int32_t>{0, INT32_MIN, INT32_MAX, 5, -7, 1});

  for (int64_t bad :
       {int64_t(INT32_MAX) + 1, int64_t(INT32_MIN) - 1, INT64_MIN}) {
    a.bytes = elementBytes(std::vector<int64_t>{0, 1, 2, 3, bad, 5});
    Expected<std::vector<int32_t>> r = a.toInt32();
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == ErrorCode::IOError);
    CHECK(r.status().message() ==
          "idx.npy: element 4 (index [1, 1]) = " + std::to_string(bad) +
              " does not fit in int32");
  }
}

TEST_CASE("conversions refuse the other kind of element", "[npy]") {
  NpyArray ints;
  ints.dtype = NpyDType::I32;
  ints.shape = {2};
  ints.source = "ints.npy";
  ints.bytes.resize(8);
  Expected<std::vector<float>> f = ints.toFloat32();
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().message() ==
        "ints.npy: holds (2,) <i4 integers where floating-point data (<f2, "
        "<f4 or <f8) is expected");

  NpyArray floats = ints;
  floats.dtype = NpyDType::F32;
  floats.source = "floats.npy";
  Expected<std::vector<int32_t>> i = floats.toInt32();
  REQUIRE_FALSE(i.ok());
  CHECK(i.status().message() ==
        "floats.npy: holds (2,) <f4 floating-point data where integers (<i4 "
        "or <i8) are expected");

  // An array built by hand whose bytes do not match its shape.
  floats.bytes.resize(7);
  Expected<std::vector<float>> short_ = floats.toFloat32();
  REQUIRE_FALSE(short_.ok());
  CHECK(short_.status().message() ==
        "floats.npy: array (2,) <f4 holds 7 bytes, not the size of its shape");
  floats.shape = {INT64_MAX, 4};
  CHECK(floats.toFloat32().status().message() ==
        "floats.npy: array (9223372036854775807, 4) has more elements than "
        "fit in 64 bits");
}

TEST_CASE("bad write arguments are refused before touching the disk", "[npy]") {
  TempDir tmp;
  float x = 1;
  Status s =
      writeNpy(tmp.path("a.npy"), static_cast<const float *>(nullptr), {2});
  CHECK(s.code() == ErrorCode::InvalidArgument);
  CHECK(s.message() == tmp.path("a.npy") + ": no data given for a (2,) <f4 "
                                           "array");

  s = writeNpy(tmp.path("a.npy"), &x, {2, -1});
  CHECK(s.code() == ErrorCode::InvalidArgument);
  CHECK(s.message() ==
        tmp.path("a.npy") + ": shape (2, -1) has a negative dimension");

  s = writeNpy(tmp.path("a.npy"), &x, {INT64_MAX / 2, 2});
  CHECK(s.code() == ErrorCode::InvalidArgument);
  CHECK(s.message().find("too large to address") != std::string::npos);

  s = writeNpy(tmp.path("a.npy"), &x, std::vector<int64_t>(65, 1));
  CHECK(s.code() == ErrorCode::InvalidArgument);
  CHECK(s.message().find("rank 65") != std::string::npos);

  s = writeNpy("", &x, {});
  CHECK(s.code() == ErrorCode::InvalidArgument);
  s = writeNpy(tmp.dir() + "/", &x, {});
  CHECK(s.code() == ErrorCode::InvalidArgument);

  NpyArray inconsistent;
  inconsistent.shape = {3};
  inconsistent.bytes.resize(8);
  s = writeNpy(tmp.path("a.npy"), inconsistent);
  CHECK(s.code() == ErrorCode::InvalidArgument);
  CHECK(s.message().find("holds 8 bytes") != std::string::npos);

  CHECK(tmp.entries().empty());
}
