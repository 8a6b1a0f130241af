//===- PagedCacheKernelTest.cpp - Attention over the managed KV cache -----===//
//
// Sequences built by the KV-cache manager (a prompt, forks sharing its
// pages, appends that copy-on-write the shared last page) are attended by
// the paged kernel under sim, through the block tables the manager exports.
// The same sequences laid out densely go through the dense kernel of the
// same spec. Both are checked element by element against the float64 AST
// reference of the logical histories (so a wrong page, a lost
// copy-on-write or a wrong table shows as a wrong value), and, same tiles
// and same arithmetic, against each other: O and LSE must be identical.
//
//===----------------------------------------------------------------------===//
#include "ReferenceCheck.h"
#include "codegen/Compile.h"
#include "runtime/api/Runtime.h"
#include "runtime/kvcache/HostPageStorage.h"
#include "runtime/kvcache/KVCache.h"
#include "runtime/sim/HalfTypes.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace attnc;
using attnc::test::hostRef;
using namespace attnc::kvcache;

namespace {
constexpr int kHeadDim = 32, kPageSize = 4, kQHeads = 2, kQLen = 2;

struct Compiled {
  std::string cuda;
  KernelInfo info;
};

std::string specText(const std::string &kvCache) {
  return "attention t {\n  dtype = fp16; head_dim = 32; q_heads = 2; "
         "kv_heads = 1\n  kv_cache = " +
         kvCache + "\n  mask = kv <= q\n}\n";
}

Compiled compile(const std::string &kvCache) {
  mlir::MLIRContext context;
  PipelineOptions options;
  options.blockQ = 16;
  options.blockKV = 16;
  std::string error;
  auto module =
      compileSpecText(context, "t.attn", specText(kvCache), options, error);
  INFO(error);
  REQUIRE(mlir::succeeded(module));
  return Compiled{module->cuda, module->kernels.front()};
}

/// The K (or V) row of `token` at `position`: what a model would have
/// computed for it, here a hash turned into values in [-1, 1].
std::vector<uint16_t> kvRow(int32_t token, int position, bool value) {
  std::mt19937 rng(static_cast<unsigned>(token * 7919 + position * 31 + value));
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<uint16_t> row;
  for (int d = 0; d < kHeadDim; ++d)
    row.push_back(sim::floatToHalfBits(u(rng)));
  return row;
}

} // namespace

