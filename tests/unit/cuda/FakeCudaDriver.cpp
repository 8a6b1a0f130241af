//===- FakeCudaDriver.cpp - A stand-in libcuda over host memory -----------===//
//
// See FakeCuda.h. Exports the driver entry points under the names a real
// libcuda.so.1 exports them (cuda.h's macros give the versioned ones, e.g.
// cuMemAlloc_v2) plus cuGetProcAddress_v2, so the loader takes the same
// paths as with a real driver. Errors are the ones a real driver returns
// for the same misuse.
//
//===----------------------------------------------------------------------===//

#include "FakeCuda.h"

#include <cuda.h>
#include <elf.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace {

constexpr int kMaxDevices = 8;

struct Context {
  int device = 0;
};

struct Function {
  std::string name;
  int maxDynamicShared = 0;
};

struct Module {
  std::string image;
  bool isElf = false;
  std::map<std::string, std::unique_ptr<Function>> functions;
};

struct Stream {};

struct Event {
  bool recorded = false;
  std::chrono::steady_clock::time_point when;
};

struct State {
  std::mutex mutex;
  AttncFakeCudaConfig config;
  AttncFakeCudaStats stats;
  bool initialized = false;
  Context contexts[kMaxDevices];
  int contextRefs[kMaxDevices] = {};
  std::map<uintptr_t, size_t> allocations;
  std::set<Stream *> streams;
  std::set<Event *> events;
  std::set<Module *> modules;
  std::set<Function *> functions;
  std::set<const void *> launchedQueries;

  State() {
    for (int i = 0; i < kMaxDevices; ++i)
      contexts[i].device = i;
  }
};

State &state() {
  static State s;
  return s;
}

thread_local Context *current = nullptr;

using Lock = std::lock_guard<std::mutex>;

CUresult requireInit(State &s) {
  return s.initialized ? CUDA_SUCCESS : CUDA_ERROR_NOT_INITIALIZED;
}

CUresult requireContext(State &s) {
  if (!s.initialized)
    return CUDA_ERROR_NOT_INITIALIZED;
  if (!current || s.contextRefs[current->device] <= 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  return CUDA_SUCCESS;
}

/// True when [ptr, ptr + bytes) lies inside one live allocation.
bool inAllocation(State &s, CUdeviceptr ptr, size_t bytes) {
  auto it = s.allocations.upper_bound(static_cast<uintptr_t>(ptr));
  if (it == s.allocations.begin())
    return false;
  --it;
  uintptr_t begin = it->first, end = it->first + it->second;
  return ptr >= begin && ptr <= end && bytes <= end - ptr;
}

bool validStream(State &s, CUstream stream) {
  return !stream || s.streams.count(reinterpret_cast<Stream *>(stream));
}

/// Bytes of a cubin: the end of its furthest header table or section.
size_t elfSize(const unsigned char *image) {
  Elf64_Ehdr header;
  std::memcpy(&header, image, sizeof(header));
  size_t size = sizeof(header);
  size = std::max<size_t>(size,
                          header.e_shoff + static_cast<size_t>(header.e_shnum) *
                                               header.e_shentsize);
  size = std::max<size_t>(size,
                          header.e_phoff + static_cast<size_t>(header.e_phnum) *
                                               header.e_phentsize);
  for (int i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr section;
    std::memcpy(&section, image + header.e_shoff + i * header.e_shentsize,
                sizeof(section));
    if (section.sh_type != SHT_NOBITS)
      size = std::max<size_t>(size, section.sh_offset + section.sh_size);
  }
  return size;
}

/// The SM number (e.g. 90) a cubin was built for. ELF ABI version 8 moved
/// it from the low byte of e_flags to the next one.
int cubinArch(const unsigned char *image) {
  Elf64_Ehdr header;
  std::memcpy(&header, image, sizeof(header));
  if (image[EI_ABIVERSION] >= 8)
    return (header.e_flags >> 8) & 0xff;
  return header.e_flags & 0xff;
}

} // namespace

