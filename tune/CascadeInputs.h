//===- CascadeInputs.h - Shared prefixes on staged inputs -----------------===//
//
// Cascade attention needs sequences that map the same pages first, as the
// KV manager's forks do (runtime/kvcache/CascadeTables.h exports such a
// batch). For random inputs (attnc run --cascade, the kernel tests) this
// builds that sharing: consecutive groups of sequences map their leader's
// first pages, and the tables runCascade takes describe the groups. The
// float64 reference then reads the same block tables, so cascade's result
// is checked against attention over the whole sequences.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TUNE_CASCADEINPUTS_H
#define ATTNC_TUNE_CASCADEINPUTS_H

#include "runtime/api/Runtime.h"
#include "tune/StagedTensors.h"

#include <vector>

namespace attnc {

/// The groups of a batch and the pages each shares.
struct CascadeLayout {
  /// [groups + 1]: group g is sequences [groupIndptr[g], groupIndptr[g+1]).
  std::vector<int32_t> groupIndptr;
  /// [groups]: shared keys (0 for a group of one); [groups, prefixWidth]:
  /// the shared pages.
  std::vector<int32_t> prefixLens, prefixTable;
  int64_t prefixWidth = 1;
  /// Keys and pages each group of two or more shares.
  int64_t sharedKeys = 0, sharedPages = 0;
  int64_t groups() const {
    return static_cast<int64_t>(groupIndptr.size()) - 1;
  }
};

/// Makes consecutive groups of `groupSize` sequences (0: the whole batch) of
/// paged `inputs` share the pages of their first `sharedKeys` keys, whole
/// pages only (a partly filled page is each sequence's own, as after
/// copy-on-write): every member's block table maps its leader's first
/// sharedKeys / pageSize pages. InvalidArgument when a sequence has fewer
/// keys than that, or for negative sizes.
Expected<CascadeLayout> shareLeadingPages(AttentionInputs &inputs,
                                          int64_t pageSize, int64_t sharedKeys,
                                          int64_t groupSize);

/// `inputs` and `layout` staged on a backend as runCascade's tensors.
class StagedCascade {
public:
  StagedCascade(Backend &backend, const KernelInfo &info)
      : backend(backend), staged(backend, info) {}
  StagedCascade(const StagedCascade &) = delete;
  StagedCascade &operator=(const StagedCascade &) = delete;

  Status stage(const AttentionInputs &inputs, const CascadeLayout &layout,
               CascadeTensors &out);
  /// O and LSE of the batch, copied back (StagedTensors::fetch).
  Status fetch(const CascadeTensors &t, AttentionOutputs &out) {
    return staged.fetch(t.batch, out);
  }
  Status fetch(const CascadeTensors &t, std::vector<float> &o,
               std::vector<float> &lse) {
    return staged.fetch(t.batch, o, lse);
  }

private:
  Backend &backend;
  StagedTensors staged;
};

} // namespace attnc

#endif // ATTNC_TUNE_CASCADEINPUTS_H
