//===- Cascade.cpp - Cascade attention: prefix, suffix, merge -------------===//
//
// Runtime::runCascade. The kernel is one compiled variant (attn-cascade)
// launched twice:
//   prefix: batch entry g = group g; its query rows are its members' rows
//           (consecutive in q, so one qo_indptr over groups serves), at
//           the positions they have in their own sequences; its keys the
//           group's shared pages (kv_lens = prefix_lens); cascade_kv_start
//           = -1 (every key; no attention sink). O and LSE go to
//           temporaries.
//   suffix: the batch as given, cascade_kv_start[b] = its group's shared
//           length, so the shared keys are masked and their tiles skipped.
// Both launches give each row the same position, so the score and mask
// regions see what one launch over the whole sequence would show them; the
// merge kernel then combines the two (O, LSE) pairs in place in o / lse.
//
//===----------------------------------------------------------------------===//
#include "runtime/api/Runtime.h"

#include <algorithm>
#include <memory>

using namespace attnc;

namespace {

constexpr const char *kKVStartParam = kCascadeKVStartParam;

Status invalid(const std::string &message) {
  return Status::error(ErrorCode::InvalidInput, message);
}

/// The contents of an i32 tensor on the host (copied from the device).
Status readI32(Backend &backend, const TensorRef &t, const std::string &name,
               std::vector<int32_t> &out) {
  if (t.absent())
    return invalid("missing tensor '" + name + "' for cascade attention");
  if (t.dtype != DType::I32 || !t.rowMajor())
    return invalid(name + " must be a dense i32 tensor, got " + t.describe());
  out.resize(static_cast<size_t>(t.numElements()));
  if (out.empty())
    return Status::success();
  if (t.memory == MemoryKind::Host) {
    std::copy_n(static_cast<const int32_t *>(t.data), out.size(), out.data());
    return Status::success();
  }
  return backend.copyOut(out.data(), t.data, out.size() * sizeof(int32_t));
}

/// A buffer in the backend's memory, released with the last reference.
struct Buffer {
  std::shared_ptr<void> memory;
  TensorRef ref;
};

Expected<Buffer> makeBuffer(Backend &backend, DType dtype,
                            std::vector<int64_t> shape, const std::string &name,
                            const void *hostContents = nullptr) {
  Buffer b;
  b.ref.dtype = dtype;
  b.ref.shape = std::move(shape);
  b.ref.memory = backend.memoryKind();
  size_t bytes = std::max<size_t>(b.ref.bytes(), 16);
  Expected<void *> p = backend.allocate(bytes, name);
  if (!p)
    return p.takeStatus();
  Backend *owner = &backend;
  b.memory = std::shared_ptr<void>(*p, [owner](void *q) { owner->release(q); });
  b.ref.data = *p;
  if (hostContents && b.ref.bytes() > 0)
    if (Status s = backend.copyIn(*p, hostContents, b.ref.bytes()); !s.ok())
      return s;
  return b;
}

} // namespace

