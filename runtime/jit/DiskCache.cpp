//===- DiskCache.cpp - Compiled kernels on disk, safe to share
//-------------===//
#include "runtime/jit/DiskCache.h"
#include "runtime/jit/HostCompiler.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

using namespace attnc;
using namespace attnc::jit;

namespace {
constexpr char kMagic[8] = {'A', 'T', 'T', 'N', 'C', 'K', 'C', '1'};

struct Header {
  char magic[8];
  unsigned long long size;
  unsigned long long checksum;
};

unsigned long long checksumOf(const char *data, size_t size) {
  return hashText(std::string(data, size));
}

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
  std::string path = pathOf(key);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  Header header;
  bool valid = bytes.size() >= sizeof header;
  if (valid) {
    std::memcpy(&header, bytes.data(), sizeof header);
    valid = std::memcmp(header.magic, kMagic, sizeof kMagic) == 0 &&
            header.size == bytes.size() - sizeof header &&
            header.checksum ==
                checksumOf(bytes.data() + sizeof header, header.size);
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
  if (!makeDirectories(dir))
    return Status::error(ErrorCode::IOError,
                         "cannot create the kernel cache directory " + dir +
                             ": " + std::strerror(errno));
  static std::atomic<unsigned> counter{0};
  std::string temp = pathOf(key) + ".tmp." + std::to_string(getpid()) + "." +
                     std::to_string(counter++);
  Header header;
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.size = payload.size();
  header.checksum = checksumOf(payload.data(), payload.size());
  {
    std::ofstream out(temp, std::ios::binary);
    out.write(reinterpret_cast<const char *>(&header), sizeof header);
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    if (!out) {
      std::remove(temp.c_str());
      return Status::error(ErrorCode::IOError,
                           "cannot write the kernel cache entry " + temp);
    }
  }
  if (std::rename(temp.c_str(), pathOf(key).c_str()) != 0) {
    std::remove(temp.c_str());
    return Status::error(ErrorCode::IOError,
                         "cannot publish the kernel cache entry " +
                             pathOf(key) + ": " + std::strerror(errno));
  }
  return Status::success();
}
