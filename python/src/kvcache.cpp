//===- kvcache.cpp - The paged KV-cache manager for Python ----------------===//
//
// attnc._C.KVCache: runtime/kvcache's KVCache (block manager + page
// storage) on host memory (sim) or on a CUDA device. Its page storage is
// handed to Python as DLPack tensors over the cache's own memory, which
// keep the cache alive; block tables and kv_lens come back as int32 arrays.
//
//===----------------------------------------------------------------------===//
#include "errors.h"

#include "runtime/cuda/CudaDevice.h"
#include "runtime/cuda/CudaPageStorage.h"
#include "runtime/kvcache/CascadeTables.h"
#include "runtime/kvcache/HostPageStorage.h"
#include "runtime/kvcache/KVCache.h"

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <optional>

namespace nb = nanobind;
using namespace attnc::kvcache;

namespace attnc::python {

namespace {

/// An int32 vector handed to Python as an array that owns it.
nb::ndarray<nb::numpy, int32_t> int32Array(std::vector<int32_t> values,
                                           std::vector<size_t> shape) {
  auto *owned = new std::vector<int32_t>(std::move(values));
  nb::capsule free(owned, [](void *p) noexcept {
    delete static_cast<std::vector<int32_t> *>(p);
  });
  return nb::ndarray<nb::numpy, int32_t>(owned->data(), shape.size(),
                                         shape.data(), free);
}

/// Token ids from Python: a sequence of ints.
std::vector<int32_t> tokensOf(const std::vector<int64_t> &tokens) {
  std::vector<int32_t> out;
  out.reserve(tokens.size());
  for (int64_t t : tokens) {
    if (t < INT32_MIN || t > INT32_MAX)
      throw nb::value_error(
          ("token id " + std::to_string(t) + " does not fit in int32").c_str());
    out.push_back(static_cast<int32_t>(t));
  }
  return out;
}

/// The DLPack type of a cache element. The fp8 codes are DLPack's
/// kDLFloat8_e4m3fn (10) and kDLFloat8_e5m2 (12), spelled as numbers so that
/// nanobind releases older than their dtype_code names compile; torch maps
/// them to torch.float8_e4m3fn / torch.float8_e5m2.
nb::dlpack::dtype dlpackType(ElementType type) {
  switch (type) {
  case ElementType::F16:
    return {uint8_t(nb::dlpack::dtype_code::Float), 16, 1};
  case ElementType::BF16:
    return {uint8_t(nb::dlpack::dtype_code::Bfloat), 16, 1};
  case ElementType::E4M3:
    return {uint8_t(10), 8, 1};
  case ElementType::E5M2:
    return {uint8_t(12), 8, 1};
  }
  throw nb::value_error("unknown KV-cache element type");
}

class PyKVCache {
public:
  PyKVCache(int32_t numPages, int32_t pageSize, int32_t kvHeads,
            int32_t headDim, int32_t numLayers, const std::string &dtype,
            bool prefixCache, int device) {
    std::optional<ElementType> type = parseElementType(dtype);
    if (!type)
      throw nb::value_error(
          ("dtype must be one of 'fp16', 'bf16', 'e4m3' (float8_e4m3fn) or "
           "'e5m2' (float8_e5m2), got '" +
           dtype + "'")
              .c_str());
    KVCacheConfig config;
    config.shape = {numPages, pageSize, kvHeads, headDim, numLayers, *type};
    config.enablePrefixCache = prefixCache;
    std::unique_ptr<PageStorage> storage;
    if (device < 0) {
      storage = std::make_unique<HostPageStorage>();
    } else {
      cudaDevice = valueOr(cuda::CudaDevice::open(device));
      storage = std::make_unique<cuda::CudaPageStorage>(*cudaDevice);
    }
    cache.emplace(valueOr(KVCache::create(config, std::move(storage))));
    deviceIndex = device;
  }

  /// (id, reused tokens, flat slots of the tokens to write).
  std::tuple<SeqId, int32_t, nb::ndarray<nb::numpy, int32_t>>
  addSequence(const std::vector<int64_t> &prompt) {
    std::vector<int32_t> tokens = tokensOf(prompt);
    AddedSequence added = valueOr(cache->addSequence(tokens));
    std::vector<int32_t> slots = slotMapping(added.slots, pageSize());
    size_t n = slots.size();
    return {added.id, added.reusedTokens, int32Array(std::move(slots), {n})};
  }

