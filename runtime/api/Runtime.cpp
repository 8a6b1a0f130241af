//===- Runtime.cpp - Load generated kernels and launch them ---------------===//
#include "runtime/api/Runtime.h"
#include "runtime/core/Validate.h"
#include "runtime/jit/DiskCache.h"
#include "runtime/jit/HostCompiler.h"

#include <algorithm>

using namespace attnc;

Expected<std::unique_ptr<Runtime>>
Runtime::create(const RuntimeOptions &options) {
  std::string cacheDir =
      options.cacheDir.empty() ? jit::defaultCacheDir() : options.cacheDir;
  if (options.backend == "sim") {
    Expected<std::unique_ptr<Backend>> sim = createSimBackend(cacheDir);
    if (!sim)
      return sim.takeStatus();
    return std::unique_ptr<Runtime>(
        new Runtime(sim.takeValue(), "sim (requested)"));
  }
  if (options.backend != "cuda" && options.backend != "auto")
    return Status::error(ErrorCode::InvalidArgument,
                         "unknown backend '" + options.backend +
                             "'; use auto, cuda or sim");
  Expected<std::unique_ptr<Backend>> cuda =
      createCudaBackend(options.device, cacheDir);
  if (cuda)
    return std::unique_ptr<Runtime>(new Runtime(
        cuda.takeValue(), options.backend == "auto"
                              ? "auto: a CUDA device is present; using cuda"
                              : "cuda (requested)"));
  if (options.backend == "cuda")
    return cuda.takeStatus();
  Expected<std::unique_ptr<Backend>> sim = createSimBackend(cacheDir);
  if (!sim)
    return sim.takeStatus();
  return std::unique_ptr<Runtime>(new Runtime(
      sim.takeValue(), "auto: " + cuda.status().message() + "; using sim"));
}

Expected<Kernel> Runtime::load(const std::string &source,
                               const KernelInfo &info) {
  char key[40];
  std::snprintf(key, sizeof key, "%016llx",
                jit::hashText(source, jit::hashText(backendImpl->cacheTag() +
                                                    "\n" + info.name)));
  std::lock_guard<std::mutex> lock(mutex);
  auto it = loaded.find(key);
  if (it == loaded.end()) {
    Expected<std::unique_ptr<LoadedKernel>> kernel =
        backendImpl->load(source, info);
    if (!kernel)
      return kernel.takeStatus();
    it = loaded.emplace(key, std::shared_ptr<LoadedKernel>(kernel.takeValue()))
             .first;
  }
  return Kernel{info, it->second};
}

Expected<Kernel> Runtime::loadAot(const aot::AotKernel &kernel) {
  std::string arch = backendImpl->architecture();
  for (const aot::Image &image : kernel.images) {
    if (arch.empty() || arch != image.arch)
      continue;
    Expected<std::unique_ptr<LoadedKernel>> loadedImage =
        backendImpl->loadImage(
            std::vector<char>(image.data, image.data + image.size),
            kernel.info);
    if (!loadedImage)
      return loadedImage.takeStatus();
    return Kernel{kernel.info,
                  std::shared_ptr<LoadedKernel>(loadedImage.takeValue())};
  }
  return load(kernel.source, kernel.info);
}

namespace {
/// Host copies of the index tensors the checks and the grid need.
class HostIndices {
public:
  explicit HostIndices(Backend &backend) : backend(backend) {}

  /// A host-readable view of an i32 tensor (copied when on the device).
  Status add(const TensorRef &t, std::vector<int32_t> &storage, HostI32 &view) {
    const int32_t *&data = view.data;
    int64_t &count = view.count;
    data = nullptr;
    count = 0;
    if (t.absent() || t.dtype != DType::I32)
      return Status::success(); // validation names the problem
    count = t.numElements();
    if (t.memory == MemoryKind::Host) {
      data = static_cast<const int32_t *>(t.data);
      return Status::success();
    }
    storage.resize(count);
    Status s = backend.copyOut(storage.data(), t.data, count * sizeof(int32_t));
    data = storage.data();
    return s;
  }

private:
  Backend &backend;
};
} // namespace

