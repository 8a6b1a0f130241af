//===- TuningDBTest.cpp - The tuning database on disk ---------------------===//
#include "tune/TuningDB.h"
#include "tools/support/Progress.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
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

std::string readText(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeText(const std::string &path, const std::string &text) {
  std::ofstream(path) << text;
}

/// A file name unique to this process and test.
std::string tempPath(const std::string &what) {
  return "/tmp/attnc-tuning-" + what + "-" + std::to_string(getpid()) + ".json";
}

/// The message of loading `text` as a database, which must fail.
std::string loadError(const std::string &path, const std::string &text) {
  writeText(path, text);
  Expected<TuningDB> db = TuningDB::load(path);
  REQUIRE_FALSE(db);
  CHECK(db.status().code() == ErrorCode::IOError);
  return db.status().message();
}

bool sameEntry(const TunedConfig &a, const TunedConfig &b) {
  return a.spec == b.spec && a.kernel == b.kernel && a.device == b.device &&
         a.bucket == b.bucket && a.path == b.path && a.blockQ == b.blockQ &&
         a.blockKV == b.blockKV && a.stages == b.stages && a.warps == b.warps &&
         a.splits == b.splits && a.ms == b.ms;
}

// Three entries on one line, as other JSON writers (and `jq -c`) put them.
const char *oneLine =
    R"([{"spec":"s","device":"d","bucket":"b1-q1-kv64","path":"prefill",)"
    R"("block_q":64,"block_kv":32,"stages":2,"warps":4,"splits":0,"ms":1.5},)"
    R"({"spec":"s","device":"d","bucket":"b2-q1-kv64","path":"decode",)"
    R"("block_q":32,"block_kv":64,"stages":1,"warps":2,"splits":4,"ms":2.5},)"
    R"({"spec":"s","device":"d","bucket":"b4-q1-kv64","path":"packed",)"
    R"("block_q":16,"block_kv":16,"stages":1,"warps":0,"splits":0,"ms":3}])";
} // namespace

TEST_CASE("tuning database: buckets, put, save, load, find",
          "[api][tune][tuningdb]") {
  CHECK(shapeBucket(1, 1, 1000) == "b1-q1-kv1024");
  CHECK(shapeBucket(3, 64, 1024) == "b4-q64-kv1024");

  std::string path = tempPath("test");
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

  std::string missing =
      loadError(path, "[\n  {\"spec\": \"x\", \"device\": \"y\"}\n]\n");
  CHECK_THAT(missing, Catch::StartsWith(path + ":2:3: tuning entry 1"));
  CHECK_THAT(missing, Catch::Contains("has no \"bucket\""));

  // Entries from before stages and splits were tuned read as the defaults.
  writeText(path, "[\n  {\"spec\": \"s\", \"device\": \"d\", "
                  "\"bucket\": \"b1-q1-kv1\", \"path\": \"prefill\", "
                  "\"block_q\": 64, \"block_kv\": 32, \"ms\": 1}\n]\n");
  Expected<TuningDB> old = TuningDB::load(path);
  REQUIRE(old);
  REQUIRE(old->entries().size() == 1);
  CHECK(old->entries()[0].stages == 2);
  CHECK(old->entries()[0].splits == 0);
  CHECK(old->entries()[0].warps == 0);
  CHECK(old->entries()[0].kernel.empty());

  std::string badStages =
      loadError(path, "[\n  {\"spec\": \"s\", \"device\": \"d\", "
                      "\"bucket\": \"b1-q1-kv1\", \"path\": \"prefill\", "
                      "\"block_q\": 64, \"block_kv\": 32, \"stages\": 3, "
                      "\"ms\": 1}\n]\n");
  CHECK_THAT(badStages, Catch::Contains("stages 1 or 2"));
  CHECK_THAT(badStages, Catch::StartsWith(path + ":2:3: tuning entry 1"));
  std::remove(path.c_str());
}

