//===- RunCommand.h - attnc run -------------------------------------------===//
#ifndef ATTNC_TOOLS_ATTNC_RUNCOMMAND_H
#define ATTNC_TOOLS_ATTNC_RUNCOMMAND_H

#include "interp/Interpreter.h"
#include "tune/JitKernels.h"

#include <cstdint>
#include <string>
#include <vector>

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
  /// Cascade attention (--random, paged): consecutive groups of
  /// `groupSize` sequences (0: the whole batch) share the pages of their
  /// first `sharedPrefix` keys (whole pages of them).
  bool cascade = false;
  int64_t sharedPrefix = 0, groupSize = 0;
};

/// Compiles the spec, runs it on the inputs, writes/checks the outputs.
/// Returns the process exit code.
int runCommand(const RunOptions &options);

/// --check: O and LSE against the float64 reference of the spec on
/// `inputs`; prints the errors and PASS or FAIL. Returns the exit code.
int checkOutputs(const JitKernels &jit, const KernelInfo &info,
                 const std::string &backendName, const AttentionInputs &inputs,
                 const std::vector<float> &o, const std::vector<float> &lse);

/// --cascade: shares the first pages of `inputs`' groups, runs cascade
/// attention (Runtime::runCascade) with `jit`'s kernel, checks it like
/// checkOutputs, and under sim compares the K/V bytes read with one plain
/// launch of `plain`'s kernel. Returns the exit code.
/// Prints "attnc run: error: <message>" and returns the exit status 1.
int runFailure(const std::string &message);

int runCascadeCommand(Runtime &runtime, JitKernels &jit, JitKernels &plain,
                      AttentionInputs inputs, const RunOptions &options);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTNC_RUNCOMMAND_H
