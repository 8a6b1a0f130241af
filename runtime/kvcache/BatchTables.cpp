//===- BatchTables.cpp - Block tables and kv_lens as kernel tensors -------===//

#include "runtime/kvcache/BatchTables.h"

#include <algorithm>
#include <limits>
#include <string>

namespace attnc::kvcache {

namespace {
/// The widest block table of the batch, or an error for an unknown id.
Expected<int32_t> widestTable(const BlockManager &blocks, Span<SeqId> seqs) {
  int32_t widest = 0;
  for (SeqId id : seqs) {
    Expected<SequenceView> seq = blocks.sequence(id);
    if (!seq)
      return seq.takeStatus();
    widest = std::max(widest, static_cast<int32_t>(seq->blockTable.size()));
  }
  return widest;
}
} // namespace

Status exportBatchTablesInto(const BlockManager &blocks, Span<SeqId> seqs,
                             int32_t padValue, int32_t maxPages,
                             int32_t *blockTable, int32_t *kvLens) {
  // Validate the whole batch before the first write.
  Expected<int32_t> widest = widestTable(blocks, seqs);
  if (!widest)
    return widest.takeStatus();
  if (maxPages < 0 || *widest > maxPages)
    return Status::error(ErrorCode::InvalidArgument,
                         "block table rows of " + std::to_string(maxPages) +
                             " pages cannot hold a sequence of " +
                             std::to_string(*widest) + " pages");
  if (!seqs.empty() && ((maxPages > 0 && !blockTable) || !kvLens))
    return Status::error(ErrorCode::InvalidArgument,
                         "null output buffer for a non-empty batch");

  for (size_t row = 0; row < seqs.size(); ++row) {
    SequenceView seq = *blocks.sequence(seqs[row]);
    int32_t *out = blockTable + row * static_cast<size_t>(maxPages);
    std::copy(seq.blockTable.begin(), seq.blockTable.end(), out);
    std::fill(out + seq.blockTable.size(), out + maxPages, padValue);
    kvLens[row] = seq.length();
  }
  return Status::success();
}

Expected<BatchTables> exportBatchTables(const BlockManager &blocks,
                                        Span<SeqId> seqs, int32_t padValue,
                                        int32_t maxPages) {
  if (seqs.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return Status::error(ErrorCode::InvalidArgument, "batch too large");
  if (maxPages == kFitMaxPages) {
    Expected<int32_t> widest = widestTable(blocks, seqs);
    if (!widest)
      return widest.takeStatus();
    maxPages = *widest;
  }
  if (maxPages < 0)
    return Status::error(ErrorCode::InvalidArgument,
                         "maxPages must be >= 0 or kFitMaxPages");
  BatchTables tables;
  tables.batch = static_cast<int32_t>(seqs.size());
  tables.maxPages = maxPages;
  tables.blockTable.resize(seqs.size() * static_cast<size_t>(maxPages));
  tables.kvLens.resize(seqs.size());
  Status status =
      exportBatchTablesInto(blocks, seqs, padValue, maxPages,
                            tables.blockTable.data(), tables.kvLens.data());
  if (!status.ok())
    return status;
  return tables;
}

std::vector<int32_t> slotMapping(Span<Slot> slots, int32_t pageSize) {
  std::vector<int32_t> flat;
  flat.reserve(slots.size());
  for (Slot slot : slots)
    flat.push_back(static_cast<int32_t>(slot.flat(pageSize)));
  return flat;
}

} // namespace attnc::kvcache