namespace {
/// Bytes of a block mask's counts and entries.
size_t maskBytesOf(const BlockMask &mask) {
  return (mask.countElements() + mask.tileElements()) * sizeof(int32_t);
}

/// Puts `mask`'s counts, then its entries, `offset` bytes into `storage`.
void placeMask(BlockMask &mask, std::shared_ptr<void> storage, size_t offset) {
  mask.counts =
      reinterpret_cast<int *>(static_cast<char *>(storage.get()) + offset);
  mask.tiles = mask.counts + mask.countElements();
  mask.storage = std::move(storage);
}

/// An FNV-1a-style hash of an i32 parameter's values, a word at a time.
uint64_t hashValues(const HostI32 &values) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t i = 0; i < values.count; ++i)
    h = (h ^ static_cast<uint32_t>(values.data[i])) * 1099511628211ull;
  return h ^ static_cast<uint64_t>(values.count);
}
} // namespace

void Runtime::describeBlockMask(const Kernel &kernel, const HostIndexData &host,
                                unsigned qTiles, int64_t maxKVLen,
                                bool hashParams, BlockMask &mask) {
  const KernelInfo &info = kernel.info;
  mask.builtBy = kernel.loaded.get();
  mask.kernelName = info.blockMaskName;
  mask.batch =
      host.qoIndptr.count > 0 ? static_cast<int>(host.qoIndptr.count - 1) : 0;
  mask.heads = info.blockMaskHeads;
  mask.qTiles = static_cast<int>(qTiles);
  mask.kvTiles = static_cast<int>((maxKVLen + info.blockKV - 1) / info.blockKV);
  mask.qLens.clear();
  mask.kvLens.clear();
  for (int b = 0; b < mask.batch; ++b) {
    mask.qLens.push_back(host.qoIndptr.data[b + 1] - host.qoIndptr.data[b]);
    mask.kvLens.push_back(info.paged ? host.kvLens.data[b]
                                     : host.kvIndptr.data[b + 1] -
                                           host.kvIndptr.data[b]);
  }
  mask.paramHashes.clear();
  mask.paramsKnown = hashParams;
  if (!hashParams)
    return;
  for (const std::string &name : info.blockMaskParams) {
    auto it = host.params.find(name);
    if (it == host.params.end() || (!it->second.data && it->second.count)) {
      mask.paramsKnown = false; // f32, or not copied to the host
      continue;
    }
    mask.paramHashes[name] = hashValues(it->second);
  }
}

Status Runtime::checkBlockMask(const BlockMask &given,
                               const BlockMask &wanted) {
  auto refuse = [&](const std::string &why) {
    return Status::error(ErrorCode::InvalidInput,
                         "the block mask was built " + why +
                             "; build it again (Runtime::buildBlockMask)");
  };
  if (given.builtBy != wanted.builtBy)
    return refuse("by another kernel (" + given.kernelName + ") than " +
                  wanted.kernelName +
                  "'s: a block mask fits the spec and tiling it was built "
                  "for");
  if (given.batch != wanted.batch)
    return refuse("for " + std::to_string(given.batch) + " sequences, not " +
                  std::to_string(wanted.batch));
  for (int b = 0; b < wanted.batch; ++b)
    if (given.qLens[b] != wanted.qLens[b] ||
        given.kvLens[b] != wanted.kvLens[b])
      return refuse("for other lengths of sequence " + std::to_string(b) +
                    " (q_len " + std::to_string(given.qLens[b]) + ", kv_len " +
                    std::to_string(given.kvLens[b]) + "; this launch has " +
                    std::to_string(wanted.qLens[b]) + " and " +
                    std::to_string(wanted.kvLens[b]) + ")");
  for (const auto &[name, hash] : wanted.paramHashes) {
    auto it = given.paramHashes.find(name);
    if (it != given.paramHashes.end() && it->second != hash)
      return refuse("with other values of param '" + name + "'");
  }
  return Status::success();
}