TEST_CASE("attention over a managed paged cache equals attention over the "
          "same sequences laid out densely",
          "[api][kvcache][sim]") {
  CacheShape shape;
  shape.numPages = 24;
  shape.pageSize = kPageSize;
  shape.kvHeads = 1;
  shape.headDim = kHeadDim;
  shape.elementType = ElementType::F16;
  KVCacheConfig config;
  config.shape = shape;
  Expected<KVCache> created =
      KVCache::create(config, std::make_unique<HostPageStorage>());
  REQUIRE(created);
  KVCache &cache = *created;
  auto *kPool = static_cast<uint16_t *>(cache.storage().keyCache(0));
  auto *vPool = static_cast<uint16_t *>(cache.storage().valueCache(0));

  std::vector<std::vector<int32_t>> histories;
  auto write = [&](const std::vector<Slot> &slots,
                   const std::vector<int32_t> &tokens, int firstPosition) {
    for (size_t i = 0; i < slots.size(); ++i) {
      int64_t row =
          static_cast<int64_t>(slots[i].page) * kPageSize + slots[i].offset;
      auto k = kvRow(tokens[i], firstPosition + static_cast<int>(i), false);
      auto v = kvRow(tokens[i], firstPosition + static_cast<int>(i), true);
      std::copy(k.begin(), k.end(), kPool + row * kHeadDim);
      std::copy(v.begin(), v.end(), vPool + row * kHeadDim);
    }
  };
  auto append = [&](SeqId id, size_t seq, std::vector<int32_t> tokens) {
    Expected<Appended> a = cache.append(id, Span<int32_t>(tokens));
    REQUIRE(a);
    write(a->slots, tokens, static_cast<int>(histories[seq].size()));
    histories[seq].insert(histories[seq].end(), tokens.begin(), tokens.end());
    return a->copy.has_value();
  };

  // A 10-token prompt (2.5 pages), two forks, then appends: each child's
  // first append copies the shared, partly filled last page.
  std::vector<int32_t> prompt = {5, 9, 2, 7, 1, 8, 3, 3, 6, 4};
  Expected<AddedSequence> parent = cache.addSequence(Span<int32_t>(prompt));
  REQUIRE(parent);
  REQUIRE(parent->reusedTokens == 0);
  histories.push_back({});
  write(parent->slots, prompt, 0);
  histories[0] = prompt;
  Expected<SeqId> c1 = cache.fork(parent->id);
  Expected<SeqId> c2 = cache.fork(parent->id);
  REQUIRE(c1);
  REQUIRE(c2);
  histories.push_back(prompt);
  histories.push_back(prompt);
  bool copied = append(*c1, 1, {11, 12, 13});
  copied |= append(*c2, 2, {21, 22, 23, 24, 25, 26});
  copied |= append(parent->id, 0, {31, 32});
  CHECK(copied); // copy-on-write happened
  CHECK(cache.stats().sharedPages > 0);

  std::vector<SeqId> ids = {parent->id, *c1, *c2};
  Expected<BatchTables> tables =
      cache.exportBatchTables(Span<SeqId>(ids), /*padValue=*/0);
  REQUIRE(tables);

  // Queries: the last kQLen positions of each sequence.
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1, 1);
  int batch = static_cast<int>(ids.size());
  std::vector<uint16_t> q;
  std::vector<int32_t> qo = {0};
  for (int b = 0; b < batch; ++b) {
    for (int i = 0; i < kQLen * kQHeads * kHeadDim; ++i)
      q.push_back(sim::floatToHalfBits(u(rng)));
    qo.push_back(qo.back() + kQLen);
  }
  int64_t totalQ = qo.back();

  RuntimeOptions options;
  options.backend = "sim";
  auto runtime = Runtime::create(options);
  REQUIRE(runtime);

  auto runWith = [&](AttentionTensors t, const Compiled &c,
                     std::vector<uint16_t> &o, std::vector<float> &lse) {
    o.assign(totalQ * kQHeads * kHeadDim, 0x7e00);
    lse.assign(totalQ * kQHeads, NAN);
    t.q = hostRef(q.data(), DType::F16, {totalQ, kQHeads, kHeadDim});
    t.o = hostRef(o.data(), DType::F16, {totalQ, kQHeads, kHeadDim});
    t.lse = hostRef(lse.data(), DType::F32, {totalQ, kQHeads});
    t.qoIndptr = hostRef(qo.data(), DType::I32, {batch + 1});
    auto kernel = (*runtime)->load(c.cuda, c.info);
    REQUIRE(kernel);
    Status s = (*runtime)->run(*kernel, t);
    INFO(s.toString());
    REQUIRE(s.ok());
  };

  // Paged: the manager's pool and tables.
  AttentionTensors paged;
  paged.kCache =
      hostRef(kPool, DType::F16, {shape.numPages, kPageSize, 1, kHeadDim});
  paged.vCache =
      hostRef(vPool, DType::F16, {shape.numPages, kPageSize, 1, kHeadDim});
  paged.blockTable =
      hostRef(tables->blockTable.data(), DType::I32, {batch, tables->maxPages});
  paged.kvLens = hostRef(tables->kvLens.data(), DType::I32, {batch});
  std::vector<uint16_t> oPaged;
  std::vector<float> lsePaged;
  runWith(paged, compile("paged(page_size = 4)"), oPaged, lsePaged);
  AttentionInputs pagedRef;
  pagedRef.qoIndptr = qo;
  pagedRef.q = test::halfTensor(q, {totalQ, kQHeads, kHeadDim});
  std::vector<uint16_t> kPoolCopy(kPool, kPool + shape.numPages * kPageSize *
                                                     kHeadDim),
      vPoolCopy(vPool, vPool + shape.numPages * kPageSize * kHeadDim);
  pagedRef.kCache =
      test::halfTensor(kPoolCopy, {shape.numPages, kPageSize, 1, kHeadDim});
  pagedRef.vCache =
      test::halfTensor(vPoolCopy, {shape.numPages, kPageSize, 1, kHeadDim});
  pagedRef.blockTable = tables->blockTable;
  pagedRef.maxPages = tables->maxPages;
  pagedRef.kvLens = tables->kvLens;
  {
    INFO("paged kernel against the reference over the manager's pool");
    test::checkAgainstReference(specText("paged(page_size = 4)"), pagedRef,
                                oPaged, lsePaged);
  }

  // Dense: the logical histories, row after row.
  std::vector<uint16_t> k, v;
  std::vector<int32_t> kvIndptr = {0};
  for (const std::vector<int32_t> &history : histories) {
    for (size_t pos = 0; pos < history.size(); ++pos) {
      auto kr = kvRow(history[pos], static_cast<int>(pos), false);
      auto vr = kvRow(history[pos], static_cast<int>(pos), true);
      k.insert(k.end(), kr.begin(), kr.end());
      v.insert(v.end(), vr.begin(), vr.end());
    }
    kvIndptr.push_back(kvIndptr.back() + static_cast<int32_t>(history.size()));
    CHECK(tables->kvLens[kvIndptr.size() - 2] ==
          static_cast<int32_t>(history.size()));
  }
  AttentionTensors dense;
  int64_t totalKV = kvIndptr.back();
  dense.k = hostRef(k.data(), DType::F16, {totalKV, 1, kHeadDim});
  dense.v = hostRef(v.data(), DType::F16, {totalKV, 1, kHeadDim});
  dense.kvIndptr = hostRef(kvIndptr.data(), DType::I32, {batch + 1});
  std::vector<uint16_t> oDense;
  std::vector<float> lseDense;
  runWith(dense, compile("dense"), oDense, lseDense);
  // The reference of the logical histories: what the manager's pages and
  // tables must hold.
  AttentionInputs denseRef;
  denseRef.qoIndptr = qo;
  denseRef.q = test::halfTensor(q, {totalQ, kQHeads, kHeadDim});
  denseRef.kvIndptr = kvIndptr;
  denseRef.k = test::halfTensor(k, {totalKV, 1, kHeadDim});
  denseRef.v = test::halfTensor(v, {totalKV, 1, kHeadDim});
  {
    INFO("dense kernel against the reference of the histories");
    test::checkAgainstReference(specText("dense"), denseRef, oDense, lseDense);
  }
  {
    INFO("paged kernel against the reference of the histories");
    test::checkAgainstReference(specText("dense"), denseRef, oPaged, lsePaged);
  }

  REQUIRE(oPaged.size() == oDense.size());
  for (size_t i = 0; i < oPaged.size(); ++i) {
    INFO("o[" << i << "]");
    REQUIRE(std::isfinite(sim::halfBitsToFloat(oPaged[i])));
    REQUIRE(oPaged[i] == oDense[i]);
  }
  for (size_t i = 0; i < lsePaged.size(); ++i)
    REQUIRE(lsePaged[i] == lseDense[i]);
}
