//===- BatchTables.h - Block tables and kv_lens as kernel tensors ---------===//
//
// Gathers the block tables of a batch of sequences into the int32 tensors of
// the tensor contract: block_table [batch, max_pages] (row-major, rows
// padded with a caller-chosen value) and kv_lens [batch]; and the slots of
// new tokens as flat indices.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_BATCHTABLES_H
#define ATTNC_RUNTIME_KVCACHE_BATCHTABLES_H

#include "runtime/kvcache/BlockManager.h"
#include "runtime/kvcache/Span.h"
#include "runtime/kvcache/Status.h"

#include <vector>

namespace attnc::kvcache {

/// Host copies of block_table and kv_lens for one batch.
struct BatchTables {
  int32_t batch = 0;
  int32_t maxPages = 0;
  /// [batch, maxPages], row-major.
  std::vector<int32_t> blockTable;
  /// [batch].
  std::vector<int32_t> kvLens;
};

/// Pass as maxPages to size the table to the batch's longest block table.
inline constexpr int32_t kFitMaxPages = -1;

/// Builds the tables for `seqs` (in that order; repeats allowed). Rows are
/// `maxPages` wide, or as wide as the longest block table for kFitMaxPages.
/// Errors: UnknownSequence, or InvalidArgument when a sequence needs more
/// than `maxPages` pages.
Expected<BatchTables> exportBatchTables(const BlockManager &blocks,
                                        Span<SeqId> seqs, int32_t padValue,
                                        int32_t maxPages = kFitMaxPages);

/// The same into caller-owned buffers (e.g. pinned host memory):
/// `blockTable` holds seqs.size() * maxPages entries, `kvLens` seqs.size().
/// On error nothing is written.
Status exportBatchTablesInto(const BlockManager &blocks, Span<SeqId> seqs,
                             int32_t padValue, int32_t maxPages,
                             int32_t *blockTable, int32_t *kvLens);

/// The flat slot index of each slot (page * pageSize + offset) as int32:
/// the `slot_mapping` tensor a kernel that writes new K/V rows takes. int32
/// is enough: pools are limited to 2^31 slots.
std::vector<int32_t> slotMapping(Span<Slot> slots, int32_t pageSize);

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_BATCHTABLES_H
