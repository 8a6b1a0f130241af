//===- CascadeKernelTest.cpp - Cascade attention over the KV manager ------===//
//
// Parallel sampling as the KV manager holds it: forks of a prompt share its
// pages (the partly filled last one until a fork writes into it), a second
// prompt has a fork of its own, one sequence shares nothing. The manager
// exports the groups (exportCascadeTables), Runtime::runCascade runs the
// cascade kernel under sim, and every element is checked against the
// float64 AST reference of attention over the whole sequences through the
// full block tables. Then every input runCascade refuses: each an error
// naming the problem, with nothing written.
//
//===----------------------------------------------------------------------===//
#include "ReferenceCheck.h"
#include "codegen/Compile.h"
#include "runtime/api/Runtime.h"
#include "runtime/kvcache/CascadeTables.h"
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
constexpr int kHeadDim = 32, kPageSize = 4, kQHeads = 4, kKVHeads = 2;

const char *kSpec =
    "attention t {\n  dtype = fp16; head_dim = 32; q_heads = 4; "
    "kv_heads = 2\n  kv_cache = paged(page_size = 4)\n"
    "  score = 30.0 * tanh(score / 30.0)\n"
    "  mask = kv <= q && q - kv < 40\n}\n";

struct Compiled {
  std::string cuda;
  KernelInfo info;
};

Compiled compile(bool cascade) {
  mlir::MLIRContext context;
  PipelineOptions options;
  options.blockQ = 16;
  options.blockKV = 16;
  options.packGQA = true;
  options.splitKV = true;
  options.cascade = cascade;
  std::string error;
  auto module = compileSpecText(context, "t.attn", kSpec, options, error);
  INFO(error);
  REQUIRE(mlir::succeeded(module));
  return Compiled{module->cuda, module->kernels.front()};
}

/// A KV cache whose rows are random fp16 values, with the batch below.
struct Scenario {
  std::unique_ptr<KVCache> cache;
  std::vector<SeqId> ids;
  std::mt19937 rng{11};

  void write(const std::vector<Slot> &slots) {
    auto *k = static_cast<uint16_t *>(cache->storage().keyCache(0));
    auto *v = static_cast<uint16_t *>(cache->storage().valueCache(0));
    std::uniform_real_distribution<float> u(-1, 1);
    for (const Slot &slot : slots) {
      int64_t row = (int64_t(slot.page) * kPageSize + slot.offset) * kKVHeads;
      for (int64_t e = 0; e < kKVHeads * kHeadDim; ++e) {
        k[row * kHeadDim + e] = sim::floatToHalfBits(u(rng));
        v[row * kHeadDim + e] = sim::floatToHalfBits(u(rng));
      }
    }
  }
  SeqId add(int tokens) {
    std::vector<int32_t> prompt;
    for (int i = 0; i < tokens; ++i)
      prompt.push_back(static_cast<int32_t>(rng() % 1000));
    Expected<AddedSequence> s = cache->addSequence(Span<int32_t>(prompt));
    REQUIRE(s);
    write(s->slots);
    return s->id;
  }
  void append(SeqId id, int tokens) {
    std::vector<int32_t> t(tokens, 7);
    Expected<Appended> a = cache->append(id, Span<int32_t>(t));
    REQUIRE(a);
    write(a->slots);
  }
  SeqId fork(SeqId id) {
    Expected<SeqId> child = cache->fork(id);
    REQUIRE(child);
    return *child;
  }
};

std::unique_ptr<KVCache> makeCache() {
  CacheShape shape;
  shape.numPages = 64;
  shape.pageSize = kPageSize;
  shape.kvHeads = kKVHeads;
  shape.headDim = kHeadDim;
  shape.elementType = ElementType::F16;
  KVCacheConfig config;
  config.shape = shape;
  Expected<KVCache> created =
      KVCache::create(config, std::make_unique<HostPageStorage>());
  REQUIRE(created);
  return std::make_unique<KVCache>(created.takeValue());
}
} // namespace