TEST_CASE("tuning database: what is written reads back the same",
          "[api][tune][tuningdb]") {
  std::string path = tempPath("roundtrip");
  TuningDB db;
  TunedConfig a = entry("b1-q1-kv512", "decode", 64, 32, 1, 4, 33.062);
  a.kernel = "llama3_gqa";
  a.warps = 4;
  // Strings JSON must escape, and non-ASCII text.
  TunedConfig b = entry("b2-q64-kv64", "packed", 128, 64, 2, 0, 0.1);
  b.spec = "back\\slash \"quoted\"\ttab\nnewline";
  b.device = "GPU \xc3\xa9t\xc3\xa9 (sm_90)";
  TunedConfig c = entry("b8-q1-kv4096", "prefill", 16, 128, 2, 0, 1e-7);
  c.warps = 1;
  TunedConfig d = entry("b1-q1-kv1", "decode", 32, 32, 2, 64, 123456.789);
  d.spec = "spec0";
  for (const TunedConfig &e : {a, b, c, d})
    db.put(e);
  REQUIRE(db.save(path).ok());

  Expected<TuningDB> loaded = TuningDB::load(path);
  REQUIRE(loaded);
  REQUIRE(loaded->entries().size() == 4);
  for (const TunedConfig &e : {a, b, c, d}) {
    std::optional<TunedConfig> found = loaded->find(e.spec, e.device, e.bucket);
    REQUIRE(found);
    CHECK(sameEntry(*found, e)); // times exactly, not approximately
  }

  // Sorted by (spec, device, bucket): the same entries put in another
  // order write the same bytes, and so does saving what was loaded.
  std::string text = readText(path);
  TuningDB reversed;
  for (const TunedConfig &e : {d, c, b, a})
    reversed.put(e);
  REQUIRE(reversed.save(path).ok());
  CHECK(readText(path) == text);
  REQUIRE(loaded->save(path).ok());
  CHECK(readText(path) == text);
  Expected<TuningDB> again = TuningDB::load(path);
  REQUIRE(again);
  CHECK(again->entries()[0].spec == "back\\slash \"quoted\"\ttab\nnewline");
  CHECK(again->entries()[3].spec == "spec1");
  CHECK(again->entries()[3].bucket == "b8-q1-kv4096");

  // Pretty-printed: one key per line, in a fixed order, the shortest
  // decimal of each time; the kernel name only where it is known.
  CHECK_THAT(text, Catch::StartsWith("[\n  {\n    \"spec\": "));
  CHECK_THAT(text, Catch::EndsWith("\n  }\n]\n"));
  CHECK_THAT(text, Catch::Contains("    \"spec\": \"spec1\",\n"
                                   "    \"kernel\": \"llama3_gqa\",\n"
                                   "    \"device\": \"dev \\\"A\\\"\",\n"
                                   "    \"bucket\": \"b1-q1-kv512\",\n"
                                   "    \"path\": \"decode\",\n"
                                   "    \"block_q\": 64,\n"
                                   "    \"block_kv\": 32,\n"
                                   "    \"stages\": 1,\n"
                                   "    \"warps\": 4,\n"
                                   "    \"splits\": 4,\n"
                                   "    \"ms\": 33.062\n"
                                   "  },\n"));
  CHECK_THAT(text, Catch::Contains("\"ms\": 0.1\n"));
  CHECK_THAT(text, Catch::Contains("\"ms\": 1e-07\n"));
  CHECK(text.find("\"kernel\"") == text.rfind("\"kernel\""));

  // An empty database is "[]", and reads back as one.
  REQUIRE(TuningDB().save(path).ok());
  CHECK(readText(path) == "[]\n");

  // No temporary file is left beside the database.
  std::string prefix = path.substr(5) + ".tmp.";
  DIR *dir = opendir("/tmp");
  REQUIRE(dir);
  int leftovers = 0;
  while (dirent *e = readdir(dir))
    leftovers += std::string(e->d_name).rfind(prefix, 0) == 0;
  closedir(dir);
  CHECK(leftovers == 0);
  std::remove(path.c_str());
}

