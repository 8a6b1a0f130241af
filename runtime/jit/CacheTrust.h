//===- CacheTrust.h - What the kernel caches may load ---------------------===//
//
// The caches hold code that attnc runs: host shared objects under sim,
// cubins on a GPU. Trust model (docs/runtime.md):
//  - A cache directory must be private to the user running attnc: created
//    0700, owned by the effective user, not writable by group or others, and
//    not a symlink. Anything else (e.g. /tmp/attnc-<uid> pre-created by
//    another user) is refused with an error naming the directory, before a
//    byte of it is read.
//  - Every entry carries the SHA-256 of its content, recorded when it was
//    written (fsync'ed before it is renamed into place). An entry whose
//    content does not match — truncated, corrupted, or planted without its
//    digest — is deleted and rebuilt, never mapped or loaded.
//  - Temporary files left by a crash or a full disk are removed when they
//    are older than an hour, the next time the directory is opened.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_JIT_CACHETRUST_H
#define ATTNC_RUNTIME_JIT_CACHETRUST_H

#include "runtime/core/Status.h"

#include <cstddef>
#include <string>

namespace attnc::jit {

/// Creates `dir` (and missing parents, 0700) and checks that it is a
/// private directory of this user; an error says what is wrong with it.
/// Removes stale temporary files (`*.tmp*` older than an hour) in it.
Status openPrivateDirectory(const std::string &dir);

/// The SHA-256 of `size` bytes at `data`, as 64 lowercase hex digits.
std::string sha256Hex(const void *data, size_t size);

/// Writes `size` bytes to `path` (created 0600) and fsyncs them, so that a
/// rename after it publishes whole content even across a power loss.
Status writeFileDurably(const std::string &path, const void *data, size_t size);

/// Reads the whole file at `path`; false when it cannot be read or is not a
/// regular file.
bool readWholeFile(const std::string &path, std::string &bytes);

} // namespace attnc::jit

#endif // ATTNC_RUNTIME_JIT_CACHETRUST_H
