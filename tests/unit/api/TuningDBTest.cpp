//===- TuningDBTest.cpp - The tuning database on disk ---------------------===//
#include "runtime/tune/TuningDB.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace attnc;

namespace {
TunedConfig entry(const std::string &bucket, const std::string &path, int bq,
                  int bkv, int stages, int splits, double ms) {
  TunedConfig c;
  c.spec = "spec1";
  c.device = "dev \"A\"";
  c.bucket = bucket;
  c.path = path;
  c.blockQ = bq;
  c.blockKV = bkv;
  c.stages = stages;
  c.splits = splits;
  c.ms = ms;
  return c;
}
} // namespace

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
  db.put(entry("b1-q1-kv1024", "decode", 64, 32, 2, 4, 1.5));
  TunedConfig twoBlocks = entry("b16-q1-kv1024", "decode", 32, 64, 1, 8, 2.5);
  twoBlocks.warps = 1;
  db.put(twoBlocks);
  db.put(entry("b1-q1-kv1024", "prefill", 16, 16, 1, 0, 0.5));
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
  CHECK(hit->stages == 1);
  CHECK(hit->splits == 0);
  CHECK(hit->ms == Approx(0.5));
  std::optional<TunedConfig> other =
      loaded->find("spec1", "dev \"A\"", "b16-q1-kv1024");
  REQUIRE(other);
  CHECK(other->path == "decode");
  CHECK(other->stages == 1);
  CHECK(other->splits == 8);
  CHECK(other->warps == 1);
  CHECK(hit->warps == 0);
  CHECK_FALSE(loaded->find("spec2", "dev \"A\"", "b1-q1-kv1024"));

  std::ofstream(path) << "[\n  {\"spec\": \"x\", \"device\": \"y\"}\n]\n";
  Expected<TuningDB> bad = TuningDB::load(path);
  REQUIRE_FALSE(bad);
  CHECK(bad.status().code() == ErrorCode::IOError);
  CHECK_THAT(bad.status().message(), Catch::Contains(path + ":2:"));

  // Entries from before stages and splits were tuned read as the defaults.
  std::ofstream(path) << "[\n  {\"spec\": \"s\", \"device\": \"d\", "
                         "\"bucket\": \"b1-q1-kv1\", \"path\": \"prefill\", "
                         "\"block_q\": 64, \"block_kv\": 32, \"ms\": 1}\n]\n";
  Expected<TuningDB> old = TuningDB::load(path);
  REQUIRE(old);
  REQUIRE(old->entries().size() == 1);
  CHECK(old->entries()[0].stages == 2);
  CHECK(old->entries()[0].splits == 0);

  std::ofstream(path) << "[\n  {\"spec\": \"s\", \"device\": \"d\", "
                         "\"bucket\": \"b1-q1-kv1\", \"path\": \"prefill\", "
                         "\"block_q\": 64, \"block_kv\": 32, \"stages\": 3, "
                         "\"ms\": 1}\n]\n";
  Expected<TuningDB> badStages = TuningDB::load(path);
  REQUIRE_FALSE(badStages);
  CHECK_THAT(badStages.status().message(), Catch::Contains("stages 1 or 2"));
  std::remove(path.c_str());
}

TEST_CASE("tuning database: concurrent merges keep every entry",
          "[api][tune]") {
  std::string path =
      "/tmp/attnc-tuning-merge-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  // Four writers, each storing its own 20 buckets one merge at a time: a
  // read-modify-write without the lock would drop some.
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < 20; ++i) {
        TunedConfig c = entry("b" + std::to_string(w) + "-" + std::to_string(i),
                              "prefill", 64, 64, 2, 0, w + i);
        Expected<TuningDB> merged = TuningDB::merge(path, {c});
        REQUIRE(merged);
      }
    });
  for (std::thread &t : writers)
    t.join();
  Expected<TuningDB> all = TuningDB::load(path);
  REQUIRE(all);
  CHECK(all->entries().size() == 80);
  CHECK(all->find("spec1", "dev \"A\"", "b3-19"));
  std::remove(path.c_str());
  std::remove((path + ".lock").c_str());
}
