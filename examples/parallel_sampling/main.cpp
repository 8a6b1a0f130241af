//===- main.cpp - Parallel sampling over the paged KV cache ---------------===//
//
// One prompt is prefilled once; n samples are forked from it and each decodes
// its own tokens. Forked samples share every prompt page, and the one partly
// filled prompt page is copied on the first write of each sample but the
// last. The program prints, per (prompt length, n, steps) setting, the pages
// used with sharing against the pages the same sequences need without it,
// and the waste (allocated slots holding no token).
//
// A second table does the same for a synthetic beam search: every step each
// of the W beams forks into two candidates, each candidate appends a token,
// and W random survivors are kept (the rest freed), so beams share the
// pages of their common ancestors, not only the prompt's.
//
// The shape is Llama-3-8B's attention (bf16, 8 KV heads of 128, 16-token
// pages), one layer: every figure scales with the layer count alike, so the
// ratios are the model's. K/V rows are really written through the returned
// slots and read back through the block tables at the end.
//
// Usage: parallel_sampling [--page-size N]
//
//===----------------------------------------------------------------------===//

#include "runtime/kvcache/HostPageStorage.h"
#include "runtime/kvcache/KVCache.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

using namespace attnc::kvcache;

namespace {

struct Setting {
  int32_t promptLength;
  int32_t samples;
  int32_t steps;
};

/// The K/V "row" of a token: any value derived from (token, position, K or
/// V, head, dim); what matters is that it reads back.
uint16_t rowValue(int32_t token, int64_t pos, int which, int64_t element) {
  uint64_t x = uint64_t(uint32_t(token)) * 0x9e3779b97f4a7c15ull ^
               uint64_t(pos) << 20 ^ uint64_t(which) << 40 ^ uint64_t(element);
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  return static_cast<uint16_t>((x >> 17) & 0x7fff);
}

void writeRows(KVCache &cache, const std::vector<Slot> &slots,
               Span<int32_t> tokens, int64_t firstPos) {
  const CacheShape &shape = cache.shape();
  auto *keys = static_cast<uint16_t *>(cache.storage().keyCache(0));
  auto *values = static_cast<uint16_t *>(cache.storage().valueCache(0));
  for (size_t i = 0; i < slots.size(); ++i) {
    int64_t row = slots[i].flat(shape.pageSize) * shape.rowElements();
    for (int64_t e = 0; e < shape.rowElements(); ++e) {
      keys[row + e] = rowValue(tokens[i], firstPos + i, 0, e);
      values[row + e] = rowValue(tokens[i], firstPos + i, 1, e);
    }
  }
}

/// Reads every sample back through exported block tables, as a kernel
/// would, and compares with its token history.
bool readBack(KVCache &cache, const std::vector<SeqId> &ids,
              const std::vector<std::vector<int32_t>> &histories) {
  const CacheShape &shape = cache.shape();
  Expected<BatchTables> tables = cache.exportBatchTables(ids, /*padValue=*/0);
  if (!tables)
    return false;
  auto *keys = static_cast<const uint16_t *>(cache.storage().keyCache(0));
  auto *values = static_cast<const uint16_t *>(cache.storage().valueCache(0));
  for (int32_t b = 0; b < tables->batch; ++b) {
    const int32_t *row = tables->blockTable.data() + b * tables->maxPages;
    for (int64_t pos = 0; pos < tables->kvLens[b]; ++pos) {
      int64_t slot = int64_t(row[pos / shape.pageSize]) * shape.pageSize +
                     pos % shape.pageSize;
      for (int64_t e = 0; e < shape.rowElements(); ++e) {
        int32_t token = histories[b][pos];
        if (keys[slot * shape.rowElements() + e] !=
                rowValue(token, pos, 0, e) ||
            values[slot * shape.rowElements() + e] !=
                rowValue(token, pos, 1, e))
          return false;
      }
    }
  }
  return true;
}

void fail(const Status &status) {
  std::fprintf(stderr, "error: %s\n", status.toString().c_str());
  std::exit(1);
}

template <typename T> T orFail(Expected<T> value) {
  if (!value)
    fail(value.status());
  return value.takeValue();
}

/// A cache with room for `numPages` pages of `baseShape`.
KVCache makeCache(const CacheShape &baseShape, int32_t numPages) {
  CacheShape shape = baseShape;
  shape.numPages = numPages;
  KVCacheConfig config;
  config.shape = shape;
  return orFail(KVCache::create(config, std::make_unique<HostPageStorage>()));
}

/// A sequence whose K/V are written as its tokens are appended.
struct Sample {
  SeqId id;
  std::vector<int32_t> tokens;
};

void appendToken(KVCache &cache, Sample &sample, int32_t token) {
  Appended appended = orFail(cache.append(sample.id, {token}));
  writeRows(cache, appended.slots, {token}, sample.tokens.size());
  sample.tokens.push_back(token);
}

Sample prefill(KVCache &cache, const std::vector<int32_t> &prompt) {
  AddedSequence added = orFail(cache.addSequence(prompt));
  // Rows of a prefix found in the cache are already there; write the rest.
  writeRows(cache, added.slots,
            Span<int32_t>(prompt).dropFront(added.reusedTokens),
            added.reusedTokens);
  return Sample{added.id, prompt};
}

void printRow(const Setting &setting, const CacheStats &stats, bool intact) {
  const double mib = 1024.0 * 1024.0;
  // Without sharing every sequence holds its own pages, each with its own
  // partly filled last page.
  int64_t unsharedSlots = stats.unsharedPages * stats.pageSize;
  double unsharedWaste =
      unsharedSlots ? 100.0 * (unsharedSlots - stats.tokens) / unsharedSlots
                    : 0.0;
  std::printf("%6d %4d %6d | %6d %8lld | %7.1f %8.1f | %5.1f%% | %5.2f%% "
              "%5.2f%% | %5lld | %s\n",
              setting.promptLength, setting.samples, setting.steps,
              stats.usedPages, static_cast<long long>(stats.unsharedPages),
              stats.usedBytes() / mib, stats.unsharedBytes() / mib,
              100.0 * stats.sharingSaving(), 100.0 * stats.wasteFraction(),
              unsharedWaste, static_cast<long long>(stats.copyOnWrites),
              intact ? "ok" : "MISMATCH");
}

bool readBackAll(KVCache &cache, const std::vector<Sample> &samples) {
  std::vector<SeqId> ids;
  std::vector<std::vector<int32_t>> histories;
  for (const Sample &sample : samples) {
    ids.push_back(sample.id);
    histories.push_back(sample.tokens);
  }
  return readBack(cache, ids, histories);
}

std::vector<int32_t> randomPrompt(std::mt19937 &rng, int32_t length) {
  std::uniform_int_distribution<int32_t> vocabulary(0, 128255);
  std::vector<int32_t> prompt(length);
  for (int32_t &token : prompt)
    token = vocabulary(rng);
  return prompt;
}

/// One prompt, n samples forked from it, `steps` tokens decoded by each.
bool runSampling(const Setting &setting, const CacheShape &shape) {
  const int32_t p = shape.pageSize;
  // The shared layout: the prompt once, each sample's own pages and its copy
  // of the partial prompt page; plus a few spare.
  KVCache cache = makeCache(
      shape, (setting.promptLength + p - 1) / p +
                 setting.samples * ((setting.steps + p - 1) / p + 2) + 4);
  std::mt19937 rng(1234 + setting.promptLength);
  std::uniform_int_distribution<int32_t> vocabulary(0, 128255);

  // The prompt's sequence is sample 0; the others are forks of it.
  std::vector<Sample> samples = {
      prefill(cache, randomPrompt(rng, setting.promptLength))};
  for (int32_t s = 1; s < setting.samples; ++s)
    samples.push_back(
        Sample{orFail(cache.fork(samples[0].id)), samples[0].tokens});

  std::vector<SeqId> ids;
  for (const Sample &sample : samples)
    ids.push_back(sample.id);
  for (int32_t step = 0; step < setting.steps; ++step) {
    for (Sample &sample : samples)
      appendToken(cache, sample, vocabulary(rng));
    // What a decode step hands the attention kernel.
    orFail(cache.exportBatchTables(ids, /*padValue=*/0));
  }
  bool intact = readBackAll(cache, samples);
  printRow(setting, cache.stats(), intact);
  return intact;
}

/// Beam search of width W = setting.samples with random survivors.
bool runBeamSearch(const Setting &setting, const CacheShape &shape) {
  const int32_t p = shape.pageSize;
  const int32_t width = setting.samples;
  // At most 2W live candidates, each with at most its whole length unshared.
  KVCache cache = makeCache(
      shape, 2 * width * ((setting.promptLength + setting.steps) / p + 2));
  std::mt19937 rng(4321 + setting.promptLength);
  std::uniform_int_distribution<int32_t> vocabulary(0, 128255);

  std::vector<Sample> beams = {
      prefill(cache, randomPrompt(rng, setting.promptLength))};
  for (int32_t step = 0; step < setting.steps; ++step) {
    std::vector<Sample> candidates;
    for (Sample &beam : beams) {
      Sample other{orFail(cache.fork(beam.id)), beam.tokens};
      candidates.push_back(beam);
      candidates.push_back(other);
    }
    for (Sample &candidate : candidates)
      appendToken(cache, candidate, vocabulary(rng));
    // Keep W random candidates (the scores of a real model decide which).
    std::shuffle(candidates.begin(), candidates.end(), rng);
    size_t keep = std::min<size_t>(width, candidates.size());
    for (size_t c = keep; c < candidates.size(); ++c)
      if (Status status = cache.freeSequence(candidates[c].id); !status.ok())
        fail(status);
    candidates.resize(keep);
    beams = std::move(candidates);
  }
  bool intact = readBackAll(cache, beams);
  printRow(setting, cache.stats(), intact);
  return intact;
}

void printHeader(const char *title, const char *n) {
  std::printf("\n%s\n", title);
  std::printf("prompt %4s  steps |  pages    pages |     MiB      MiB | "
              "saving |  waste  waste |   CoW | read\n",
              n);
  std::printf("                   | shared unshared |  shared unshared | "
              "       | shared unshr. | pages | back\n");
}

} // namespace

