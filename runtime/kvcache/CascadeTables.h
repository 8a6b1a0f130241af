//===- CascadeTables.h - Shared/unshared block tables of a batch ----------===//
//
// Cascade attention serves sequences that share a prefix (parallel sampling:
// n samples forked from one prompt) in two launches instead of one: a
// "prefix" launch reads a group's shared pages once for all of the group's
// queries, and a "suffix" launch reads, per sequence, only its keys at
// positions >= kvStart; the two partial results are merged. This builds the
// host tables of both launches, plus the plain tables of the whole batch,
// from the block manager's block tables: pages are shared exactly when two
// block tables name the same physical page (fork, prefix reuse), and a
// shared page holds the same tokens for every sequence that maps it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_CASCADETABLES_H
#define ATTNC_RUNTIME_KVCACHE_CASCADETABLES_H

#include "runtime/kvcache/BatchTables.h"

#include <cstdint>
#include <vector>

namespace attnc::kvcache {

/// Host tables of one batch for cascade attention.
struct CascadeTables {
  /// Groups of consecutive sequences of the batch: group g holds
  /// seqs[groupIndptr[g], groupIndptr[g + 1]). [groups + 1].
  std::vector<int32_t> groupIndptr;
  /// One row per group: the pages every member shares, and as kvLens the
  /// shared length in tokens (0 for a group of one sequence). batch = groups;
  /// maxPages = the widest group's shared page count, at least 1; rows are
  /// padded with padValue (a group that shares nothing is all padding).
  BatchTables prefix;
  /// One row per sequence: its whole block table and length, exactly as
  /// exportBatchTables gives them.
  BatchTables full;
  /// Per sequence: the shared length of its group (the first key its
  /// suffix launch reads). [batch].
  std::vector<int32_t> kvStart;
  /// Key rows the two launches read, and what one launch over `full` reads
  /// (sum of lengths): sharedRows + unsharedRows <= plainRows.
  int64_t sharedRows = 0, unsharedRows = 0, plainRows = 0;
};

/// Builds the cascade tables of `seqs` (in that order). Consecutive
/// sequences whose block tables begin with the same physical page form a
/// group; the group shares its longest common run of identical leading
/// physical pages, and its shared length is
///   min(sharedPages * pageSize, shortest member length),
/// since a shared, partly filled page holds the same tokens for every
/// member only up to the shortest one. A group whose shared length would
/// be below minSharedPages * pageSize tokens is split into groups of one
/// (shared length 0). A sequence of length 0 is a group of its own; a
/// repeated id shares everything with its neighbouring copies. Errors as
/// exportBatchTables (UnknownSequence, InvalidArgument for maxPages too
/// small), and InvalidArgument for a negative minSharedPages; nothing is
/// returned partially.
Expected<CascadeTables> exportCascadeTables(const BlockManager &blocks,
                                            Span<SeqId> seqs, int32_t padValue,
                                            int32_t minSharedPages = 1,
                                            int32_t maxPages = kFitMaxPages);

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_CASCADETABLES_H
