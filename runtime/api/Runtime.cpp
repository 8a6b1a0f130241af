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

Status Runtime::run(const Kernel &kernel, const AttentionTensors &tensors,
                    void *stream, int numSplits) {
  // run() launches at once: a workspace per stream, reused by later runs on
  // it (launches on one stream are ordered; two streams never share one).
  Expected<LaunchPlan> planned =
      planWith(kernel, tensors, numSplits,
               [&](size_t bytes) -> Expected<std::shared_ptr<void>> {
                 std::lock_guard<std::mutex> lock(mutex);
                 Workspace &w = streamWorkspaces[stream];
                 if (bytes > w.bytes) {
                   w.buffer.reset();
                   w.bytes = 0;
                   Expected<std::shared_ptr<void>> grown =
                       allocateWorkspace(bytes);
                   if (!grown)
                     return grown.takeStatus();
                   w.buffer = grown.takeValue();
                   w.bytes = bytes;
                 }
                 return w.buffer;
               });
  if (!planned)
    return planned.takeStatus();
  return launch(*planned, stream);
}

Status Runtime::launch(const LaunchPlan &plan, void *stream) {
  if (plan.gridX == 0)
    return Status::success(); // no query rows: nothing to compute
  if (!plan.kernel.info.splitKV)
    return plan.kernel.loaded->launch(plan.args, plan.gridX, stream);
  Status launched = plan.kernel.loaded->launch(
      plan.args, plan.gridX * plan.numSplits, stream);
  if (!launched.ok())
    return launched;
  return plan.kernel.loaded->launchMerge(plan.args, plan.mergeGridX, stream);
}

Expected<std::shared_ptr<void>> Runtime::allocateWorkspace(size_t bytes) {
  Expected<void *> p = backendImpl->allocate(bytes, "split-KV workspace");
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

Expected<LaunchPlan> Runtime::planWith(const Kernel &kernel,
                                       const AttentionTensors &tensors,
                                       int numSplits,
                                       const WorkspaceFn &workspaceFor,
                                       const HostIndexData *given) {
  const KernelInfo &info = kernel.info;
  if (numSplits < 0 || numSplits > 1024)
    return Status::error(ErrorCode::InvalidArgument,
                         "numSplits must be in 0..1024, got " +
                             std::to_string(numSplits));
  LaunchPlan plan;
  plan.kernel = kernel;
  HostIndices indices(*backendImpl);
  HostIndexData host;
  std::vector<int32_t> qo, kvIndptr, table, lens;
  std::map<std::string, std::vector<int32_t>> paramStorage;
  if (given) {
    host = *given;
  } else {
    for (Status s : {indices.add(tensors.qoIndptr, qo, host.qoIndptr),
                     indices.add(tensors.kvIndptr, kvIndptr, host.kvIndptr),
                     indices.add(tensors.blockTable, table, host.blockTable),
                     indices.add(tensors.kvLens, lens, host.kvLens)})
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
  if (!info.splitKV)
    return plan;

  // Split-KV: the KV range of every program is cut into numSplits chunks,
  // each writing partial results to the workspace; the merge combines them.
  int64_t maxKV = 0;
  const HostI32 &lengths = info.paged ? host.kvLens : host.kvIndptr;
  for (int64_t b = 0; b < args.batch; ++b)
    maxKV = std::max<int64_t>(maxKV, info.paged ? lengths.data[b]
                                                : lengths.data[b + 1] -
                                                      lengths.data[b]);
  if (numSplits == 0)
    numSplits = chooseSplits(
        info, static_cast<int64_t>(gridX) * info.gridHeads() * args.batch,
        maxKV, backendImpl->multiprocessorCount());
  int64_t slots =
      static_cast<int64_t>(host.qoIndptr.data[args.batch]) * info.qHeads;
  // Per split and slot: two LSE parts and head_dim partial O values.
  size_t planeBytes = numSplits * slots * sizeof(float);
  size_t lseBytes = 2 * planeBytes;
  size_t bytes = lseBytes + planeBytes * info.headDim;
  Expected<std::shared_ptr<void>> workspace = workspaceFor(bytes);
  if (!workspace)
    return workspace.takeStatus();
  plan.workspace = workspace.takeValue();
  plan.numSplits = numSplits;
  args.num_splits = numSplits;
  args.lse_partial = static_cast<float *>(plan.workspace.get());
  args.o_partial = reinterpret_cast<float *>(
      static_cast<char *>(plan.workspace.get()) + lseBytes);
  plan.mergeGridX = static_cast<unsigned>((slots + kMergeSlotsPerBlock - 1) /
                                          kMergeSlotsPerBlock);
  return plan;
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
