//===- SimFault.h - Remove one barrier or wait from a kernel's source -----===//
//
// `attnc run --sim-fault=drop-barrier:N` / `drop-wait:N` deletes the N-th
// `__syncthreads()` / cp.async wait of the generated CUDA source (counted
// from 0 in the order the source has them) before it is compiled for sim:
// the way to check that the sim's race detector catches every missing
// synchronization, and that each one the emitter prints is needed.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TUNE_SIMFAULT_H
#define ATTNC_TUNE_SIMFAULT_H

#include "runtime/core/Status.h"

#include <string>

namespace attnc {

/// The synchronizations `fault` can name in `cuda`: how many barriers and
/// cp.async waits it has.
struct SyncCounts {
  int barriers = 0, waits = 0;
};
SyncCounts countSyncs(const std::string &cuda);

/// Applies `fault` ("drop-barrier:N" or "drop-wait:N") to `cuda`; an error
/// for a malformed fault or an N past the last one (saying how many there
/// are).
Status applySimFault(std::string &cuda, const std::string &fault);

} // namespace attnc

#endif // ATTNC_TUNE_SIMFAULT_H