std::shared_ptr<BlockMask>
Runtime::MaskCache::find(const BlockMask &wanted) const {
  // checkBlockMask compares the params both hashed: a kept mask hashed
  // every param the mask reads, as `wanted` did (both paramsKnown).
  for (const std::shared_ptr<BlockMask> &mask : masks)
    if (checkBlockMask(*mask, wanted).ok())
      return mask;
  return nullptr;
}

void Runtime::MaskCache::keep(std::shared_ptr<BlockMask> mask) {
  // One mask per kernel: the one for the latest lengths and params.
  const LoadedKernel *kernel = mask->builtBy;
  masks.erase(std::remove_if(masks.begin(), masks.end(),
                             [&](const std::shared_ptr<BlockMask> &m) {
                               return m->builtBy == kernel;
                             }),
              masks.end());
  masks.push_back(std::move(mask));
}

Status Runtime::run(const Kernel &kernel, const AttentionTensors &tensors,
                    void *stream, int numSplits) {
  // run() launches at once: a workspace per stream, reused by later runs on
  // it (launches on one stream are ordered; two streams never share one),
  // and the block masks it built on that stream, reused while they fit.
  MaskCache *cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    cache = &streamWorkspaces[stream].masks;
  }
  Expected<LaunchPlan> planned = planWith(
      kernel, tensors, numSplits,
      [&](size_t bytes) -> Expected<std::shared_ptr<void>> {
        std::lock_guard<std::mutex> lock(mutex);
        Workspace &w = streamWorkspaces[stream];
        if (bytes > w.bytes) {
          w.buffer.reset();
          w.bytes = 0;
          Expected<std::shared_ptr<void>> grown = allocateWorkspace(bytes);
          if (!grown)
            return grown.takeStatus();
          w.buffer = grown.takeValue();
          w.bytes = bytes;
        }
        return w.buffer;
      },
      nullptr, /*forMaskBuild=*/false, cache);
  if (!planned)
    return planned.takeStatus();
  return launch(*planned, stream);
}

Status Runtime::launch(const LaunchPlan &plan, void *stream) {
  if (plan.gridX == 0)
    return Status::success(); // no query rows: nothing to compute
  if (plan.buildsBlockMask)
    if (Status s =
            plan.kernel.loaded->launchBlockMask(plan.args, plan.gridX, stream);
        !s.ok())
      return s;
  if (!plan.kernel.info.splitKV)
    return plan.kernel.loaded->launch(plan.args, plan.gridX, stream);
  Status launched = plan.kernel.loaded->launch(
      plan.args, plan.gridX * plan.numSplits, stream);
  if (!launched.ok())
    return launched;
  return plan.kernel.loaded->launchMerge(plan.args, plan.mergeGridX, stream);
}

Expected<std::shared_ptr<void>> Runtime::allocateWorkspace(size_t bytes) {
  Expected<void *> p = backendImpl->allocate(
      bytes, "workspace (split-KV partial results, block mask)");
  if (!p)
    return p.takeStatus();
  Backend *owner = backendImpl.get();
  return std::shared_ptr<void>(*p, [owner](void *q) { owner->release(q); });
}

Expected<LaunchPlan> Runtime::plan(const Kernel &kernel,
                                   const AttentionTensors &tensors,
                                   int numSplits) {
  // A plan may be launched on any stream, concurrently with others: it owns
  // its workspace.
  return planWith(kernel, tensors, numSplits,
                  [&](size_t bytes) { return allocateWorkspace(bytes); });
}

