//===- DiskCache.cpp - Compiled kernels on disk, safe to share -----------===//
#include "runtime/jit/DiskCache.h"
#include "runtime/jit/CacheTrust.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace attnc;
using namespace attnc::jit;

namespace {
// Version 2: the payload's SHA-256 (was a 64-bit FNV hash).
constexpr char kMagic[8] = {'A', 'T', 'T', 'N', 'C', 'K', 'C', '2'};

struct Header {
  char magic[8];
  unsigned long long size;
  char sha256[64]; ///< hex digits of the payload's SHA-256
};

} // namespace

bool attnc::jit::makeDirectories(const std::string &path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/')
      continue;
    std::string prefix = path.substr(0, i);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return false;
  }
  return true;
}

std::string attnc::jit::defaultCacheDir() {
  if (const char *dir = std::getenv("ATTNC_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/attnc";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/attnc";
  return "/tmp/attnc-" + std::to_string(getuid());
}

std::string DiskCache::pathOf(const std::string &key) const {
  return dir + "/" + key + ".bin";
}

std::optional<std::vector<char>> DiskCache::get(const std::string &key) const {
  // An untrusted directory is never read (put reports why).
  if (!openPrivateDirectory(dir).ok())
    return std::nullopt;
  std::string path = pathOf(key), bytes;
  if (!readWholeFile(path, bytes))
    return std::nullopt;
  Header header;
  bool valid = bytes.size() >= sizeof header;
  if (valid) {
    std::memcpy(&header, bytes.data(), sizeof header);
    valid = std::memcmp(header.magic, kMagic, sizeof kMagic) == 0 &&
            header.size == bytes.size() - sizeof header &&
            sha256Hex(bytes.data() + sizeof header, header.size) ==
                std::string(header.sha256, sizeof header.sha256);
  }
  if (!valid) {
    // Corrupt (truncated, overwritten, another format): discard it so the
    // caller's rebuild replaces it.
    std::remove(path.c_str());
    return std::nullopt;
  }
  return std::vector<char>(bytes.begin() + sizeof header, bytes.end());
}

Status DiskCache::put(const std::string &key,
                      const std::vector<char> &payload) const {
  if (Status s = openPrivateDirectory(dir); !s.ok())
    return s;
  static std::atomic<unsigned> counter{0};
  std::string temp = pathOf(key) + ".tmp." + std::to_string(getpid()) + "." +
                     std::to_string(counter++);
  Header header;
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.size = payload.size();
  std::string digest = sha256Hex(payload.data(), payload.size());
  std::memcpy(header.sha256, digest.data(), sizeof header.sha256);
  std::vector<char> bytes(sizeof header + payload.size());
  std::memcpy(bytes.data(), &header, sizeof header);
  std::memcpy(bytes.data() + sizeof header, payload.data(), payload.size());
  if (Status s = writeFileDurably(temp, bytes.data(), bytes.size()); !s.ok())
    return s;
  if (std::rename(temp.c_str(), pathOf(key).c_str()) != 0) {
    std::remove(temp.c_str());
    return Status::error(ErrorCode::IOError,
                         "cannot publish the kernel cache entry " +
                             pathOf(key) + ": " + std::strerror(errno));
  }
  return Status::success();
}
