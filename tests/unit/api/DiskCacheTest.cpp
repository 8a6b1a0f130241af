//===- DiskCacheTest.cpp - Kernel cache entries on disk
//--------------------===//
#include "runtime/jit/DiskCache.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

using namespace attnc;
using namespace attnc::jit;

namespace {
std::string freshDir(const std::string &name) {
  std::string dir =
      "/tmp/attnc-diskcache-test-" + std::to_string(getpid()) + "-" + name;
  std::system(("rm -rf '" + dir + "'").c_str());
  return dir;
}
std::vector<char> payload(char fill, size_t n) {
  return std::vector<char>(n, fill);
}
bool exists(const std::string &path) { return std::ifstream(path).good(); }
} // namespace

TEST_CASE("disk cache: miss, put, hit", "[api][cache]") {
  DiskCache cache(freshDir("hit") + "/nested/dir");
  CHECK_FALSE(cache.get("k1"));
  REQUIRE(cache.put("k1", payload('a', 1000)).ok());
  std::optional<std::vector<char>> hit = cache.get("k1");
  REQUIRE(hit);
  CHECK(*hit == payload('a', 1000));
  // Overwrite.
  REQUIRE(cache.put("k1", payload('b', 10)).ok());
  CHECK(*cache.get("k1") == payload('b', 10));
  // Empty payloads are entries too.
  REQUIRE(cache.put("empty", {}).ok());
  REQUIRE(cache.get("empty"));
  CHECK(cache.get("empty")->empty());
}

TEST_CASE("disk cache: corrupt entries are discarded", "[api][cache]") {
  DiskCache cache(freshDir("corrupt"));
  auto corruptWith = [&](auto damage) {
    REQUIRE(cache.put("k", payload('x', 4096)).ok());
    damage(cache.pathOf("k"));
    CHECK_FALSE(cache.get("k"));
    CHECK_FALSE(exists(cache.pathOf("k"))); // removed, so a rebuild replaces it
  };
  SECTION("truncated") {
    corruptWith([](const std::string &path) { truncate(path.c_str(), 100); });
  }
  SECTION("a flipped payload byte") {
    corruptWith([](const std::string &path) {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(3000);
      f.put('y');
    });
  }
  SECTION("not an entry at all") {
    corruptWith([](const std::string &path) {
      std::ofstream(path, std::ios::trunc) << "garbage";
    });
  }
  SECTION("bytes appended after the payload") {
    // The payload's digest still matches; only the size says the file is
    // longer than the entry.
    corruptWith([](const std::string &path) {
      std::ofstream(path, std::ios::app | std::ios::binary) << "tail";
    });
  }
  SECTION("empty file") {
    corruptWith([](const std::string &path) { truncate(path.c_str(), 0); });
  }
}

TEST_CASE("disk cache: an unwritable directory is an error, not a crash",
          "[api][cache]") {
  DiskCache cache("/proc/attnc-cannot-exist");
  Status s = cache.put("k", payload('a', 10));
  CHECK_FALSE(s.ok());
  CHECK(s.code() == ErrorCode::IOError);
  CHECK_THAT(s.message(), Catch::Contains("/proc/attnc-cannot-exist"));
}

TEST_CASE("disk cache: concurrent writers and readers never see a torn entry",
          "[api][cache]") {
  DiskCache cache(freshDir("concurrent"));
  // Writers store whole payloads of one byte value each; readers must only
  // ever see one of those, complete.
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, hits{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w)
    threads.emplace_back([&, w] {
      for (int i = 0; i < 200; ++i)
        if (!cache.put("shared", payload(static_cast<char>('a' + w), 64 * 1024))
                 .ok())
          ++torn;
    });
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&] {
      while (!stop) {
        std::optional<std::vector<char>> got = cache.get("shared");
        if (!got)
          continue;
        ++hits;
        if (got->size() != 64 * 1024 ||
            std::count(got->begin(), got->end(), (*got)[0]) !=
                static_cast<long>(got->size()))
          ++torn;
      }
    });
  for (int w = 0; w < 3; ++w)
    threads[w].join();
  stop = true;
  for (size_t i = 3; i < threads.size(); ++i)
    threads[i].join();
  CHECK(torn == 0);
  CHECK(hits > 0);

  // And across processes.
  pid_t child = fork();
  if (child == 0) {
    for (int i = 0; i < 200; ++i)
      (void)cache.put("shared", payload('z', 64 * 1024));
    _exit(0);
  }
  int bad = 0;
  for (int i = 0; i < 200; ++i) {
    (void)cache.put("shared", payload('q', 64 * 1024));
    std::optional<std::vector<char>> got = cache.get("shared");
    if (got && (got->size() != 64 * 1024 ||
                std::count(got->begin(), got->end(), (*got)[0]) != 64 * 1024))
      ++bad;
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(bad == 0);
  REQUIRE(cache.get("shared"));
}
