//===- CascadeTables.cpp - Shared/unshared block tables of a batch --------===//

#include "runtime/kvcache/CascadeTables.h"

#include <algorithm>

namespace attnc::kvcache {

namespace {
/// A group of consecutive sequences and the prefix its members share.
struct Group {
  size_t begin = 0;
  size_t end = 0;
  /// Leading pages every member maps (0 when the group shares nothing).
  size_t pages = 0;
  /// Shared length in tokens.
  int32_t length = 0;
};

/// The candidate group starting at `begin`: the run of sequences whose
/// block tables begin with the same page as views[begin]'s, and what they
/// share (nothing for a group of one).
Group candidateGroup(const std::vector<SequenceView> &views, size_t begin,
                     int32_t pageSize) {
  Span<PageId> head = views[begin].blockTable;
  Group group{begin, begin + 1, head.size(), views[begin].length()};
  while (!head.empty() && group.end < views.size() &&
         !views[group.end].blockTable.empty() &&
         views[group.end].blockTable[0] == head[0]) {
    const SequenceView &seq = views[group.end++];
    size_t common = 0;
    while (common < group.pages && common < seq.blockTable.size() &&
           seq.blockTable[common] == head[common])
      ++common;
    group.pages = common;
    group.length = std::min(group.length, seq.length());
  }
  if (group.end - group.begin == 1)
    return Group{begin, begin + 1, 0, 0};
  group.length = static_cast<int32_t>(std::min<int64_t>(
      static_cast<int64_t>(group.pages) * pageSize, group.length));
  return group;
}
} // namespace

Expected<CascadeTables> exportCascadeTables(const BlockManager &blocks,
                                            Span<SeqId> seqs, int32_t padValue,
                                            int32_t minSharedPages,
                                            int32_t maxPages) {
  if (minSharedPages < 0)
    return Status::error(ErrorCode::InvalidArgument,
                         "minSharedPages must be >= 0");
  // Validates the whole batch (ids, maxPages) before anything is built.
  Expected<BatchTables> full =
      exportBatchTables(blocks, seqs, padValue, maxPages);
  if (!full)
    return full.takeStatus();

  const int32_t pageSize = blocks.pageSize();
  std::vector<SequenceView> views;
  views.reserve(seqs.size());
  for (SeqId id : seqs)
    views.push_back(*blocks.sequence(id));

  std::vector<Group> groups;
  const int64_t minShared = static_cast<int64_t>(minSharedPages) * pageSize;
  for (size_t begin = 0; begin < views.size();) {
    Group group = candidateGroup(views, begin, pageSize);
    if (group.end - group.begin > 1 && group.length < minShared) {
      for (size_t i = group.begin; i < group.end; ++i)
        groups.push_back(Group{i, i + 1, 0, 0});
    } else {
      groups.push_back(group);
    }
    begin = group.end;
  }

  CascadeTables tables;
  size_t widest = 1;
  for (const Group &group : groups)
    widest = std::max(widest, group.pages);
  BatchTables &prefix = tables.prefix;
  prefix.batch = static_cast<int32_t>(groups.size());
  prefix.maxPages = static_cast<int32_t>(widest);
  prefix.blockTable.assign(groups.size() * widest, padValue);
  tables.kvStart.resize(views.size());
  tables.groupIndptr.push_back(0);
  for (size_t g = 0; g < groups.size(); ++g) {
    const Group &group = groups[g];
    Span<PageId> shared = views[group.begin].blockTable.slice(0, group.pages);
    std::copy(shared.begin(), shared.end(),
              prefix.blockTable.begin() + g * widest);
    prefix.kvLens.push_back(group.length);
    tables.groupIndptr.push_back(static_cast<int32_t>(group.end));
    tables.sharedRows += group.length;
    for (size_t i = group.begin; i < group.end; ++i) {
      tables.kvStart[i] = group.length;
      tables.unsharedRows += views[i].length() - group.length;
      tables.plainRows += views[i].length();
    }
  }
  tables.full = full.takeValue();
  return tables;
}

} // namespace attnc::kvcache