Status Runtime::runCascade(const Kernel &kernel, const CascadeTensors &tensors,
                           void *stream, int numSplits, CascadeReport *report) {
  const KernelInfo &info = kernel.info;
  if (!info.qPositions)
    return Status::error(ErrorCode::InvalidArgument,
                         "kernel '" + info.name +
                             "' is not a cascade kernel (compile it with "
                             "attnc --cascade, or the JIT's cascade variant)");
  const AttentionTensors &batch = tensors.batch;
  if (!batch.qPositions.absent())
    return invalid("q_positions is runCascade's to set; leave it out");
  if (batch.params.count(kKVStartParam))
    return invalid(std::string("param '") + kKVStartParam +
                   "' is runCascade's to set; leave it out");
  for (const KernelInfo::Param &param : info.params)
    if (param.name != kKVStartParam &&
        std::count(param.dims.begin(), param.dims.end(),
                   KernelInfo::Param::kBatch))
      return invalid("param '" + param.name +
                     "' has a batch dimension; cascade attention's prefix "
                     "launch runs over groups, not sequences");

  Backend &backend = *backendImpl;
  std::vector<int32_t> qo, lens, table, groups, prefixLens, prefixTable;
  if (Status s = readI32(backend, batch.qoIndptr, "qo_indptr", qo); !s.ok())
    return s;
  if (Status s = readI32(backend, batch.kvLens, "kv_lens", lens); !s.ok())
    return s;
  if (Status s = readI32(backend, batch.blockTable, "block_table", table);
      !s.ok())
    return s;
  if (Status s = readI32(backend, tensors.groupIndptr, "group_indptr", groups);
      !s.ok())
    return s;
  if (Status s =
          readI32(backend, tensors.prefixLens, "prefix_lens", prefixLens);
      !s.ok())
    return s;
  if (Status s = readI32(backend, tensors.prefixBlockTable,
                         "prefix_block_table", prefixTable);
      !s.ok())
    return s;

  // The shapes run() does not see: the groups and their prefixes.
  if (qo.empty() || lens.size() + 1 != qo.size())
    return invalid("qo_indptr and kv_lens disagree on the batch (" +
                   std::to_string(qo.size()) + " and " +
                   std::to_string(lens.size()) + " entries)");
  int64_t numSeqs = static_cast<int64_t>(lens.size());
  if (groups.empty() || groups.front() != 0 || groups.back() != numSeqs)
    return invalid("group_indptr must run from 0 to the batch (" +
                   std::to_string(numSeqs) + ")");
  int64_t numGroups = static_cast<int64_t>(groups.size()) - 1;
  if (static_cast<int64_t>(prefixLens.size()) != numGroups)
    return invalid("prefix_lens has " + std::to_string(prefixLens.size()) +
                   " entries for " + std::to_string(numGroups) + " groups");
  const TensorRef &prefixRef = tensors.prefixBlockTable;
  if (prefixRef.shape.size() != 2 || prefixRef.shape[0] != numGroups)
    return invalid("prefix_block_table has shape " + prefixRef.describe() +
                   ", expected [groups = " + std::to_string(numGroups) +
                   ", max_prefix_pages]");
  if (batch.blockTable.shape.size() != 2)
    return invalid("block_table must be [batch, max_pages]");
  int64_t prefixWidth = prefixRef.shape[1];
  int64_t width = batch.blockTable.shape[1];
  if (static_cast<int64_t>(table.size()) != numSeqs * width)
    return invalid("block_table has shape " + batch.blockTable.describe() +
                   ", expected [batch = " + std::to_string(numSeqs) +
                   ", max_pages]");
  int64_t pageSize = info.pageSize;
  std::vector<int32_t> kvStart(static_cast<size_t>(numSeqs));
  for (int64_t g = 0; g < numGroups; ++g) {
    if (groups[g + 1] < groups[g])
      return invalid("group_indptr decreases at group " + std::to_string(g));
    int64_t shared = prefixLens[g];
    int64_t pages = (shared + pageSize - 1) / pageSize;
    if (shared < 0 || pages > prefixWidth)
      return invalid("prefix_lens[" + std::to_string(g) +
                     "] = " + std::to_string(shared) + " does not fit the " +
                     std::to_string(prefixWidth) +
                     " pages of prefix_block_table's rows");
    for (int64_t b = groups[g]; b < groups[g + 1]; ++b) {
      if (lens[b] < shared)
        return invalid("sequence " + std::to_string(b) + " has " +
                       std::to_string(lens[b]) + " keys, fewer than its " +
                       "group's shared prefix (" + std::to_string(shared) +
                       ")");
      for (int64_t p = 0; p < pages; ++p)
        if (p >= width ||
            table[b * width + p] != prefixTable[g * prefixWidth + p])
          return invalid("sequence " + std::to_string(b) +
                         " does not map its group's prefix page " +
                         std::to_string(p) + " (block_table[" +
                         std::to_string(b) + "][" + std::to_string(p) +
                         "] differs from prefix_block_table[" +
                         std::to_string(g) + "][" + std::to_string(p) + "])");
    }
    // The split between the launches falls on a KV tile boundary: a tile
    // straddling it would be read by both (its copy reads whole tiles).
    int64_t split = shared / info.blockKV * info.blockKV;
    prefixLens[g] = static_cast<int32_t>(split);
    for (int64_t b = groups[g]; b < groups[g + 1]; ++b)
      kvStart[b] = static_cast<int32_t>(split);
  }
  for (int64_t b = 0; b < numSeqs; ++b)
    if (qo[b + 1] < qo[b])
      return invalid("qo_indptr decreases at sequence " + std::to_string(b));

  // Every row's position in its own sequence (bottom-right aligned), and
  // the groups' row offsets.
  int64_t totalQ = qo.back();
  std::vector<int32_t> positions(static_cast<size_t>(totalQ));
  for (int64_t b = 0; b < numSeqs; ++b)
    for (int32_t i = qo[b]; i < qo[b + 1]; ++i)
      positions[i] = lens[b] - (qo[b + 1] - qo[b]) + (i - qo[b]);
  std::vector<int32_t> groupQo(static_cast<size_t>(numGroups + 1));
  for (int64_t g = 0; g <= numGroups; ++g)
    groupQo[g] = qo[groups[g]];
  // The prefix launch's first keys: -1 keeps every key and tells a sink
  // to stay out (the suffix launch counts it).
  std::vector<int32_t> prefixStart(static_cast<size_t>(numGroups), -1);

  if (report) {
    *report = {};
    for (int64_t g = 0; g < numGroups; ++g)
      report->prefixRows += prefixLens[g];
    for (int64_t b = 0; b < numSeqs; ++b) {
      report->suffixRows += lens[b] - kvStart[b];
      report->plainRows += lens[b];
    }
  }

  auto staged = [&](std::vector<int32_t> &host, const std::string &name) {
    return makeBuffer(backend, DType::I32, {static_cast<int64_t>(host.size())},
                      name, host.data());
  };
  Expected<Buffer> positionBuf = staged(positions, "q_positions");
  Expected<Buffer> groupQoBuf = staged(groupQo, "cascade group qo_indptr");
  Expected<Buffer> prefixStartBuf =
      staged(prefixStart, "cascade_kv_start (prefix)");
  Expected<Buffer> startBuf = staged(kvStart, "cascade_kv_start (suffix)");
  Expected<Buffer> prefixLenBuf = staged(prefixLens, "cascade prefix kv_lens");
  Expected<Buffer> oPrefix = makeBuffer(
      backend, batch.q.dtype, {totalQ, info.qHeads, info.valueHeadDim()},
      "cascade prefix O");
  Expected<Buffer> lsePrefix = makeBuffer(
      backend, DType::F32, {totalQ, info.qHeads}, "cascade prefix LSE");
  for (Expected<Buffer> *b : {&positionBuf, &groupQoBuf, &prefixStartBuf,
                              &startBuf, &prefixLenBuf, &oPrefix, &lsePrefix})
    if (!*b)
      return b->takeStatus();

  AttentionTensors prefix = batch;
  prefix.o = oPrefix->ref;
  prefix.lse = lsePrefix->ref;
  prefix.qoIndptr = groupQoBuf->ref;
  prefix.blockTable = tensors.prefixBlockTable;
  prefix.kvLens = prefixLenBuf->ref;
  prefix.qPositions = positionBuf->ref;
  prefix.params[kKVStartParam] = prefixStartBuf->ref;
  if (Status s = run(kernel, prefix, stream, numSplits); !s.ok())
    return s;

  AttentionTensors suffix = batch;
  suffix.qPositions = positionBuf->ref;
  suffix.params[kKVStartParam] = startBuf->ref;
  if (Status s = run(kernel, suffix, stream, numSplits); !s.ok())
    return s;

  if (totalQ > 0) {
    AttnKernelArgs args = {};
    args.qo_indptr = static_cast<const int *>(batch.qoIndptr.data);
    args.batch = static_cast<int>(numSeqs);
    args.o = batch.o.data;
    args.lse = static_cast<float *>(batch.lse.data);
    args.o_prefix = oPrefix->ref.data;
    args.lse_prefix = static_cast<const float *>(lsePrefix->ref.data);
    int64_t slots = totalQ * info.qHeads;
    auto gridX = static_cast<unsigned>((slots + kMergeSlotsPerBlock - 1) /
                                       kMergeSlotsPerBlock);
    if (Status s = kernel.loaded->launchCascadeMerge(args, gridX, stream);
        !s.ok())
      return s;
  }
  // The temporaries are released on return: the work must be done.
  return backend.synchronize(stream);
}