  nb::ndarray<nb::numpy, int32_t> append(SeqId id,
                                         const std::vector<int64_t> &tokens) {
    std::vector<int32_t> ids = tokensOf(tokens);
    Appended appended = valueOr(cache->append(id, ids));
    std::vector<int32_t> slots = slotMapping(appended.slots, pageSize());
    size_t n = slots.size();
    return int32Array(std::move(slots), {n});
  }

  SeqId fork(SeqId id) { return valueOr(cache->fork(id)); }
  void free(SeqId id) { check(cache->freeSequence(id)); }

  std::tuple<nb::ndarray<nb::numpy, int32_t>, nb::ndarray<nb::numpy, int32_t>>
  blockTables(const std::vector<SeqId> &seqs, int32_t padValue,
              int32_t maxPages) {
    BatchTables t = valueOr(cache->exportBatchTables(seqs, padValue, maxPages));
    size_t batch = static_cast<size_t>(t.batch);
    size_t width = static_cast<size_t>(t.maxPages);
    return {int32Array(std::move(t.blockTable), {batch, width}),
            int32Array(std::move(t.kvLens), {batch})};
  }

  /// exportCascadeTables: (group_indptr, prefix_block_table, prefix_lens,
  /// block_table, kv_lens) and the key rows (shared, own, plain).
  nb::tuple cascadeTables(const std::vector<SeqId> &seqs, int32_t padValue,
                          int32_t minSharedPages) {
    CascadeTables t = valueOr(exportCascadeTables(cache->blockManager(), seqs,
                                                  padValue, minSharedPages));
    size_t groups = t.groupIndptr.size() - 1;
    size_t batch = static_cast<size_t>(t.full.batch);
    return nb::make_tuple(
        int32Array(std::move(t.groupIndptr), {groups + 1}),
        int32Array(std::move(t.prefix.blockTable),
                   {groups, static_cast<size_t>(t.prefix.maxPages)}),
        int32Array(std::move(t.prefix.kvLens), {groups}),
        int32Array(std::move(t.full.blockTable),
                   {batch, static_cast<size_t>(t.full.maxPages)}),
        int32Array(std::move(t.full.kvLens), {batch}),
        nb::make_tuple(t.sharedRows, t.unsharedRows, t.plainRows));
  }

  /// Layer `layer`'s k_cache (which 0) or v_cache (1) as a tensor over the
  /// pool, keeping `self` alive.
  nb::object pages(nb::handle self, int32_t layer, int which) {
    const CacheShape &s = cache->shape();
    if (layer < 0 || layer >= s.numLayers)
      throw nb::index_error(("layer " + std::to_string(layer) +
                             " is not in [0, " + std::to_string(s.numLayers) +
                             ")")
                                .c_str());
    void *data = which == 0 ? cache->storage().keyCache(layer)
                            : cache->storage().valueCache(layer);
    size_t shape[4] = {size_t(s.numPages), size_t(s.pageSize),
                       size_t(s.kvHeads), size_t(s.headDim)};
    nb::dlpack::dtype dtype = dlpackType(s.elementType);
    int deviceType =
        deviceIndex < 0 ? nb::device::cpu::value : nb::device::cuda::value;
    nb::ndarray<nb::pytorch> tensor(data, 4, shape, self, nullptr, dtype,
                                    deviceType,
                                    deviceIndex < 0 ? 0 : deviceIndex);
    return nb::cast(tensor, nb::rv_policy::reference);
  }

  std::tuple<std::vector<int32_t>, std::vector<int32_t>> sequence(SeqId id) {
    SequenceView view = valueOr(cache->blockManager().sequence(id));
    return {
        std::vector<int32_t>(view.tokens.begin(), view.tokens.end()),
        std::vector<int32_t>(view.blockTable.begin(), view.blockTable.end())};
  }

