//===- TuneCommand.h - attnc tune -----------------------------------------===//
#ifndef ATTNC_TOOLS_ATTNC_TUNECOMMAND_H
#define ATTNC_TOOLS_ATTNC_TUNECOMMAND_H

#include <string>

namespace attnc {

struct TuneOptions {
  std::string spec, kernel;
  std::string shapes;     ///< "B:Q:KV,..."
  std::string candidates; ///< "BRxBC,..." (empty: 16..128 x 16..128)
  std::string paths = "prefill,packed,decode";
  std::string stages = "1,2";             ///< K tiles in flight
  std::string rowsPerWarp = "16,32";      ///< warps = Br / rows
  std::string splits = "auto,1,2,4,8,16"; ///< decode split counts
  std::string backend = "auto";
  std::string dbPath;
  int repeat = 3;
  int warmup = 1;
  int top = 5; ///< rows of the per-shape ranking
};

/// Times the candidates for each shape and stores the winners; returns the
/// process exit code.
int tuneCommand(const TuneOptions &options);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTNC_TUNECOMMAND_H
