//===- NpyAtomicWriteTest.cpp - A failed write leaves nothing behind ------===//

#include "NpyTestSupport.h"

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace attnc;
using namespace attnc::test;

namespace {

/// Lowers this process's file-size limit for its lifetime, so that writes
/// past `bytes` fail with EFBIG: a disk-full in the middle of a write that
/// works for every user, root included (root ignores permissions).
class FileSizeLimit {
public:
  explicit FileSizeLimit(rlim_t bytes) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    // Without this the kernel kills the process with SIGXFSZ instead of
    // failing the write.
    previousHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lowered = saved;
    lowered.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lowered) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, previousHandler);
  }

private:
  rlimit saved;
  void (*previousHandler)(int);
};

std::vector<float> ramp(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(i);
  return v;
}

} // namespace

TEST_CASE("a write that fails midway leaves the old file and no temporary",
          "[npy][atomic]") {
  TempDir tmp;
  std::string path = tmp.path("out.npy");
  std::vector<float> old = ramp(4);
  REQUIRE(writeNpy(path, old.data(), {4}).ok());
  std::vector<uint8_t> before = readBytes(path);

  std::vector<float> big = ramp(10000);
  Status s = [&] {
    FileSizeLimit limit(1000);
    return writeNpy(path, big.data(), {100, 100});
  }();
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == ErrorCode::IOError);
  CHECK_THAT(s.message(), Catch::StartsWith(path + ": write failed: "));
  CHECK(readBytes(path) == before);
  CHECK(tmp.entries() == std::vector<std::string>{"out.npy"});

  // A failed write into a fresh name leaves no file at all.
  Status fresh = [&] {
    FileSizeLimit limit(1000);
    return writeNpy(tmp.path("new.npy"), big.data(), {10000});
  }();
  CHECK(fresh.code() == ErrorCode::IOError);
  CHECK(tmp.entries() == std::vector<std::string>{"out.npy"});

  // With the limit gone the same write replaces the file whole.
  REQUIRE(writeNpy(path, big.data(), {100, 100}).ok());
  Expected<NpyArray> back = readNpy(path);
  REQUIRE(back.ok());
  CHECK(*back->toFloat32() == big);
  CHECK(tmp.entries() == std::vector<std::string>{"out.npy"});
}

TEST_CASE("a write whose rename fails removes its temporary", "[npy][atomic]") {
  TempDir tmp;
  // A directory where the file should go: the data is written, the rename
  // onto the directory fails.
  std::filesystem::create_directory(tmp.path("taken.npy"));
  float x = 1;
  Status s = writeNpy(tmp.path("taken.npy"), &x, {1});
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == ErrorCode::IOError);
  CHECK_THAT(s.message(),
             Catch::StartsWith(tmp.path("taken.npy") +
                               ": cannot move the written file into place: "));
  CHECK(tmp.entries() == std::vector<std::string>{"taken.npy"});
  CHECK(std::filesystem::is_empty(tmp.path("taken.npy")));
}

TEST_CASE("a write into a directory that cannot hold it is an error",
          "[npy][atomic]") {
  TempDir tmp;
  float x = 1;
  Status missingDir = writeNpy(tmp.path("no/such/dir/a.npy"), &x, {1});
  CHECK(missingDir.code() == ErrorCode::IOError);
  CHECK_THAT(missingDir.message(),
             Catch::StartsWith(tmp.path("no/such/dir/a.npy") +
                               ": cannot create a temporary file next to "
                               "it: "));

  writeBytes(tmp.path("plain"), {1});
  Status underFile = writeNpy(tmp.path("plain/a.npy"), &x, {1});
  CHECK(underFile.code() == ErrorCode::IOError);
  CHECK_THAT(underFile.message(), Catch::Contains("Not a directory"));
  CHECK(tmp.entries() == std::vector<std::string>{"plain"});

  // Permissions stop everyone but root; as root the write goes through and
  // the two cases above stand in for it.
  std::filesystem::create_directory(tmp.path("ro"));
  REQUIRE(::chmod(tmp.path("ro").c_str(), 0555) == 0);
  Status readOnly = writeNpy(tmp.path("ro/a.npy"), &x, {1});
  if (::geteuid() != 0) {
    CHECK(readOnly.code() == ErrorCode::IOError);
    CHECK_THAT(readOnly.message(), Catch::Contains("Permission denied"));
    CHECK(std::filesystem::is_empty(tmp.path("ro")));
  } else {
    CHECK(readOnly.ok());
  }
}

TEST_CASE("a successful write leaves exactly the file, readable by others",
          "[npy][atomic]") {
  TempDir tmp;
  mode_t mask = ::umask(022);
  float x = 3;
  Status s = writeNpy(tmp.path("a.npy"), &x, {});
  ::umask(mask);
  REQUIRE(s.ok());
  CHECK(tmp.entries() == std::vector<std::string>{"a.npy"});
  struct stat info;
  REQUIRE(::stat(tmp.path("a.npy").c_str(), &info) == 0);
  // A temporary made with mkstemp would be 0600; the file is created as any
  // other file the user writes.
  CHECK((info.st_mode & 0777) == 0644);

  // Writing into the current directory (a bare name) works too.
  std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(tmp.dir());
  Status bare = writeNpy("b.npy", &x, {1});
  std::filesystem::current_path(cwd);
  CHECK(bare.ok());
  CHECK(tmp.entries() == std::vector<std::string>{"a.npy", "b.npy"});
}