  nb::dict stats() const {
    CacheStats s = cache->stats();
    nb::dict d;
    d["page_size"] = s.pageSize;
    d["total_pages"] = s.totalPages;
    d["free_pages"] = s.freePages;
    d["used_pages"] = s.usedPages;
    d["shared_pages"] = s.sharedPages;
    d["cached_pages"] = s.cachedPages;
    d["registered_pages"] = s.registeredPages;
    d["sequences"] = s.sequences;
    d["tokens"] = s.tokens;
    d["unshared_pages"] = s.unsharedPages;
    d["wasted_slots"] = s.wastedSlots;
    d["prefix_hit_tokens"] = s.prefixHitTokens;
    d["copy_on_writes"] = s.copyOnWrites;
    d["evictions"] = s.evictions;
    d["bytes_per_page"] = s.bytesPerPage;
    d["sharing_saving"] = s.sharingSaving();
    d["waste_fraction"] = s.wasteFraction();
    return d;
  }

  void synchronize() { check(cache->storage().synchronize()); }
  void verify() const { check(cache->blockManager().verify()); }
  std::vector<SeqId> sequenceIds() const {
    return cache->blockManager().sequenceIds();
  }
  bool contains(SeqId id) const { return cache->blockManager().contains(id); }
  int32_t pageSize() const { return cache->shape().pageSize; }
  const CacheShape &shape() const { return cache->shape(); }
  int device() const { return deviceIndex; }

private:
  // Declared first: the storage refers to it, so it must go last.
  std::unique_ptr<cuda::CudaDevice> cudaDevice;
  std::optional<KVCache> cache;
  int deviceIndex = -1;
};

} // namespace

void bindKVCache(nb::module_ &m) {
  nb::class_<PyKVCache>(m, "KVCache",
                        "runtime/kvcache's KVCache (attnc._C); "
                        "attnc.KVCache wraps it.")
      .def(nb::init<int32_t, int32_t, int32_t, int32_t, int32_t,
                    const std::string &, bool, int>(),
           nb::arg("num_pages"), nb::arg("page_size"), nb::arg("kv_heads"),
           nb::arg("head_dim"), nb::arg("num_layers"), nb::arg("dtype"),
           nb::arg("prefix_cache"), nb::arg("device"))
      .def("add_sequence", &PyKVCache::addSequence, nb::arg("prompt"))
      .def("append", &PyKVCache::append, nb::arg("seq_id"), nb::arg("tokens"))
      .def("fork", &PyKVCache::fork, nb::arg("seq_id"))
      .def("free", &PyKVCache::free, nb::arg("seq_id"))
      .def("block_tables", &PyKVCache::blockTables, nb::arg("seq_ids"),
           nb::arg("pad_value"), nb::arg("max_pages"))
      .def("cascade_tables", &PyKVCache::cascadeTables, nb::arg("seq_ids"),
           nb::arg("pad_value"), nb::arg("min_shared_pages"))
      .def(
          "key_cache",
          [](nb::handle self, int32_t layer) {
            return nb::cast<PyKVCache &>(self).pages(self, layer, 0);
          },
          nb::arg("layer"))
      .def(
          "value_cache",
          [](nb::handle self, int32_t layer) {
            return nb::cast<PyKVCache &>(self).pages(self, layer, 1);
          },
          nb::arg("layer"))
      .def("sequence", &PyKVCache::sequence, nb::arg("seq_id"))
      .def("stats", &PyKVCache::stats)
      .def("synchronize", &PyKVCache::synchronize)
      .def("verify", &PyKVCache::verify)
      .def("sequence_ids", &PyKVCache::sequenceIds)
      .def("__contains__", &PyKVCache::contains)
      .def_prop_ro("num_pages",
                   [](const PyKVCache &c) { return c.shape().numPages; })
      .def_prop_ro("page_size", &PyKVCache::pageSize)
      .def_prop_ro("kv_heads",
                   [](const PyKVCache &c) { return c.shape().kvHeads; })
      .def_prop_ro("head_dim",
                   [](const PyKVCache &c) { return c.shape().headDim; })
      .def_prop_ro("num_layers",
                   [](const PyKVCache &c) { return c.shape().numLayers; })
      .def_prop_ro("device", &PyKVCache::device);
}

} // namespace attnc::python