extern "C" {

__attribute__((visibility("default"))) void
attncFakeCudaReset(const AttncFakeCudaConfig *config) {
  State &s = state();
  Lock lock(s.mutex);
  s.config = config ? *config : AttncFakeCudaConfig();
  s.stats = AttncFakeCudaStats();
  s.launchedQueries.clear();
  s.initialized = false;
  for (int &refs : s.contextRefs)
    refs = 0;
  for (auto &[ptr, bytes] : s.allocations)
    std::free(reinterpret_cast<void *>(ptr));
  s.allocations.clear();
  for (Stream *stream : s.streams)
    delete stream;
  s.streams.clear();
  for (Event *event : s.events)
    delete event;
  s.events.clear();
  for (Module *module : s.modules)
    delete module;
  s.modules.clear();
  s.functions.clear();
}

__attribute__((visibility("default"))) void
attncFakeCudaStats(AttncFakeCudaStats *stats) {
  State &s = state();
  Lock lock(s.mutex);
  *stats = s.stats;
  stats->primaryContextRefs = 0;
  for (int refs : s.contextRefs)
    stats->primaryContextRefs += refs;
  stats->liveAllocations = static_cast<int>(s.allocations.size());
  stats->liveStreams = static_cast<int>(s.streams.size());
  stats->liveEvents = static_cast<int>(s.events.size());
  stats->liveModules = static_cast<int>(s.modules.size());
}

/// The errors the fake returns, with the driver's name and message.
struct ErrorText {
  CUresult code;
  const char *name, *text;
};
constexpr ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED",
     "initialization error"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT",
     "invalid device context"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "no kernel image is available for execution on the device"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE",
     "device kernel image is invalid"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE",
     "invalid resource handle"},
};