TEST_CASE("tuning database: any formatting of valid JSON reads",
          "[api][tune][tuningdb]") {
  std::string path = tempPath("formats");

  writeText(path, oneLine);
  Expected<TuningDB> flat = TuningDB::load(path);
  REQUIRE(flat);
  REQUIRE(flat->entries().size() == 3);
  CHECK(flat->find("s", "d", "b1-q1-kv64")->blockQ == 64);
  CHECK(flat->find("s", "d", "b2-q1-kv64")->splits == 4);
  CHECK(flat->find("s", "d", "b4-q1-kv64")->path == "packed");
  CHECK(flat->find("s", "d", "b4-q1-kv64")->ms == 3);

  // Pretty-printed by hand: keys in any order, CRLF line ends, unknown keys
  // (values of every kind) ignored, integers written as 64.0 accepted.
  writeText(path, "[\r\n"
                  "  {\r\n"
                  "    \"ms\": 2,\r\n"
                  "    \"note\": \"measured on Tuesday\",\r\n"
                  "    \"block_kv\": 64.0,\r\n"
                  "    \"path\": \"decode\",\r\n"
                  "    \"extra\": {\"nested\": [1, 2, {\"a\": null}]},\r\n"
                  "    \"bucket\": \"b1-q1-kv256\",\r\n"
                  "    \"splits\": 2,\r\n"
                  "    \"device\": \"d\",\r\n"
                  "    \"block_q\": 32,\r\n"
                  "    \"verified\": true,\r\n"
                  "    \"kernel\": \"k\",\r\n"
                  "    \"spec\": \"s\"\r\n"
                  "  }\r\n"
                  "]\r\n");
  Expected<TuningDB> pretty = TuningDB::load(path);
  REQUIRE(pretty);
  REQUIRE(pretty->entries().size() == 1);
  const TunedConfig &p = pretty->entries()[0];
  CHECK(p.kernel == "k");
  CHECK(p.blockQ == 32);
  CHECK(p.blockKV == 64);
  CHECK(p.splits == 2);
  CHECK(p.stages == 2);
  CHECK(p.ms == 2);

  // Nothing but whitespace, or an empty array: an empty database.
  for (const char *text : {"", "  \n", "[]", "[\n]\n"}) {
    writeText(path, text);
    Expected<TuningDB> none = TuningDB::load(path);
    REQUIRE(none);
    CHECK(none->entries().empty());
  }
  std::remove(path.c_str());
}

TEST_CASE("tuning database: merging into a one-line file keeps its entries",
          "[api][tune][tuningdb]") {
  std::string path = tempPath("merge-flat");
  writeText(path, oneLine);
  TunedConfig fresh = entry("b8-q1-kv64", "decode", 64, 64, 2, 8, 4.5);
  TunedConfig replaced = entry("b2-q1-kv64", "prefill", 128, 128, 2, 0, 0.75);
  replaced.spec = "s";
  replaced.device = "d";
  Expected<TuningDB> merged = TuningDB::merge(path, {fresh, replaced});
  REQUIRE(merged);
  CHECK(merged->entries().size() == 4);

  Expected<TuningDB> loaded = TuningDB::load(path);
  REQUIRE(loaded);
  REQUIRE(loaded->entries().size() == 4);
  CHECK(loaded->find("s", "d", "b1-q1-kv64"));
  CHECK(loaded->find("s", "d", "b4-q1-kv64"));
  CHECK(loaded->find("spec1", "dev \"A\"", "b8-q1-kv64"));
  std::optional<TunedConfig> now = loaded->find("s", "d", "b2-q1-kv64");
  REQUIRE(now);
  CHECK(sameEntry(*now, replaced));
  std::remove(path.c_str());
  std::remove((path + ".lock").c_str());
}

