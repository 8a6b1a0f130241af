//===- TuningDB.h - Tuned kernel configurations, persisted ---------------===//
//
// What `attnc tune` measured best, per (spec, device, shape bucket). The file
// is a JSON array with one object per line, rewritten atomically on save, so
// it stays readable by people and diff tools and is parsed here without a
// JSON library (the runtime links none).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_TUNE_TUNINGDB_H
#define ATTNC_RUNTIME_TUNE_TUNINGDB_H

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
};

/// The database's key for attention block `kernel` of spec `text`.
std::string specFingerprint(const std::string &text, const std::string &kernel);

/// Shapes that tune alike share a bucket: batch, longest query and longest
/// KV length, each rounded up to a power of two.
std::string shapeBucket(long long batch, long long maxQLen, long long maxKVLen);

class TuningDB {
public:
  /// Reads `path`; a missing file is an empty database, a malformed one an
  /// IOError naming the line.
  static Expected<TuningDB> load(const std::string &path);
  /// Writes the database atomically (temporary file + rename).
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

#endif // ATTNC_RUNTIME_TUNE_TUNINGDB_H
