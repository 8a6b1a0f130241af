//===- DiskCache.h - Compiled kernels on disk, safe to share -------------===//
//
// One file per key under a private directory (CacheTrust.h: refused when
// another user owns it or may write it). Each entry carries a header (magic,
// format version, payload size, the payload's SHA-256): a truncated or
// corrupted entry is detected on read, removed, and reported as a miss, so
// the caller rebuilds it. Writes go to a private temporary file that is renamed
// into place, so concurrent writers and readers (threads or processes) never
// see a torn entry: the last rename wins, and every winner is whole.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_JIT_DISKCACHE_H
#define ATTNC_RUNTIME_JIT_DISKCACHE_H

#include "runtime/core/Status.h"

#include <optional>
#include <string>
#include <vector>

namespace attnc::jit {

class DiskCache {
public:
  /// Entries live in `dir` (created on first put).
  explicit DiskCache(std::string dir) : dir(std::move(dir)) {}

  /// The payload stored under `key`, or nullopt (missing or corrupt; a
  /// corrupt entry is deleted).
  std::optional<std::vector<char>> get(const std::string &key) const;
  /// Stores `payload` under `key` atomically.
  Status put(const std::string &key, const std::vector<char> &payload) const;
  /// The file that holds `key`.
  std::string pathOf(const std::string &key) const;

private:
  std::string dir;
};

/// mkdir -p; false when some directory could not be made.
bool makeDirectories(const std::string &path);

/// $ATTNC_CACHE_DIR, else $XDG_CACHE_HOME/attnc, else ~/.cache/attnc.
std::string defaultCacheDir();

} // namespace attnc::jit

#endif // ATTNC_RUNTIME_JIT_DISKCACHE_H