int main(int argc, char **argv) {
  CacheShape shape;
  shape.pageSize = 16;
  shape.kvHeads = 8;
  shape.headDim = 128;
  shape.numLayers = 1;
  shape.elementType = ElementType::BF16;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--page-size") == 0 && i + 1 < argc) {
      shape.pageSize = std::atoi(argv[++i]);
      if (shape.pageSize <= 0) {
        std::fprintf(stderr, "error: --page-size must be positive\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--page-size N]\n", argv[0]);
      return 2;
    }
  }

  std::printf("paged KV cache: %s, %d KV heads x %d, page size %d, 1 layer "
              "(%.0f KiB per page; a model's figures are these times its "
              "layer count)\n",
              elementTypeName(shape.elementType), shape.kvHeads, shape.headDim,
              shape.pageSize, shape.bytesPerPage() / 1024.0);
  int failures = 0;
  printHeader("parallel sampling: one prompt, n samples", "n");
  const Setting sampling[] = {
      {500, 4, 100},   {500, 8, 250}, {1000, 2, 50}, {1000, 6, 300},
      {1999, 16, 250}, {130, 8, 500}, {37, 4, 1000}, {4000, 32, 63},
  };
  for (const Setting &setting : sampling)
    failures += !runSampling(setting, shape);
  printHeader("beam search (synthetic: random survivors), width W", "W");
  const Setting beams[] = {
      {500, 4, 100},
      {500, 6, 250},
      {130, 4, 500},
      {1999, 8, 250},
  };
  for (const Setting &setting : beams)
    failures += !runBeamSearch(setting, shape);
  return failures ? 1 : 0;
}