/// Sets *pStr to `error`'s name or message, as the driver does; unknown
/// codes give null and CUDA_ERROR_INVALID_VALUE.
static CUresult describeError(CUresult error, const char **pStr, bool name) {
  for (const ErrorText &e : kErrors)
    if (e.code == error) {
      *pStr = name ? e.name : e.text;
      return CUDA_SUCCESS;
    }
  *pStr = nullptr;
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuGetErrorName(CUresult error, const char **pStr) {
  return describeError(error, pStr, true);
}

CUresult CUDAAPI cuGetErrorString(CUresult error, const char **pStr) {
  return describeError(error, pStr, false);
}

CUresult CUDAAPI cuInit(unsigned int) {
  State &s = state();
  Lock lock(s.mutex);
  ++s.stats.initCalls;
  if (s.config.initResult != CUDA_SUCCESS)
    return static_cast<CUresult>(s.config.initResult);
  s.initialized = true;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDriverGetVersion(int *driverVersion) {
  *driverVersion = CUDA_VERSION;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetCount(int *count) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireInit(s))
    return r;
  *count = s.config.deviceCount;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGet(CUdevice *device, int ordinal) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireInit(s))
    return r;
  if (ordinal < 0 || ordinal >= s.config.deviceCount || ordinal >= kMaxDevices)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetName(char *name, int len, CUdevice dev) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireInit(s))
    return r;
  if (dev < 0 || dev >= s.config.deviceCount || len <= 0)
    return CUDA_ERROR_INVALID_VALUE;
  std::string text = "attnc fake device " + std::to_string(dev);
  std::strncpy(name, text.c_str(), len);
  name[len - 1] = '\0';
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib,
                                      CUdevice dev) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireInit(s))
    return r;
  if (dev < 0 || dev >= s.config.deviceCount)
    return CUDA_ERROR_INVALID_DEVICE;
  switch (attrib) {
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *pi = s.config.ccMajor;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *pi = s.config.ccMinor;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *pi = s.config.smCount;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK:
    *pi = 48 * 1024;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *pi = s.config.sharedOptin;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE:
    *pi = s.config.l2Bytes;
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult CUDAAPI cuDeviceTotalMem(size_t *bytes, CUdevice dev) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireInit(s))
    return r;
  if (dev < 0 || dev >= s.config.deviceCount)
    return CUDA_ERROR_INVALID_DEVICE;
  *bytes = s.config.memoryBytes;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireInit(s))
    return r;
  if (dev < 0 || dev >= s.config.deviceCount || dev >= kMaxDevices)
    return CUDA_ERROR_INVALID_DEVICE;
  ++s.contextRefs[dev];
  *pctx = reinterpret_cast<CUcontext>(&s.contexts[dev]);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireInit(s))
    return r;
  if (dev < 0 || dev >= s.config.deviceCount || dev >= kMaxDevices)
    return CUDA_ERROR_INVALID_DEVICE;
  if (s.contextRefs[dev] <= 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  --s.contextRefs[dev];
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSetCurrent(CUcontext ctx) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireInit(s))
    return r;
  auto *context = reinterpret_cast<Context *>(ctx);
  if (context && (context < s.contexts || context >= s.contexts + kMaxDevices ||
                  s.contextRefs[context->device] <= 0))
    return CUDA_ERROR_INVALID_CONTEXT;
  current = context;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAlloc(CUdeviceptr *dptr, size_t bytesize) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  if (bytesize == 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (bytesize > s.config.memoryBytes - s.stats.liveBytes)
    return CUDA_ERROR_OUT_OF_MEMORY;
  void *memory = std::aligned_alloc(256, (bytesize + 255) / 256 * 256);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  s.allocations[reinterpret_cast<uintptr_t>(memory)] = bytesize;
  s.stats.liveBytes += bytesize;
  *dptr = reinterpret_cast<CUdeviceptr>(memory);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemFree(CUdeviceptr dptr) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto it = s.allocations.find(static_cast<uintptr_t>(dptr));
  if (it == s.allocations.end())
    return CUDA_ERROR_INVALID_VALUE;
  s.stats.liveBytes -= it->second;
  std::free(reinterpret_cast<void *>(it->first));
  s.allocations.erase(it);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyHtoD(CUdeviceptr dstDevice, const void *srcHost,
                              size_t ByteCount) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  if (!inAllocation(s, dstDevice, ByteCount) || !srcHost)
    return CUDA_ERROR_INVALID_VALUE;
  std::memcpy(reinterpret_cast<void *>(dstDevice), srcHost, ByteCount);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoH(void *dstHost, CUdeviceptr srcDevice,
                              size_t ByteCount) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  if (!inAllocation(s, srcDevice, ByteCount) || !dstHost)
    return CUDA_ERROR_INVALID_VALUE;
  std::memcpy(dstHost, reinterpret_cast<const void *>(srcDevice), ByteCount);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoD(CUdeviceptr dstDevice, CUdeviceptr srcDevice,
                              size_t ByteCount) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  if (!inAllocation(s, dstDevice, ByteCount) ||
      !inAllocation(s, srcDevice, ByteCount))
    return CUDA_ERROR_INVALID_VALUE;
  std::memmove(reinterpret_cast<void *>(dstDevice),
               reinterpret_cast<const void *>(srcDevice), ByteCount);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoDAsync(CUdeviceptr dstDevice, CUdeviceptr srcDevice,
                                   size_t ByteCount, CUstream hStream) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  if (!validStream(s, hStream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (!inAllocation(s, dstDevice, ByteCount) ||
      !inAllocation(s, srcDevice, ByteCount))
    return CUDA_ERROR_INVALID_VALUE;
  // The fake has no queue: the copy is done by the time it returns.
  std::memmove(reinterpret_cast<void *>(dstDevice),
               reinterpret_cast<const void *>(srcDevice), ByteCount);
  ++s.stats.asyncCopies;
  s.stats.lastAsyncCopyStream = hStream;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD8(CUdeviceptr dstDevice, unsigned char uc, size_t N) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  if (!inAllocation(s, dstDevice, N))
    return CUDA_ERROR_INVALID_VALUE;
  std::memset(reinterpret_cast<void *>(dstDevice), uc, N);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleLoadData(CUmodule *module, const void *image) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  if (!image)
    return CUDA_ERROR_INVALID_VALUE;
  const auto *bytes = static_cast<const unsigned char *>(image);
  auto loaded = std::make_unique<Module>();
  if (std::memcmp(bytes, ELFMAG, SELFMAG) == 0) {
    Elf64_Ehdr header;
    std::memcpy(&header, bytes, sizeof(header));
    if (bytes[EI_CLASS] != ELFCLASS64 || header.e_machine != EM_CUDA)
      return CUDA_ERROR_INVALID_IMAGE;
    // A cubin runs on the major version it was built for, at the same or a
    // higher minor version.
    int arch = cubinArch(bytes);
    if (arch / 10 != s.config.ccMajor || arch % 10 > s.config.ccMinor)
      return CUDA_ERROR_NO_BINARY_FOR_GPU;
    loaded->isElf = true;
    loaded->image.assign(reinterpret_cast<const char *>(bytes), elfSize(bytes));
  } else {
    loaded->image = static_cast<const char *>(image);
    if (loaded->image.find(".version") == std::string::npos ||
        loaded->image.find(".target") == std::string::npos)
      return CUDA_ERROR_INVALID_IMAGE;
  }
  *module = reinterpret_cast<CUmodule>(loaded.get());
  s.modules.insert(loaded.release());
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleUnload(CUmodule hmod) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *module = reinterpret_cast<Module *>(hmod);
  if (!s.modules.erase(module))
    return CUDA_ERROR_INVALID_HANDLE;
  for (auto &[name, fn] : module->functions)
    s.functions.erase(fn.get());
  delete module;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod,
                                     const char *name) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *module = reinterpret_cast<Module *>(hmod);
  if (!s.modules.count(module) || !name)
    return CUDA_ERROR_INVALID_HANDLE;
  auto found = module->functions.find(name);
  if (found == module->functions.end()) {
    // A cubin names its kernels in a NUL-separated string table; PTX in an
    // .entry directive.
    std::string needle = module->isElf ? std::string(1, '\0') + name + '\0'
                                       : std::string(".entry ") + name + "(";
    if (module->image.find(needle) == std::string::npos)
      return CUDA_ERROR_NOT_FOUND;
    auto fn = std::make_unique<Function>();
    fn->name = name;
    s.functions.insert(fn.get());
    found = module->functions.emplace(name, std::move(fn)).first;
  }
  *hfunc = reinterpret_cast<CUfunction>(found->second.get());
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncSetAttribute(CUfunction hfunc,
                                    CUfunction_attribute attrib, int value) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *fn = reinterpret_cast<Function *>(hfunc);
  if (!s.functions.count(fn))
    return CUDA_ERROR_INVALID_HANDLE;
  if (attrib == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    if (value < 0 || value > s.config.sharedOptin)
      return CUDA_ERROR_INVALID_VALUE;
    fn->maxDynamicShared = value;
  }
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX,
                                unsigned int gridDimY, unsigned int gridDimZ,
                                unsigned int blockDimX, unsigned int blockDimY,
                                unsigned int blockDimZ,
                                unsigned int sharedMemBytes, CUstream hStream,
                                void **kernelParams, void **extra) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *fn = reinterpret_cast<Function *>(f);
  if (!s.functions.count(fn) || !validStream(s, hStream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (!gridDimX || !gridDimY || !gridDimZ || gridDimY > 65535 ||
      gridDimZ > 65535 || gridDimX > 0x7fffffffu)
    return CUDA_ERROR_INVALID_VALUE;
  unsigned long long threads = 1ull * blockDimX * blockDimY * blockDimZ;
  if (threads == 0 || threads > 1024)
    return CUDA_ERROR_INVALID_VALUE;
  if (sharedMemBytes >
      static_cast<unsigned>(std::max(48 * 1024, fn->maxDynamicShared)))
    return CUDA_ERROR_INVALID_VALUE;
  if (!kernelParams || !kernelParams[0] || extra)
    return CUDA_ERROR_INVALID_VALUE;
  AttncFakeCudaStats &st = s.stats;
  ++st.launches;
  st.grid[0] = gridDimX;
  st.grid[1] = gridDimY;
  st.grid[2] = gridDimZ;
  st.block[0] = blockDimX;
  st.block[1] = blockDimY;
  st.block[2] = blockDimZ;
  st.sharedBytes = sharedMemBytes;
  st.stream = hStream;
  std::strncpy(st.function, fn->name.c_str(), sizeof(st.function) - 1);
  st.maxDynamicShared = fn->maxDynamicShared;
  std::memcpy(&st.args, kernelParams[0], sizeof(st.args));
  s.launchedQueries.insert(st.args.q);
  st.distinctQueryTensors = static_cast<int>(s.launchedQueries.size());
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamCreate(CUstream *phStream, unsigned int) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *stream = new Stream();
  s.streams.insert(stream);
  *phStream = reinterpret_cast<CUstream>(stream);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamDestroy(CUstream hStream) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *stream = reinterpret_cast<Stream *>(hStream);
  if (!s.streams.erase(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  delete stream;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamSynchronize(CUstream hStream) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  return validStream(s, hStream) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult CUDAAPI cuEventCreate(CUevent *phEvent, unsigned int) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *event = new Event();
  s.events.insert(event);
  *phEvent = reinterpret_cast<CUevent>(event);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventRecord(CUevent hEvent, CUstream hStream) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *event = reinterpret_cast<Event *>(hEvent);
  if (!s.events.count(event) || !validStream(s, hStream))
    return CUDA_ERROR_INVALID_HANDLE;
  event->recorded = true;
  event->when = std::chrono::steady_clock::now();
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventSynchronize(CUevent hEvent) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  return s.events.count(reinterpret_cast<Event *>(hEvent))
             ? CUDA_SUCCESS
             : CUDA_ERROR_INVALID_HANDLE;
}

CUresult CUDAAPI cuEventElapsedTime(float *pMilliseconds, CUevent hStart,
                                    CUevent hEnd) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *start = reinterpret_cast<Event *>(hStart);
  auto *end = reinterpret_cast<Event *>(hEnd);
  if (!s.events.count(start) || !s.events.count(end) || !start->recorded ||
      !end->recorded)
    return CUDA_ERROR_INVALID_HANDLE;
  *pMilliseconds =
      std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventDestroy(CUevent hEvent) {
  State &s = state();
  Lock lock(s.mutex);
  if (CUresult r = requireContext(s))
    return r;
  auto *event = reinterpret_cast<Event *>(hEvent);
  if (!s.events.erase(event))
    return CUDA_ERROR_INVALID_HANDLE;
  delete event;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGetProcAddress(const char *symbol, void **pfn, int,
                                  cuuint64_t,
                                  CUdriverProcAddressQueryResult *status) {
  State &s = state();
  bool works;
  {
    Lock lock(s.mutex);
    works = s.config.getProcAddressWorks;
  }
  // By API name, as a real driver looks them up.
  static const std::map<std::string, void *> table = {
      {"cuGetErrorName", reinterpret_cast<void *>(&cuGetErrorName)},
      {"cuGetErrorString", reinterpret_cast<void *>(&cuGetErrorString)},
      {"cuInit", reinterpret_cast<void *>(&cuInit)},
      {"cuDriverGetVersion", reinterpret_cast<void *>(&cuDriverGetVersion)},
      {"cuDeviceGetCount", reinterpret_cast<void *>(&cuDeviceGetCount)},
      {"cuDeviceGet", reinterpret_cast<void *>(&cuDeviceGet)},
      {"cuDeviceGetName", reinterpret_cast<void *>(&cuDeviceGetName)},
      {"cuDeviceGetAttribute", reinterpret_cast<void *>(&cuDeviceGetAttribute)},
      {"cuDeviceTotalMem", reinterpret_cast<void *>(&cuDeviceTotalMem)},
      {"cuDevicePrimaryCtxRetain",
       reinterpret_cast<void *>(&cuDevicePrimaryCtxRetain)},
      {"cuDevicePrimaryCtxRelease",
       reinterpret_cast<void *>(&cuDevicePrimaryCtxRelease)},
      {"cuCtxSetCurrent", reinterpret_cast<void *>(&cuCtxSetCurrent)},
      {"cuMemAlloc", reinterpret_cast<void *>(&cuMemAlloc)},
      {"cuMemFree", reinterpret_cast<void *>(&cuMemFree)},
      {"cuMemcpyHtoD", reinterpret_cast<void *>(&cuMemcpyHtoD)},
      {"cuMemcpyDtoH", reinterpret_cast<void *>(&cuMemcpyDtoH)},
      {"cuMemcpyDtoD", reinterpret_cast<void *>(&cuMemcpyDtoD)},
      {"cuMemcpyDtoDAsync", reinterpret_cast<void *>(&cuMemcpyDtoDAsync)},
      {"cuMemsetD8", reinterpret_cast<void *>(&cuMemsetD8)},
      {"cuModuleLoadData", reinterpret_cast<void *>(&cuModuleLoadData)},
      {"cuModuleUnload", reinterpret_cast<void *>(&cuModuleUnload)},
      {"cuModuleGetFunction", reinterpret_cast<void *>(&cuModuleGetFunction)},
      {"cuFuncSetAttribute", reinterpret_cast<void *>(&cuFuncSetAttribute)},
      {"cuLaunchKernel", reinterpret_cast<void *>(&cuLaunchKernel)},
      {"cuStreamCreate", reinterpret_cast<void *>(&cuStreamCreate)},
      {"cuStreamDestroy", reinterpret_cast<void *>(&cuStreamDestroy)},
      {"cuStreamSynchronize", reinterpret_cast<void *>(&cuStreamSynchronize)},
      {"cuEventCreate", reinterpret_cast<void *>(&cuEventCreate)},
      {"cuEventRecord", reinterpret_cast<void *>(&cuEventRecord)},
      {"cuEventSynchronize", reinterpret_cast<void *>(&cuEventSynchronize)},
      {"cuEventElapsedTime", reinterpret_cast<void *>(&cuEventElapsedTime)},
      {"cuEventDestroy", reinterpret_cast<void *>(&cuEventDestroy)},
  };
  auto it = works && symbol ? table.find(symbol) : table.end();
  if (it == table.end()) {
    *pfn = nullptr;
    if (status)
      *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    return CUDA_ERROR_NOT_FOUND;
  }
  *pfn = it->second;
  if (status)
    *status = CU_GET_PROC_ADDRESS_SUCCESS;
  return CUDA_SUCCESS;
}

} // extern "C"
