//===- TuningDBTest.cpp - The tuning database on disk
//----------------------===//
#include "runtime/tune/TuningDB.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace attnc;

TEST_CASE("tuning database: buckets, put, save, load, find", "[api][tune]") {
  CHECK(shapeBucket(1, 1, 1000) == "b1-q1-kv1024");
  CHECK(shapeBucket(3, 64, 1024) == "b4-q64-kv1024");

  std::string path =
      "/tmp/attnc-tuning-test-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  Expected<TuningDB> empty = TuningDB::load(path); // missing: empty
  REQUIRE(empty);
  CHECK(empty->entries().empty());

  TuningDB db;
  db.put({"spec1", "dev \"A\"", "b1-q1-kv1024", "decode", 64, 32, 1.5});
  db.put({"spec1", "dev \"A\"", "b16-q1-kv1024", "prefill", 32, 64, 2.5});
  db.put({"spec1", "dev \"A\"", "b1-q1-kv1024", "prefill", 16, 16, 0.5});
  REQUIRE(db.entries().size() == 2); // same key replaced
  REQUIRE(db.save(path).ok());

  Expected<TuningDB> loaded = TuningDB::load(path);
  REQUIRE(loaded);
  std::optional<TunedConfig> hit =
      loaded->find("spec1", "dev \"A\"", "b1-q1-kv1024");
  REQUIRE(hit);
  CHECK(hit->path == "prefill");
  CHECK(hit->blockQ == 16);
  CHECK(hit->blockKV == 16);
  CHECK(hit->ms == Approx(0.5));
  CHECK_FALSE(loaded->find("spec2", "dev \"A\"", "b1-q1-kv1024"));

  std::ofstream(path) << "[\n  {\"spec\": \"x\", \"device\": \"y\"}\n]\n";
  Expected<TuningDB> bad = TuningDB::load(path);
  REQUIRE_FALSE(bad);
  CHECK(bad.status().code() == ErrorCode::IOError);
  CHECK_THAT(bad.status().message(), Catch::Contains(path + ":2:"));
  std::remove(path.c_str());
}
