//===- TuningDB.h - Tuned kernel configurations, persisted ---------------===//
//
// What `attnc tune` measured best, per (spec, device, shape bucket). The file
// is a JSON array of objects, one per entry, read and written with llvm::json
// (attnc_tune is only linked by programs that carry LLVM for MLIR anyway):
// any formatting of valid JSON reads, and saves pretty-print it sorted by
// key, so people and diff tools can read it and a rewrite of an unchanged
// database is byte for byte the same.
//
//   [
//     {
//       "spec": "3f2c9a0d5e7b1a24",
//       "kernel": "gemma2_9b_local",
//       "device": "sim: the SIMT emulator on the host CPU (no GPU is used)",
//       "bucket": "b1-q1-kv128",
//       "path": "decode",
//       "block_q": 64,
//       "block_kv": 32,
//       "stages": 2,
//       "warps": 4,
//       "splits": 2,
//       "ms": 1.234
//     }
//   ]
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TUNE_TUNINGDB_H
#define ATTNC_TUNE_TUNINGDB_H

#include "runtime/core/Status.h"

#include <optional>
#include <string>
#include <vector>

namespace attnc {

/// One tuned configuration.
struct TunedConfig {
  std::string spec;   ///< hash of the spec's text and kernel name
  std::string device; ///< e.g. "sim" or "NVIDIA H100 80GB HBM3 (sm_90)"
  std::string bucket; ///< shapeBucket()
  std::string path;   ///< "prefill" or "decode"
  int blockQ = 0, blockKV = 0;
  /// K tiles in flight: 2 with attn-prefetch-kv, 1 without.
  int stages = 2;
  /// Warps per CTA; 0: one per 16 rows of blockQ.
  int warps = 0;
  /// Split count of a decode kernel; 0: the runtime chooses.
  int splits = 0;
  double ms = 0; ///< the measured median
  /// The attention block's name, for people reading the file; not part of
  /// the key, and may be empty.
  std::string kernel;
};

/// The database's key for attention block `kernel` of spec `text`.
std::string specFingerprint(const std::string &text, const std::string &kernel);

/// Shapes that tune alike share a bucket: batch, longest query and longest
/// KV length, each rounded up to a power of two.
std::string shapeBucket(long long batch, long long maxQLen, long long maxKVLen);

class TuningDB {
public:
  /// Reads `path`; a missing or empty file, or `[]`, is an empty database.
  /// A file that is not a JSON array of entries is an IOError naming the
  /// file, the line and column and what is wrong; no entry is ever dropped.
  /// Keys may come in any order and unknown keys are ignored.
  static Expected<TuningDB> load(const std::string &path);
  /// Writes the database atomically: a temporary file in the same
  /// directory, flushed to disk, then renamed over `path`. Entries are
  /// sorted by (spec, device, bucket).
  Status save(const std::string &path) const;
  /// Adds `configs` to the database in `path` under an exclusive lock
  /// (`path`.lock), so processes storing at the same time keep each
  /// other's entries; returns the database as written.
  static Expected<TuningDB> merge(const std::string &path,
                                  const std::vector<TunedConfig> &configs);
  /// Whether merge() could write `path`: an IOError naming the problem
  /// (checked before long tuning runs, not after them).
  static Status checkWritable(const std::string &path);

  /// The entry for (spec, device, bucket), if any.
  std::optional<TunedConfig> find(const std::string &spec,
                                  const std::string &device,
                                  const std::string &bucket) const;
  /// Adds `config`, replacing an entry with the same key.
  void put(const TunedConfig &config);
  const std::vector<TunedConfig> &entries() const { return configs; }

private:
  std::vector<TunedConfig> configs;
};

} // namespace attnc

#endif // ATTNC_TUNE_TUNINGDB_H
