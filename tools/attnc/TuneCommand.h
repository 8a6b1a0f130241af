//===- TuneCommand.h - attnc tune -----------------------------------------===//
#ifndef ATTNC_TOOLS_ATTNC_TUNECOMMAND_H
#define ATTNC_TOOLS_ATTNC_TUNECOMMAND_H

#include <string>

namespace attnc {

struct TuneOptions {
  std::string spec, kernel;
  std::string shapes;     ///< "B:Q:KV,..."
  std::string candidates; ///< "BRxBC,..." (empty: 16..128 x 16..128)
  std::string backend = "auto";
  std::string dbPath;
  int repeat = 3;
};

/// Times the candidates for each shape and stores the winners; returns the
/// process exit code.
int tuneCommand(const TuneOptions &options);

/// The tuning database's key for attention block `kernel` of spec `text`.
std::string specFingerprint(const std::string &text, const std::string &kernel);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTNC_TUNECOMMAND_H