Expected<LaunchPlan> Runtime::plan(const Kernel &kernel,
                                   const AttentionTensors &tensors,
                                   const HostIndexData &host, int numSplits) {
  return planWith(
      kernel, tensors, numSplits,
      [&](size_t bytes) { return allocateWorkspace(bytes); }, &host);
}

Expected<LaunchPlan>
Runtime::planWith(const Kernel &kernel, const AttentionTensors &tensors,
                  int numSplits, const WorkspaceFn &workspaceFor,
                  const HostIndexData *given, bool forMaskBuild,
                  MaskCache *maskCache) {
  const KernelInfo &info = kernel.info;
  if (numSplits < 0 || numSplits > 1024)
    return Status::error(ErrorCode::InvalidArgument,
                         "numSplits must be in 0..1024, got " +
                             std::to_string(numSplits));
  LaunchPlan plan;
  plan.kernel = kernel;
  HostIndices indices(*backendImpl);
  HostIndexData host;
  std::vector<int32_t> qo, kvIndptr, table, lens, positions;
  std::map<std::string, std::vector<int32_t>> paramStorage;
  if (given) {
    host = *given;
  } else {
    for (Status s :
         {indices.add(tensors.qoIndptr, qo, host.qoIndptr),
          indices.add(tensors.kvIndptr, kvIndptr, host.kvIndptr),
          indices.add(tensors.blockTable, table, host.blockTable),
          indices.add(tensors.kvLens, lens, host.kvLens),
          indices.add(tensors.qPositions, positions, host.qPositions)})
      if (!s.ok())
        return s;
    for (const KernelInfo::Param &param : info.params) {
      auto it = tensors.params.find(param.name);
      if (it == tensors.params.end() || param.isFloat)
        continue;
      HostI32 view;
      Status s = indices.add(it->second, paramStorage[param.name], view);
      if (!s.ok())
        return s;
      host.params[param.name] = view;
    }
  }
  Status valid = validateAttentionInputs(info, tensors, host);
  if (!valid.ok())
    return valid;
  for (const TensorRef *t : {&tensors.q, &tensors.o, &tensors.lse})
    if (t->memory != backendImpl->memoryKind())
      return Status::error(
          ErrorCode::InvalidInput,
          std::string("tensors must be in ") +
              (backendImpl->memoryKind() == MemoryKind::Host ? "host"
                                                             : "device") +
              " memory for the " + backendImpl->name() + " backend");

  AttnKernelArgs &args = plan.args;
  args.q = tensors.q.data;
  args.o = tensors.o.data;
  args.lse = static_cast<float *>(tensors.lse.data);
  args.qo_indptr = static_cast<const int *>(tensors.qoIndptr.data);
  args.batch = static_cast<int>(host.qoIndptr.count - 1);
  args.q_positions = static_cast<const int *>(tensors.qPositions.data);
  if (info.paged) {
    args.k_cache = tensors.kCache.data;
    args.v_cache = tensors.vCache.data;
    args.block_table = static_cast<const int *>(tensors.blockTable.data);
    args.kv_lens = static_cast<const int *>(tensors.kvLens.data);
    args.max_pages = static_cast<int>(tensors.blockTable.shape[1]);
    args.page_rows = static_cast<int>(pageRows(info, tensors));
  } else {
    args.k = tensors.k.data;
    args.v = tensors.v.data;
    args.kv_indptr = static_cast<const int *>(tensors.kvIndptr.data);
  }
  for (size_t i = 0; i < info.params.size(); ++i) {
    const TensorRef &t = tensors.params.at(info.params[i].name);
    args.params[i] = t.data;
    for (size_t d = 0; d < t.shape.size() && d < AttnKernelArgs::kMaxParamRank;
         ++d)
      args.param_dims[i][d] = static_cast<int>(t.shape[d]);
  }

  int64_t maxQ = 0;
  for (int64_t b = 0; b + 1 < host.qoIndptr.count; ++b)
    maxQ = std::max<int64_t>(maxQ,
                             host.qoIndptr.data[b + 1] - host.qoIndptr.data[b]);
  if (args.batch == 0 || maxQ == 0)
    return plan; // no query rows: nothing to compute
  int64_t rowsPerBlock = info.queryRowsPerBlock();
  unsigned gridX =
      static_cast<unsigned>((maxQ + rowsPerBlock - 1) / rowsPerBlock);
  plan.gridX = gridX;
  int64_t maxKV = 0;
  const HostI32 &lengths = info.paged ? host.kvLens : host.kvIndptr;
  for (int64_t b = 0; b < args.batch; ++b)
    maxKV = std::max<int64_t>(maxKV, info.paged ? lengths.data[b]
                                                : lengths.data[b + 1] -
                                                      lengths.data[b]);
  // The block mask this launch reads: the caller's, checked against these
  // lengths and parameters, or the plan's own (built by launch()).
  std::shared_ptr<BlockMask> workspaceMask;
  if (info.hasBlockMask()) {
    auto wanted = std::make_shared<BlockMask>();
    // Hashing the mask's params costs a pass over them: only for a mask
    // that is checked, kept, or may be reused.
    int64_t paramElements = 0;
    for (const std::string &name : info.blockMaskParams)
      if (auto it = host.params.find(name); it != host.params.end())
        paramElements += it->second.count;
    bool reusable = maskCache && paramElements <= kMaxCachedMaskParamElements;
    describeBlockMask(kernel, host, gridX, maxKV,
                      tensors.blockMask || forMaskBuild || reusable, *wanted);
    // run() keeps the mask it builds, and reuses one it kept, where every
    // param the mask reads was hashed.
    const bool keep = !tensors.blockMask && reusable && wanted->paramsKnown;
    std::shared_ptr<BlockMask> cached;
    if (keep) {
      std::lock_guard<std::mutex> lock(mutex);
      cached = maskCache->find(*wanted);
    }
    if (tensors.blockMask) {
      if (Status s = checkBlockMask(*tensors.blockMask, *wanted); !s.ok())
        return s;
      // The caller keeps its mask alive while plans use it.
      plan.blockMask = std::shared_ptr<const BlockMask>(
          std::shared_ptr<const BlockMask>(), tensors.blockMask);
    } else if (cached) {
      plan.blockMask = cached;
    } else {
      plan.blockMask = wanted;
      plan.buildsBlockMask = true;
      ++blockMaskBuildCount;
      if (keep) {
        // In memory of its own, which no later workspace reuses.
        Expected<std::shared_ptr<void>> storage = allocateWorkspace(
            std::max<size_t>(maskBytesOf(*wanted), sizeof(int32_t)));
        if (!storage)
          return storage.takeStatus();
        placeMask(*wanted, storage.takeValue(), 0);
        std::lock_guard<std::mutex> lock(mutex);
        maskCache->keep(wanted);
      } else {
        workspaceMask = std::move(wanted); // placed in the workspace below
      }
    }
  }
  size_t maskBytes = workspaceMask ? maskBytesOf(*workspaceMask) : 0;
  auto pointArgsAtMask = [&] {
    if (!plan.blockMask)
      return;
    args.block_counts = plan.blockMask->counts;
    args.block_tiles = plan.blockMask->tiles;
    args.block_q_tiles = plan.blockMask->qTiles;
    args.block_kv_tiles = plan.blockMask->kvTiles;
  };
  if (!info.splitKV) {
    if (workspaceMask) {
      Expected<std::shared_ptr<void>> workspace = workspaceFor(maskBytes);
      if (!workspace)
        return workspace.takeStatus();
      plan.workspace = workspace.takeValue();
      placeMask(*workspaceMask, plan.workspace, 0);
    }
    pointArgsAtMask();
    return plan;
  }

  // Split-KV: the KV range of every program is cut into numSplits chunks,
  // each writing partial results to the workspace; the merge combines them.
  if (numSplits == 0)
    numSplits = chooseSplits(
        info, static_cast<int64_t>(gridX) * info.gridHeads() * args.batch,
        maxKV, backendImpl->multiprocessorCount());
  int64_t slots =
      static_cast<int64_t>(host.qoIndptr.data[args.batch]) * info.qHeads;
  // Per split and slot: two LSE parts and head_dim partial O values.
  size_t planeBytes = numSplits * slots * sizeof(float);
  size_t lseBytes = 2 * planeBytes;
  size_t splitBytes = lseBytes + planeBytes * info.valueHeadDim();
  Expected<std::shared_ptr<void>> workspace =
      workspaceFor(splitBytes + maskBytes);
  if (!workspace)
    return workspace.takeStatus();
  plan.workspace = workspace.takeValue();
  if (workspaceMask)
    placeMask(*workspaceMask, plan.workspace, splitBytes);
  pointArgsAtMask();
  plan.numSplits = numSplits;
  args.num_splits = numSplits;
  args.lse_partial = static_cast<float *>(plan.workspace.get());
  args.o_partial = reinterpret_cast<float *>(
      static_cast<char *>(plan.workspace.get()) + lseBytes);
  plan.mergeGridX = static_cast<unsigned>((slots + kMergeSlotsPerBlock - 1) /
                                          kMergeSlotsPerBlock);
  return plan;
}