TEST_CASE("tuning database: malformed files are errors naming the problem",
          "[api][tune][tuningdb]") {
  std::string path = tempPath("malformed");
  std::string good = R"({"spec": "s", "device": "d", "bucket": "b1-q1-kv1",)"
                     R"( "path": "prefill", "block_q": 64, "block_kv": 32,)"
                     R"( "ms": 1})";

  // Truncated: llvm::json's line and column, as compilers show them.
  std::string truncated =
      loadError(path, "[\n  " + good + ",\n  {\"spec\": \"s\", \"dev");
  CHECK_THAT(truncated, Catch::StartsWith(path + ":3:"));
  CHECK_THAT(truncated, Catch::Contains("not valid JSON"));
  std::string trailing = loadError(path, "[" + good + ",]");
  CHECK_THAT(trailing, Catch::StartsWith(path + ":1:"));
  CHECK_THAT(trailing, Catch::Contains("not valid JSON"));
  // The column of the character at fault, counted from 1.
  std::string noColon = loadError(path, "[\n  {\"spec\" \"s\"}]");
  CHECK(noColon == path + ":2:11: not valid JSON: Expected : after object key");
  std::string atEnd = loadError(path, "[\n  {\"spec\": \"s\",\n");
  CHECK_THAT(atEnd, Catch::StartsWith(path + ":3:1: not valid JSON: "));

  std::string notArray = loadError(path, good);
  CHECK_THAT(notArray, Catch::StartsWith(path + ": "));
  CHECK_THAT(notArray, Catch::Contains("JSON array of entries, not an object"));

  std::string notObject = loadError(path, "[\n  " + good + ",\n  42\n]");
  CHECK_THAT(notObject, Catch::StartsWith(path + ":3:3: tuning entry 2"));
  CHECK_THAT(notObject, Catch::Contains("is 42, not an object"));

  // The second entry, on the line and column where it starts; commas and
  // brackets inside strings do not count.
  std::string wrongType =
      loadError(path, "[" + good +
                          ",\n {\"spec\": \"a, [b]\", \"device\": \"d\", "
                          "\"bucket\": \"x\", \"path\": \"prefill\", "
                          "\"block_q\": \"64\", \"block_kv\": 32, \"ms\": 1}]");
  CHECK(wrongType == path + ":2:2: tuning entry 2: \"block_q\" must be an "
                            "integer, not a string");
  std::string fraction =
      loadError(path, R"([{"spec": "s", "device": "d", "bucket": "b",)"
                      R"( "path": "prefill", "block_q": 64, "block_kv": 32.5,)"
                      R"( "ms": 1}])");
  CHECK_THAT(fraction,
             Catch::Contains("\"block_kv\" must be an integer, not 32.5"));
  std::string stringTime =
      loadError(path, R"([{"spec": "s", "device": "d", "bucket": "b",)"
                      R"( "path": "prefill", "block_q": 64, "block_kv": 32,)"
                      R"( "ms": "fast"}])");
  CHECK_THAT(stringTime, Catch::Contains("\"ms\" must be a number"));
  std::string numberSpec =
      loadError(path, R"([{"spec": 7, "device": "d", "bucket": "b",)"
                      R"( "path": "prefill", "block_q": 64, "block_kv": 32,)"
                      R"( "ms": 1}])");
  CHECK_THAT(numberSpec, Catch::Contains("\"spec\" must be a string, not 7"));
  std::string noTime =
      loadError(path, R"([{"spec": "s", "device": "d", "bucket": "b",)"
                      R"( "path": "prefill", "block_q": 64, "block_kv": 32}])");
  CHECK_THAT(noTime, Catch::Contains("tuning entry 1 has no \"ms\""));
  std::string negative =
      loadError(path, R"([{"spec": "s", "device": "d", "bucket": "b",)"
                      R"( "path": "prefill", "block_q": 64, "block_kv": 32,)"
                      R"( "ms": -1}])");
  CHECK_THAT(negative, Catch::Contains("\"ms\" must not be negative"));
  std::string huge =
      loadError(path, R"([{"spec": "s", "device": "d", "bucket": "b",)"
                      R"( "path": "prefill", "block_q": 4294967296,)"
                      R"( "block_kv": 32, "ms": 1}])");
  CHECK_THAT(huge, Catch::Contains("\"block_q\" is out of range"));

  // A merge into a malformed file fails and leaves it as it was.
  std::string broken = "[" + good + ", {\"spec\": ";
  writeText(path, broken);
  Expected<TuningDB> merged =
      TuningDB::merge(path, {entry("b1-q1-kv1", "prefill", 64, 64, 2, 0, 1)});
  REQUIRE_FALSE(merged);
  CHECK_THAT(merged.status().message(), Catch::Contains("not valid JSON"));
  CHECK(readText(path) == broken);

  // A database that cannot be read is an error too, not an empty one that
  // the next merge would write over.
  std::remove(path.c_str());
  REQUIRE(mkdir(path.c_str(), 0755) == 0);
  Expected<TuningDB> directory = TuningDB::load(path);
  REQUIRE_FALSE(directory);
  CHECK_THAT(directory.status().message(),
             Catch::StartsWith("cannot read the tuning database " + path));
  rmdir(path.c_str());
  std::remove((path + ".lock").c_str());
}

TEST_CASE("tuning database: concurrent merges keep every entry",
          "[api][tune][tuningdb]") {
  std::string path = tempPath("merge");
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

// The progress bar of `attnc tune` (tools/support), whose times are plain
// functions so that they can be checked without a clock.
TEST_CASE("progress: elapsed time and ETA", "[api][tune][progress]") {
  CHECK(Progress::formatDuration(0) == "0:00");
  CHECK(Progress::formatDuration(7.4) == "0:07");
  CHECK(Progress::formatDuration(59.6) == "1:00");
  CHECK(Progress::formatDuration(754) == "12:34");
  CHECK(Progress::formatDuration(3723) == "1:02:03");
  CHECK(Progress::formatDuration(-1) == "0:00");
  // 12 of 40 steps in 6 s: 0.5 s a step, 28 steps left.
  CHECK(Progress::timing(6, 12, 40) == "0:06 elapsed, ETA 0:14");
  CHECK(Progress::timing(6, 40, 40) == "0:06 elapsed, ETA 0:00");
  CHECK(Progress::timing(6, 0, 40) == "0:06 elapsed");
  CHECK(Progress::timing(6, 41, 40) == "0:06 elapsed");
}
