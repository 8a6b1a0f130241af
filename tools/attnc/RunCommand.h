//===- RunCommand.h - attnc run -------------------------------------------===//
#ifndef ATTNC_TOOLS_ATTNC_RUNCOMMAND_H
#define ATTNC_TOOLS_ATTNC_RUNCOMMAND_H

#include <cstdint>
#include <string>

namespace attnc {

struct RunOptions {
  std::string spec;
  std::string kernel;
  std::string inputsDir, outDir;
  std::string saveInputsDir; ///< write the inputs used as .npy files here
  std::string backend = "auto";
  bool random = false;
  int64_t batch = 1, qLen = 1, kvLen = 1;
  uint64_t seed = 0;
  bool check = false;
  int64_t blockQ = 0, blockKV = 0; ///< 0: chosen from head_dim
  /// "prefill", "decode" (GQA packed, split-KV) or "auto": both variants
  /// are compiled and the shape of the inputs picks one.
  std::string path = "auto";
  int splits = 0;       ///< decode path; 0: the runtime chooses
  std::string tuningDB; ///< consulted before the heuristics
  int timeRuns = 0;     ///< > 0: time this many launches and print the median
  /// Under sim: a barrier or wait removed from the kernel (tune/SimFault.h).
  std::string simFault;
  /// Under sim: compare the KV tiles the kernel visited (and masked) with
  /// those holding a visible element (and a masked one); differing fails.
  bool countTiles = false;
  /// Which masks iterate over a runtime block mask: auto, always, never.
  std::string blockMask = "auto";
};

/// Compiles the spec, runs it on the inputs, writes/checks the outputs.
/// Returns the process exit code.
int runCommand(const RunOptions &options);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTNC_RUNCOMMAND_H