Expected<std::shared_ptr<const BlockMask>>
Runtime::buildBlockMask(const Kernel &kernel, const AttentionTensors &tensors,
                        void *stream) {
  if (!kernel.info.hasBlockMask())
    return Status::error(ErrorCode::InvalidArgument,
                         "kernel " + kernel.info.name +
                             " has no runtime block mask: its mask is "
                             "bounded by the compiler (attnc --remarks)");
  AttentionTensors own = tensors;
  own.blockMask = nullptr;
  // A plan of one split with its own mask, in memory of its own: launch
  // only its pre-pass.
  Expected<LaunchPlan> planned = planWith(
      kernel, own, 1, [&](size_t bytes) { return allocateWorkspace(bytes); },
      nullptr, /*forMaskBuild=*/true);
  if (!planned)
    return planned.takeStatus();
  if (!planned->blockMask) {
    // No query rows: an empty mask, which fits only these lengths.
    auto empty = std::make_shared<BlockMask>();
    HostIndexData host = hostIndexDataOf(tensors);
    describeBlockMask(kernel, host, 0, 0, true, *empty);
    return std::shared_ptr<const BlockMask>(std::move(empty));
  }
  if (Status s =
          kernel.loaded->launchBlockMask(planned->args, planned->gridX, stream);
      !s.ok())
    return s;
  return planned->blockMask;
}

Status Runtime::readBlockMask(const BlockMask &mask,
                              std::vector<int32_t> &counts,
                              std::vector<int32_t> &tiles) {
  counts.assign(mask.countElements(), 0);
  tiles.assign(mask.tileElements(), 0);
  if (!counts.empty())
    if (Status s = backendImpl->copyOut(counts.data(), mask.counts,
                                        counts.size() * sizeof(int32_t));
        !s.ok())
      return s;
  if (!tiles.empty())
    return backendImpl->copyOut(tiles.data(), mask.tiles,
                                tiles.size() * sizeof(int32_t));
  return Status::success();
}

int Runtime::chooseSplits(const KernelInfo &info, int64_t programs,
                          int64_t maxKVLen, int multiprocessors) {
  int64_t kvTiles = (maxKVLen + info.blockKV - 1) / info.blockKV;
  int64_t wanted =
      programs > 0 ? (2 * multiprocessors + programs - 1) / programs : 1;
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({wanted, 16, kvTiles})));
}

Runtime::~Runtime() {
  // Workspaces are released through the backend: before it goes. Plans
  // must not outlive the runtime.
  streamWorkspaces.clear();
}
