//===- CacheTrustTest.cpp - The kernel caches load only what they wrote ---===//
//
// The caches hold code attnc runs. These tests plant, truncate and forge
// entries and squat on the cache directory the way another user could, and
// check that nothing untrusted is ever loaded (runtime/jit/CacheTrust.h).
//
//===----------------------------------------------------------------------===//
#include "runtime/jit/CacheTrust.h"
#include "runtime/jit/DiskCache.h"
#include "runtime/jit/HostCompiler.h"
#include "tests/unit/Skip.h"

#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace attnc;
using namespace attnc::jit;

namespace {
std::string freshDir(const std::string &name) {
  std::string dir =
      "/tmp/attnc-trust-test-" + std::to_string(getpid()) + "-" + name;
  std::system(("rm -rf '" + dir + "'").c_str());
  return dir;
}

std::string readFile(const std::string &path) {
  std::string bytes;
  return readWholeFile(path, bytes) ? bytes : std::string("<unreadable>");
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

/// A module whose one function returns `value`: enough to tell which
/// object was loaded.
std::string probeSource(int value) {
  return "extern \"C\" int attnc_probe() { return " + std::to_string(value) +
         "; }\n";
}

int callProbe(const SimModule &module) {
  void *handle = dlopen(module.path().c_str(), RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(handle);
  auto fn = reinterpret_cast<int (*)()>(dlsym(handle, "attnc_probe"));
  REQUIRE(fn);
  int value = fn();
  dlclose(handle);
  return value;
}
} // namespace

TEST_CASE("cache trust: SHA-256 of known vectors", "[api][cache]") {
  CHECK(sha256Hex("", 0) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256Hex("abc", 3) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("cache trust: a directory others may write is refused",
          "[api][cache]") {
  std::string dir = freshDir("mode");
  REQUIRE(openPrivateDirectory(dir + "/a/b").ok());
  struct stat st;
  REQUIRE(stat((dir + "/a/b").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  REQUIRE(chmod((dir + "/a/b").c_str(), 0777) == 0);
  Status s = openPrivateDirectory(dir + "/a/b");
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("refusing the kernel cache "
                                          "directory") &&
                              Catch::Contains("mode 0777"));
  // The disk cache neither reads nor writes there.
  DiskCache cache(dir + "/a/b");
  CHECK_FALSE(cache.put("k", {'x'}).ok());
  CHECK_FALSE(cache.get("k"));
  // Nor does the sim's host compiler build or load anything there.
  HostCompileOptions options;
  options.cacheDir = dir + "/a/b";
  std::string error;
  CHECK_FALSE(compileForSim(probeSource(1), options, error));
  CHECK_THAT(error, Catch::Contains("mode 0777"));

  // Group-writable alone is refused too.
  REQUIRE(chmod((dir + "/a/b").c_str(), 0770) == 0);
  s = openPrivateDirectory(dir + "/a/b");
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("mode 0770"));

  REQUIRE(symlink((dir + "/a/b").c_str(), (dir + "/link").c_str()) == 0);
  REQUIRE(chmod((dir + "/a/b").c_str(), 0700) == 0);
  s = openPrivateDirectory(dir + "/link");
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("symbolic link"));
}

TEST_CASE("cache trust: a directory owned by another user is refused",
          "[api][cache]") {
  if (geteuid() != 0)
    ATTNC_SKIP("needs root to give a directory to another user");
  std::string dir = freshDir("owner");
  REQUIRE(openPrivateDirectory(dir).ok());
  REQUIRE(chown(dir.c_str(), 12345, 12345) == 0);
  Status s = openPrivateDirectory(dir);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("owned by uid 12345"));
}

TEST_CASE("cache trust: planted, forged and truncated sim objects are "
          "rebuilt, never loaded",
          "[api][cache]") {
  std::string dir = freshDir("sim");
  HostCompileOptions options;
  options.cacheDir = dir;
  std::string error;
  std::unique_ptr<SimModule> first =
      compileForSim(probeSource(7), options, error);
  INFO(error);
  REQUIRE(first);
  CHECK(callProbe(*first) == 7);
  std::string object = first->path(), digest = object + ".sha256";
  first.reset();
  std::string genuine = readFile(object);
  CHECK(readFile(digest) == sha256Hex(genuine.data(), genuine.size()));

  // Another valid object (returning 666) planted under the same name:
  // its bytes do not match the recorded digest, so it is rebuilt.
  std::unique_ptr<SimModule> other =
      compileForSim(probeSource(666), options, error);
  REQUIRE(other);
  std::string planted = readFile(other->path());
  other.reset();
  writeFile(object, planted);
  std::unique_ptr<SimModule> again =
      compileForSim(probeSource(7), options, error);
  REQUIRE(again);
  CHECK(callProbe(*again) == 7);
  again.reset();

  // Planted without any digest.
  writeFile(object, planted);
  std::remove(digest.c_str());
  again = compileForSim(probeSource(7), options, error);
  REQUIRE(again);
  CHECK(callProbe(*again) == 7);
  again.reset();

  // Truncated (a full disk, a killed writer): rebuilt, no SIGBUS.
  writeFile(object, genuine.substr(0, genuine.size() / 3));
  again = compileForSim(probeSource(7), options, error);
  REQUIRE(again);
  CHECK(callProbe(*again) == 7);
  CHECK(readFile(digest) ==
        sha256Hex(readFile(object).data(), readFile(object).size()));
}

TEST_CASE("cache trust: stale temporary files are cleaned, fresh ones kept",
          "[api][cache]") {
  std::string dir = freshDir("stale");
  REQUIRE(openPrivateDirectory(dir).ok());
  std::string stale = dir + "/k.bin.tmp.1.0", fresh = dir + "/k.bin.tmp.2.0";
  writeFile(stale, "left by a killed writer");
  writeFile(fresh, "being written now");
  // Two hours old.
  struct timeval old[2] = {{time(nullptr) - 7200, 0},
                           {time(nullptr) - 7200, 0}};
  REQUIRE(utimes(stale.c_str(), old) == 0);
  REQUIRE(openPrivateDirectory(dir).ok());
  CHECK(readFile(stale) == "<unreadable>");
  CHECK(readFile(fresh) == "being written now");
}
