//===- CascadeInputs.cpp - Shared prefixes on staged inputs ---------------===//
#include "tune/CascadeInputs.h"

#include <algorithm>

using namespace attnc;

Expected<CascadeLayout> attnc::shareLeadingPages(AttentionInputs &inputs,
                                                 int64_t pageSize,
                                                 int64_t sharedKeys,
                                                 int64_t groupSize) {
  auto invalid = [](const std::string &message) {
    return Status::error(ErrorCode::InvalidArgument, message);
  };
  if (pageSize < 1 || sharedKeys < 0 || groupSize < 0)
    return invalid("shared prefix and group size must not be negative, and "
                   "the cache must be paged");
  int64_t batch = inputs.batch();
  if (groupSize == 0)
    groupSize = std::max<int64_t>(batch, 1);
  CascadeLayout layout;
  layout.sharedPages = sharedKeys / pageSize;
  layout.sharedKeys = layout.sharedPages * pageSize;
  for (int64_t b = 0; b < batch; ++b)
    if (inputs.kvLens[b] < layout.sharedKeys)
      return invalid("a shared prefix of " + std::to_string(sharedKeys) +
                     " keys is longer than sequence " + std::to_string(b) +
                     "'s " + std::to_string(inputs.kvLens[b]));
  layout.prefixWidth = std::max<int64_t>(layout.sharedPages, 1);
  layout.groupIndptr = {0};
  for (int64_t first = 0; first < batch; first += groupSize) {
    int64_t end = std::min(batch, first + groupSize);
    layout.groupIndptr.push_back(static_cast<int32_t>(end));
    bool sharing = end - first > 1 && layout.sharedPages > 0;
    layout.prefixLens.push_back(
        sharing ? static_cast<int32_t>(layout.sharedKeys) : 0);
    for (int64_t p = 0; p < layout.prefixWidth; ++p)
      layout.prefixTable.push_back(
          sharing ? inputs.blockTable[first * inputs.maxPages + p] : 0);
    if (!sharing)
      continue;
    for (int64_t b = first + 1; b < end; ++b)
      for (int64_t p = 0; p < layout.sharedPages; ++p)
        inputs.blockTable[b * inputs.maxPages + p] =
            inputs.blockTable[first * inputs.maxPages + p];
  }
  return layout;
}

Status StagedCascade::stage(const AttentionInputs &inputs,
                            const CascadeLayout &layout, CascadeTensors &out) {
  if (Status s = staged.stage(inputs, out.batch); !s.ok())
    return s;
  int64_t groups = layout.groups();
  struct Table {
    const char *name;
    const std::vector<int32_t> &values;
    std::vector<int64_t> shape;
    TensorRef &ref;
  };
  Table tables[] = {
      {"group_indptr", layout.groupIndptr, {groups + 1}, out.groupIndptr},
      {"prefix_lens", layout.prefixLens, {groups}, out.prefixLens},
      {"prefix_block_table",
       layout.prefixTable,
       {groups, layout.prefixWidth},
       out.prefixBlockTable}};
  for (Table &t : tables) {
    if (Status s = staged.put(t.name, t.values.data(),
                              t.values.size() * sizeof(int32_t), DType::I32,
                              t.shape, backend.memoryKind(), t.ref);
        !s.ok())
      return s;
  }
  return Status::success();
}