TEST_CASE("cascade attention over the KV manager's shared pages equals "
          "attention over whole sequences",
          "[api][kvcache][sim][cascade]") {
  Scenario sc;
  sc.cache = makeCache();
  // Prompt A: 50 tokens (12.5 pages); three forks, one still sharing the
  // partly filled page, two decoding past it (copy-on-write). Prompt B:
  // 37 tokens and a fork, both a step further. C shares nothing.
  SeqId a = sc.add(50);
  SeqId a1 = sc.fork(a), a2 = sc.fork(a), a3 = sc.fork(a);
  sc.append(a1, 1);
  sc.append(a2, 3);
  SeqId b = sc.add(37);
  SeqId b1 = sc.fork(b);
  sc.append(b, 2);
  sc.append(b1, 1);
  SeqId c = sc.add(29);
  sc.ids = {a, a1, a2, a3, b, b1, c};
  Expected<CascadeTables> tables = exportCascadeTables(
      sc.cache->blockManager(), Span<SeqId>(sc.ids), /*padValue=*/0);
  REQUIRE(tables);
  REQUIRE(tables->groupIndptr == std::vector<int32_t>{0, 4, 6, 7});
  REQUIRE(tables->prefix.kvLens == std::vector<int32_t>{48, 36, 0});

  // Queries: one per sequence, two for a2 (a speculative step) and b.
  std::vector<int32_t> qLens = {1, 1, 2, 1, 2, 1, 1}, qo = {0};
  for (int32_t n : qLens)
    qo.push_back(qo.back() + n);
  int64_t batch = static_cast<int64_t>(qLens.size()), totalQ = qo.back();
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<uint16_t> q;
  for (int64_t i = 0; i < totalQ * kQHeads * kHeadDim; ++i)
    q.push_back(sim::floatToHalfBits(u(sc.rng)));

  RuntimeOptions options;
  options.backend = "sim";
  auto runtime = Runtime::create(options);
  REQUIRE(runtime);
  Compiled compiled = compile(/*cascade=*/true);
  REQUIRE(compiled.info.qPositions);
  auto kernel = (*runtime)->load(compiled.cuda, compiled.info);
  REQUIRE(kernel);

  const CacheShape &shape = sc.cache->shape();
  void *kPool = sc.cache->storage().keyCache(0);
  void *vPool = sc.cache->storage().valueCache(0);
  std::vector<uint16_t> o(totalQ * kQHeads * kHeadDim, 0x7e00);
  std::vector<float> lse(totalQ * kQHeads, NAN);
  CascadeTensors t;
  t.batch.q = hostRef(q.data(), DType::F16, {totalQ, kQHeads, kHeadDim});
  t.batch.o = hostRef(o.data(), DType::F16, {totalQ, kQHeads, kHeadDim});
  t.batch.lse = hostRef(lse.data(), DType::F32, {totalQ, kQHeads});
  t.batch.qoIndptr = hostRef(qo.data(), DType::I32, {batch + 1});
  t.batch.kCache = hostRef(kPool, DType::F16,
                           {shape.numPages, kPageSize, kKVHeads, kHeadDim});
  t.batch.vCache = hostRef(vPool, DType::F16,
                           {shape.numPages, kPageSize, kKVHeads, kHeadDim});
  t.batch.blockTable = hostRef(tables->full.blockTable.data(), DType::I32,
                               {batch, tables->full.maxPages});
  t.batch.kvLens = hostRef(tables->full.kvLens.data(), DType::I32, {batch});
  int64_t groups = static_cast<int64_t>(tables->groupIndptr.size()) - 1;
  t.groupIndptr = hostRef(tables->groupIndptr.data(), DType::I32, {groups + 1});
  t.prefixBlockTable = hostRef(tables->prefix.blockTable.data(), DType::I32,
                               {groups, tables->prefix.maxPages});
  t.prefixLens = hostRef(tables->prefix.kvLens.data(), DType::I32, {groups});

  SECTION("the merged result is the reference's") {
    CascadeReport report;
    Status s = (*runtime)->runCascade(*kernel, t, nullptr, 0, &report);
    INFO(s.toString());
    REQUIRE(s.ok());
    // Split at the 16-key tile: A's 48 shared keys, B's 32 of 36.
    CHECK(report.prefixRows == 48 + 32);
    CHECK(report.plainRows == tables->plainRows);
    CHECK(report.prefixRows + report.suffixRows < report.plainRows);

    AttentionInputs in;
    in.qoIndptr = qo;
    in.q = test::halfTensor(q, {totalQ, kQHeads, kHeadDim});
    int64_t poolElems = shape.numPages * kPageSize * kKVHeads * kHeadDim;
    auto *k16 = static_cast<uint16_t *>(kPool);
    auto *v16 = static_cast<uint16_t *>(vPool);
    in.kCache =
        test::halfTensor(std::vector<uint16_t>(k16, k16 + poolElems),
                         {shape.numPages, kPageSize, kKVHeads, kHeadDim});
    in.vCache =
        test::halfTensor(std::vector<uint16_t>(v16, v16 + poolElems),
                         {shape.numPages, kPageSize, kKVHeads, kHeadDim});
    in.blockTable = tables->full.blockTable;
    in.maxPages = tables->full.maxPages;
    in.kvLens = tables->full.kvLens;
    test::checkAgainstReference(kSpec, in, o, lse);
  }

  SECTION("inputs it cannot serve are errors naming them, nothing written") {
    auto refuses = [&](const CascadeTensors &bad, const std::string &what) {
      Status s = (*runtime)->runCascade(*kernel, bad);
      INFO(s.toString());
      REQUIRE_FALSE(s.ok());
      CHECK_THAT(s.message(), Catch::Contains(what));
      for (uint16_t bits : o)
        REQUIRE(bits == 0x7e00);
    };
    std::vector<int32_t> groups2 = {0, 4, 7};
    CascadeTensors bad = t;
    bad.groupIndptr = hostRef(groups2.data(), DType::I32, {3});
    refuses(bad, "prefix_lens has 3 entries for 2 groups");

    std::vector<int32_t> short1 = {0, 4, 6};
    bad = t;
    bad.groupIndptr = hostRef(short1.data(), DType::I32, {3});
    refuses(bad, "group_indptr must run from 0 to the batch (7)");

    std::vector<int32_t> table = tables->prefix.blockTable;
    table[1] = table[1] + 1; // group 0's page 1
    bad = t;
    bad.prefixBlockTable =
        hostRef(table.data(), DType::I32, {groups, tables->prefix.maxPages});
    refuses(bad, "sequence 0 does not map its group's prefix page 1");

    std::vector<int32_t> lens = tables->prefix.kvLens;
    lens[1] = 40; // B's sequences have 39 and 38 keys
    bad = t;
    bad.prefixLens = hostRef(lens.data(), DType::I32, {groups});
    refuses(bad, "fewer than its group's shared prefix (40)");

    std::vector<int32_t> positions(totalQ, 0);
    bad = t;
    bad.batch.qPositions = hostRef(positions.data(), DType::I32, {totalQ});
    refuses(bad, "q_positions is runCascade's to set");

    Compiled plain = compile(/*cascade=*/false);
    auto plainKernel = (*runtime)->load(plain.cuda, plain.info);
    REQUIRE(plainKernel);
    Status s = (*runtime)->runCascade(*plainKernel, t);
    CHECK_THAT(s.message(), Catch::Contains("is not a cascade kernel"));
    // And run() keeps the two kinds apart.
    s = (*runtime)->run(*kernel, t.batch);
    CHECK_THAT(s.message(), Catch::Contains("missing tensor 'q_positions'"));
    AttentionTensors withPositions = t.batch;
    withPositions.qPositions = hostRef(positions.data(), DType::I32, {totalQ});
    s = (*runtime)->run(*plainKernel, withPositions);
    CHECK_THAT(s.message(), Catch::Contains("tensor 'q_positions' given"));
  }
}
