//===- CacheTrust.cpp - What the kernel caches may load -------------------===//
#include "runtime/jit/CacheTrust.h"
#include "runtime/jit/DiskCache.h"

#include <openssl/evp.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

using namespace attnc;
using namespace attnc::jit;

namespace {

Status refuse(const std::string &dir, const std::string &why) {
  return Status::error(ErrorCode::IOError,
                       "refusing the kernel cache directory " + dir + ": " +
                           why +
                           "; it holds code attnc runs, so it must be a "
                           "directory only you can write (remove it, or set "
                           "ATTNC_CACHE_DIR to one)");
}

/// Temporary files are named `<entry>.tmp<...>`; older than this, their
/// writer is gone.
constexpr time_t kStaleSeconds = 3600;

void removeStaleTemporaries(const std::string &dir) {
  DIR *d = opendir(dir.c_str());
  if (!d)
    return;
  time_t now = time(nullptr);
  while (dirent *entry = readdir(d)) {
    std::string name = entry->d_name;
    if (name.find(".tmp") == std::string::npos)
      continue;
    std::string path = dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        now - st.st_mtime > kStaleSeconds)
      std::remove(path.c_str());
  }
  closedir(d);
}

} // namespace

Status attnc::jit::openPrivateDirectory(const std::string &dir) {
  if (dir.empty())
    return refuse("''", "the path is empty");
  if (!makeDirectories(dir)) // missing ones are created 0700
    return Status::error(ErrorCode::IOError,
                         "cannot create the kernel cache directory " + dir +
                             ": " + std::strerror(errno));
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0)
    return refuse(dir, std::string("cannot stat it: ") + std::strerror(errno));
  if (S_ISLNK(st.st_mode))
    return refuse(dir, "it is a symbolic link");
  if (!S_ISDIR(st.st_mode))
    return refuse(dir, "it is not a directory");
  if (st.st_uid != geteuid())
    return refuse(dir, "it is owned by uid " + std::to_string(st.st_uid) +
                           ", not by you (uid " + std::to_string(geteuid()) +
                           ")");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    return refuse(dir, std::string("group or others may write it (mode ") +
                           mode + ")");
  }
  removeStaleTemporaries(dir);
  return Status::success();
}

std::string attnc::jit::sha256Hex(const void *data, size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr) != 1)
    return {}; // never equal to a recorded digest: the entry is rebuilt
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned i = 0; i < length; ++i) {
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

Status attnc::jit::writeFileDurably(const std::string &path, const void *data,
                                    size_t size) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::error(ErrorCode::IOError,
                         "cannot create " + path + ": " + std::strerror(errno));
  const char *p = static_cast<const char *>(data);
  size_t left = size;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      std::string why = std::strerror(errno);
      close(fd);
      std::remove(path.c_str());
      return Status::error(ErrorCode::IOError,
                           "cannot write " + path + ": " + why);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    std::string why = std::strerror(errno);
    std::remove(path.c_str());
    return Status::error(ErrorCode::IOError,
                         "cannot flush " + path + " to disk: " + why);
  }
  return Status::success();
}

bool attnc::jit::readWholeFile(const std::string &path, std::string &bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return false;
  }
  bytes.clear();
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      close(fd);
      return false;
    }
    if (n == 0)
      break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}
