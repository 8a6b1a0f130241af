//===- Scenarios.cpp - Backend scenarios run on the fake and on a GPU -----===//

#include "Scenarios.h"
#include "CudaTestSupport.h"

#include "runtime/core/Fp8.h"
#include "runtime/cuda/CudaMemory.h"
#include "runtime/cuda/CudaModule.h"
#include "runtime/cuda/CudaPageStorage.h"
#include "runtime/kvcache/KVCache.h"
#include "runtime/sim/HalfTypes.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

namespace attnc::cuda::test {

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

AttnKernelArgs zeroArgs() {
  AttnKernelArgs args;
  std::memset(&args, 0, sizeof(args));
  return args;
}

KernelInfo scaleInfo() {
  KernelInfo info;
  info.name = "attnc_test_scale";
  info.specName = "test";
  info.threads = 128;
  info.sharedBytes = 0;
  return info;
}

} // namespace

void runMemoryScenario(const CudaDriver &driver) {
  auto device = requireValue(CudaDevice::open(driver, 0));
  const size_t count = 1000;
  std::vector<float> host(count);
  std::iota(host.begin(), host.end(), 0.5f);

  DeviceBuffer buffer =
      requireValue(DeviceBuffer::allocate(*device, count * sizeof(float)));
  CHECK(buffer.size() == count * sizeof(float));
  CHECK(buffer.data() != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(buffer.data()) % 256 == 0);
  CUDA_REQUIRE_OK(buffer.copyFromHost(host.data(), count * sizeof(float)));
  std::vector<float> back(count, -1.0f);
  CUDA_REQUIRE_OK(buffer.copyToHost(back.data(), count * sizeof(float)));
  CHECK(back == host);

  // A partial write at an offset, read back through a partial read.
  const float patch[3] = {-7.0f, -8.0f, -9.0f};
  CUDA_REQUIRE_OK(buffer.copyFromHost(patch, sizeof(patch), 40));
  float window[5] = {};
  CUDA_REQUIRE_OK(buffer.copyToHost(window, sizeof(window), 36));
  CHECK(window[0] == host[9]);
  CHECK(window[1] == -7.0f);
  CHECK(window[3] == -9.0f);
  CHECK(window[4] == host[13]);

  CUDA_REQUIRE_OK(buffer.fill(0xff));
  std::vector<unsigned char> bytes(buffer.size(), 0);
  CUDA_REQUIRE_OK(buffer.copyToHost(bytes.data(), bytes.size()));
  CHECK(std::all_of(bytes.begin(), bytes.end(),
                    [](unsigned char b) { return b == 0xff; }));

  // Ranges outside the buffer are refused before the driver sees them.
  Status tooLong = buffer.copyFromHost(host.data(), buffer.size() + 1);
  CHECK(tooLong.code() == ErrorCode::InvalidArgument);
  CHECK(tooLong.message() == "copy from host of 4001 bytes at offset 0 does "
                             "not fit a device buffer of 4000 bytes");
  CHECK(buffer.copyToHost(back.data(), 8, buffer.size() - 4).code() ==
        ErrorCode::InvalidArgument);
  CHECK(buffer.copyToHost(back.data(), 0, buffer.size() + 1).code() ==
        ErrorCode::InvalidArgument);

  // From another thread, where no context is current until the buffer
  // makes its device's current.
  Status fromThread;
  std::thread worker([&] {
    float first = 0;
    fromThread = buffer.copyToHost(&first, sizeof(first));
  });
  worker.join();
  CHECK(fromThread.ok());

  // Empty buffers hold nothing and accept empty copies.
  DeviceBuffer empty = requireValue(DeviceBuffer::allocate(*device, 0));
  CHECK(empty.empty());
  CHECK(empty.data() == nullptr);
  CUDA_REQUIRE_OK(empty.copyFromHost(host.data(), 0));
  CUDA_REQUIRE_OK(empty.fill(0));
  CHECK(empty.copyToHost(back.data(), 4).code() == ErrorCode::InvalidArgument);

  // Moves transfer ownership; release() frees now.
  void *address = buffer.data();
  DeviceBuffer moved = std::move(buffer);
  CHECK(buffer.empty());
  CHECK(moved.data() == address);
  CUDA_REQUIRE_OK(moved.release());
  CHECK(moved.empty());
  CUDA_REQUIRE_OK(moved.release());

  // A petabyte is more than any device has.
  Expected<DeviceBuffer> huge =
      DeviceBuffer::allocate(*device, size_t(1) << 50);
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().code() == ErrorCode::OutOfMemory);
  INFO(huge.status().message());
  CHECK(contains(huge.status().message(),
                 "cuMemAlloc(1125899906842624 bytes on " +
                     device->properties().name +
                     ") failed: CUDA_ERROR_OUT_OF_MEMORY"));
}

LaunchedScale runScaleKernelScenario(const CudaDriver &driver,
                                     bool runsKernels) {
  auto device = requireValue(CudaDevice::open(driver, 0));
  CudaModule module = requireValue(
      CudaModule::compile(*device, scaleKernelSource(), scaleInfo()));
  CHECK(module.function() != nullptr);
  CHECK(module.info().name == "attnc_test_scale");
  Expected<NvrtcTarget> expected = chooseNvrtcTarget(device->properties());
  REQUIRE(expected.ok());
  CHECK(module.target().arch == expected->arch);
  if (module.target().cubin) {
    REQUIRE(module.resources().size() == 1);
    CHECK(module.resources()[0].kernel == "attnc_test_scale");
    CHECK(module.resources()[0].registers > 0);
    CHECK(module.resources()[0].spillStoreBytes == 0);
  }

  const int count = 1000;
  std::vector<float> in(count);
  std::iota(in.begin(), in.end(), 1.0f);
  DeviceBuffer input =
      requireValue(DeviceBuffer::allocate(*device, count * sizeof(float)));
  DeviceBuffer output =
      requireValue(DeviceBuffer::allocate(*device, count * sizeof(float)));
  CUDA_REQUIRE_OK(input.copyFromHost(in.data(), count * sizeof(float)));
  CUDA_REQUIRE_OK(output.fill(0xff)); // NaN: every element must be written

  LaunchedScale launched;
  launched.args = zeroArgs();
  launched.args.q = input.data();
  launched.args.o = output.data();
  launched.args.batch = count;
  launched.args.param_dims[0][0] = 3;
  launched.gridX = (count + 127) / 128;

  CudaStream stream = requireValue(CudaStream::create(*device));
  launched.stream = stream.get();
  CudaEvent start = requireValue(CudaEvent::create(*device));
  CudaEvent end = requireValue(CudaEvent::create(*device));
  CUDA_REQUIRE_OK(start.record(stream.get()));
  CUDA_REQUIRE_OK(
      module.launch(launched.args, launched.gridX, 1, 1, stream.get()));
  CUDA_REQUIRE_OK(end.record(stream.get()));
  CUDA_REQUIRE_OK(stream.synchronize());
  float ms = requireValue(elapsedMilliseconds(start, end));
  CHECK(ms >= 0.0f);
  CHECK(ms < 10000.0f);

  if (runsKernels) {
    std::vector<float> out(count, 0.0f);
    CUDA_REQUIRE_OK(output.copyToHost(out.data(), count * sizeof(float)));
    for (int i = 0; i < count; ++i) {
      INFO("i = " << i);
      REQUIRE(out[i] == 2.0f * in[i] + 3.0f);
    }
  }

  // An event that was never recorded has no time.
  CudaEvent unrecorded = requireValue(CudaEvent::create(*device));
  CHECK_FALSE(elapsedMilliseconds(start, unrecorded).ok());
  CHECK(elapsedMilliseconds(start, CudaEvent()).status().code() ==
        ErrorCode::InvalidArgument);
  return launched;
}

void runSharedMemoryScenario(const CudaDriver &driver, bool runsKernels) {
  auto device = requireValue(CudaDevice::open(driver, 0));
  KernelInfo info;
  info.name = "attnc_test_shared";
  info.threads = 256;
  info.sharedBytes = 100 * 1024;
  if (device->properties().maxSharedPerBlockOptin < info.sharedBytes) {
    ATTNC_SKIP(device->properties().name
               << " allows only " << device->properties().maxSharedPerBlockOptin
               << " bytes of shared memory per block");
  }
  CudaModule module =
      requireValue(CudaModule::compile(*device, sharedKernelSource(), info));
  DeviceBuffer output =
      requireValue(DeviceBuffer::allocate(*device, info.threads * sizeof(int)));
  CUDA_REQUIRE_OK(output.fill(0xff));
  AttnKernelArgs args = zeroArgs();
  args.o = output.data();
  const int words = info.sharedBytes / 4;
  args.param_dims[0][0] = words;
  // The legacy default stream; the copy below waits for it.
  CUDA_REQUIRE_OK(module.launch(args, 2, 1, 1, nullptr));
  std::vector<int> out(info.threads, 0);
  CUDA_REQUIRE_OK(output.copyToHost(out.data(), out.size() * sizeof(int)));
  if (runsKernels) {
    const int stride = words / info.threads;
    for (int t = 0; t < info.threads; ++t)
      REQUIRE(out[t] == t * stride + stride - 1);
  }

  // More than the device allows is refused before compiling, naming the
  // kernel and the limit.
  KernelInfo tooBig = info;
  tooBig.sharedBytes = device->properties().maxSharedPerBlockOptin + 1;
  Expected<CudaModule> refused =
      CudaModule::compile(*device, sharedKernelSource(), tooBig);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == ErrorCode::InvalidArgument);
  CHECK(refused.status().message() ==
        "kernel 'attnc_test_shared' needs " +
            std::to_string(tooBig.sharedBytes) +
            " bytes of dynamic shared memory; " + device->properties().name +
            " (" + device->properties().arch() + ") allows at most " +
            std::to_string(device->properties().maxSharedPerBlockOptin) +
            " per block");
}

void runModuleErrorScenario(const CudaDriver &driver, bool runsKernels) {
  auto device = requireValue(CudaDevice::open(driver, 0));
  const DeviceProperties &props = device->properties();

  // PTX for the device's architecture, compiled by the driver on load.
  jit::NvrtcOptions ptxOptions;
  ptxOptions.arch =
      "compute_" + std::to_string(10 * props.ccMajor + props.ccMinor);
  ptxOptions.cubin = false;
  ptxOptions.includeDirs = jit::defaultIncludeDirs();
  jit::NvrtcResult ptx =
      jit::compileWithNvrtc(scaleKernelSource(), "scale.cu", ptxOptions);
  INFO(ptx.error);
  REQUIRE(ptx.ok);
  std::vector<char> ptxImage(ptx.ptx.begin(), ptx.ptx.end()); // no NUL
  CudaModule fromPtx =
      requireValue(CudaModule::load(*device, ptxImage, scaleInfo()));
  CHECK(fromPtx.image().back() == '\0');
  CHECK(fromPtx.target().arch.empty());
  DeviceBuffer buffer = requireValue(DeviceBuffer::allocate(*device, 64));
  CUDA_REQUIRE_OK(buffer.fill(0));
  AttnKernelArgs args = zeroArgs();
  args.q = buffer.data();
  args.o = buffer.data();
  args.batch = 16;
  CUDA_REQUIRE_OK(fromPtx.launch(args, 1, 1, 1, nullptr));
  if (runsKernels) {
    float out[16];
    CUDA_REQUIRE_OK(buffer.copyToHost(out, sizeof(out)));
    CHECK(out[5] == 0.0f);
  }

  // Grids: an empty one launches nothing; one beyond CUDA's limits is
  // refused with the numbers.
  CUDA_REQUIRE_OK(fromPtx.launch(args, 0, 4, 1, nullptr));
  Status tooTall = fromPtx.launch(args, 1, 70000, 1, nullptr);
  CHECK(tooTall.code() == ErrorCode::InvalidArgument);
  CHECK(tooTall.message() == "kernel 'attnc_test_scale': grid (1, 70000, 1) "
                             "exceeds CUDA's grid limits (2^31-1, 65535, "
                             "65535)");
  CHECK(CudaModule().launch(args, 1, 1, 1, nullptr).code() ==
        ErrorCode::InvalidArgument);

  // A cubin for another major architecture does not load.
  jit::NvrtcOptions otherOptions;
  otherOptions.arch = props.ccMajor == 8 ? "sm_90" : "sm_80";
  otherOptions.includeDirs = jit::defaultIncludeDirs();
  jit::NvrtcResult other =
      jit::compileWithNvrtc(scaleKernelSource(), "scale.cu", otherOptions);
  REQUIRE(other.ok);
  Expected<CudaModule> wrongArch =
      CudaModule::load(*device, other.cubin, scaleInfo());
  REQUIRE_FALSE(wrongArch.ok());
  CHECK(wrongArch.status().code() == ErrorCode::CompileError);
  INFO(wrongArch.status().message());
  CHECK(contains(wrongArch.status().message(),
                 "cuModuleLoadData(kernel 'attnc_test_scale', cubin of"));

  // Not an image at all.
  std::vector<char> junk = {'j', 'u', 'n', 'k'};
  Expected<CudaModule> notImage = CudaModule::load(*device, junk, scaleInfo());
  REQUIRE_FALSE(notImage.ok());
  INFO(notImage.status().message());
  CHECK(contains(notImage.status().message(),
                 "cuModuleLoadData(kernel 'attnc_test_scale', PTX of 4 bytes"));
  // The fake answers CUDA_ERROR_INVALID_IMAGE; a real driver's answer to
  // text that is not PTX differs between versions.
  if (!runsKernels)
    CHECK(notImage.status().code() == ErrorCode::CompileError);
  CHECK(CudaModule::load(*device, {}, scaleInfo()).status().code() ==
        ErrorCode::InvalidArgument);

  // A kernel the module does not define.
  KernelInfo missing = scaleInfo();
  missing.name = "attnc_not_there";
  Expected<CudaModule> notFound =
      CudaModule::compile(*device, scaleKernelSource(), missing);
  REQUIRE_FALSE(notFound.ok());
  CHECK(notFound.status().code() == ErrorCode::NotFound);
  CHECK(contains(notFound.status().message(),
                 "cuModuleGetFunction(kernel 'attnc_not_there') failed: "
                 "CUDA_ERROR_NOT_FOUND"));

  // Source NVRTC rejects: the log comes back.
  Expected<CudaModule> bad = CudaModule::compile(
      *device, "extern \"C\" __global__ void attnc_test_scale() { oops; }",
      scaleInfo());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == ErrorCode::CompileError);
  CHECK(contains(bad.status().message(), "oops"));

  // Launch configurations CUDA cannot run, refused before compiling.
  KernelInfo wide = scaleInfo();
  wide.threads = 2048;
  Expected<CudaModule> tooWide =
      CudaModule::compile(*device, scaleKernelSource(), wide);
  CHECK(tooWide.status().code() == ErrorCode::InvalidArgument);
  CHECK(tooWide.status().message() ==
        "kernel 'attnc_test_scale' asks for 2048 threads per block; CUDA "
        "allows 1 to 1024");
  KernelInfo unnamed = scaleInfo();
  unnamed.name.clear();
  CHECK(CudaModule::compile(*device, scaleKernelSource(), unnamed)
            .status()
            .code() == ErrorCode::InvalidArgument);
}

void runPageStorageScenario(const CudaDriver &driver) {
  using namespace attnc::kvcache;
  auto device = requireValue(CudaDevice::open(driver, 0));
  CudaStream stream = requireValue(CudaStream::create(*device));

  CacheShape shape;
  shape.numPages = 6;
  shape.pageSize = 4;
  shape.kvHeads = 2;
  shape.headDim = 8;
  shape.numLayers = 3;
  shape.elementType = ElementType::BF16;

  CudaPageStorage storage(*device, stream.get());
  CHECK(storage.keyCache(0) == nullptr);
  CHECK(storage.copyPage(0, 1).code() == ErrorCode::InvalidArgument);
  CUDA_REQUIRE_OK(storage.allocate(shape));
  CHECK(storage.memoryKind() == MemoryKind::Device);
  CHECK(storage.shape().numPages == 6);
  CHECK(storage.copyStream() == stream.get());
  CHECK(storage.allocate(shape).code() == ErrorCode::InvalidArgument);

  std::vector<void *> tensors;
  for (int32_t layer = 0; layer < shape.numLayers; ++layer) {
    tensors.push_back(storage.keyCache(layer));
    tensors.push_back(storage.valueCache(layer));
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    REQUIRE(tensors[i] != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(tensors[i]) % 256 == 0);
    for (size_t j = 0; j < i; ++j)
      CHECK(tensors[i] != tensors[j]);
  }
  CHECK(storage.keyCache(3) == nullptr);
  CHECK(storage.valueCache(-1) == nullptr);

  const size_t tensorBytes = static_cast<size_t>(shape.tensorBytes());
  const size_t pageBytes = static_cast<size_t>(shape.pageBytesPerTensor());
  const size_t pageElements = pageBytes / 2;
  auto read = [&](void *tensor) {
    std::vector<uint16_t> out(tensorBytes / 2);
    Status s =
        copyDeviceToHost(*device, out.data(),
                         reinterpret_cast<CUdeviceptr>(tensor), tensorBytes);
    INFO(s.toString());
    REQUIRE(s.ok());
    return out;
  };
  // Fresh pages are NaN (0xffff) everywhere.
  for (void *tensor : tensors) {
    std::vector<uint16_t> words = read(tensor);
    REQUIRE(std::all_of(words.begin(), words.end(),
                        [](uint16_t w) { return w == 0xffff; }));
  }

  // Distinct contents in page 1 of every tensor, then copy-on-write 1 -> 4.
  for (size_t t = 0; t < tensors.size(); ++t) {
    std::vector<uint16_t> page(pageElements);
    for (size_t e = 0; e < pageElements; ++e)
      page[e] = static_cast<uint16_t>(1000 * t + e);
    CUDA_REQUIRE_OK(copyHostToDevice(
        *device, reinterpret_cast<CUdeviceptr>(tensors[t]) + pageBytes,
        page.data(), pageBytes));
  }
  CUDA_REQUIRE_OK(storage.copyPage(1, 4));
  CUDA_REQUIRE_OK(storage.synchronize());
  for (size_t t = 0; t < tensors.size(); ++t) {
    std::vector<uint16_t> words = read(tensors[t]);
    for (int32_t p = 0; p < shape.numPages; ++p)
      for (size_t e = 0; e < pageElements; ++e) {
        uint16_t want = (p == 1 || p == 4) ? static_cast<uint16_t>(1000 * t + e)
                                           : uint16_t(0xffff);
        INFO("tensor " << t << " page " << p << " element " << e);
        REQUIRE(words[p * pageElements + e] == want);
      }
  }

  for (auto [src, dst] : {std::pair<int, int>{1, 1}, {-1, 2}, {1, 6}, {6, 1}}) {
    Status refused = storage.copyPage(src, dst);
    CHECK(refused.code() == ErrorCode::InvalidArgument);
    CHECK(refused.message() == "copyPage(" + std::to_string(src) + ", " +
                                   std::to_string(dst) +
                                   ") with a pool of 6 pages");
  }

  // Copy-on-write decided by the block manager, executed by the storage.
  KVCacheConfig config;
  config.shape = shape;
  config.enablePrefixCache = false;
  auto owned = std::make_unique<CudaPageStorage>(*device);
  CudaPageStorage *cudaStorage = owned.get();
  KVCache cache = requireValue(KVCache::create(config, std::move(owned)));
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6};
  AddedSequence added = requireValue(cache.addSequence(prompt));
  const Slot last = added.slots.back(); // page 2 of the sequence, offset 1
  void *k0 = cudaStorage->keyCache(0);
  std::vector<uint16_t> row(pageElements, 0x1234);
  CUDA_REQUIRE_OK(
      copyHostToDevice(*device,
                       reinterpret_cast<CUdeviceptr>(k0) +
                           static_cast<size_t>(last.page) * pageBytes,
                       row.data(), pageBytes));
  SeqId child = requireValue(cache.fork(added.id));
  std::vector<int32_t> more = {7};
  Appended appended = requireValue(cache.append(child, more));
  REQUIRE(appended.copy.has_value());
  CHECK(appended.copy->src == last.page);
  CUDA_REQUIRE_OK(cache.storage().synchronize());
  std::vector<uint16_t> words = read(k0);
  for (size_t e = 0; e < pageElements; ++e)
    REQUIRE(words[appended.copy->dst * pageElements + e] == 0x1234);
}

const char *fp8WideningKernelSource() {
  return R"(#include "attnc_device.cuh"
#include "kernel_args.h"
// Word j holds the bytes j, j+1, j+2, j+3 (mod 256): every byte value in
// every position. Output block c (e4m3/e5m2 x f16/bf16) holds word j's
// two widened pairs at 2 (256 c + j).
extern "C" __global__ void attnc_test_fp8(const attnc::AttnKernelArgs args) {
  using namespace attnc::dev;
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= 256)
    return;
  const unsigned w = static_cast<const unsigned *>(args.q)[j];
  unsigned *o = static_cast<unsigned *>(args.o);
  const uint2 r[4] = {fp8x4ToPairs<Fp8Kind::E4M3, f16>(w),
                      fp8x4ToPairs<Fp8Kind::E4M3, bf16>(w),
                      fp8x4ToPairs<Fp8Kind::E5M2, f16>(w),
                      fp8x4ToPairs<Fp8Kind::E5M2, bf16>(w)};
  for (int c = 0; c < 4; ++c) {
    o[2 * (256 * c + j)] = r[c].x;
    o[2 * (256 * c + j) + 1] = r[c].y;
  }
}
)";
}

void runFp8WideningScenario(const CudaDriver &driver, bool runsKernels) {
  auto device = requireValue(CudaDevice::open(driver, 0));
  KernelInfo info;
  info.name = "attnc_test_fp8";
  info.specName = "test";
  info.threads = 128;
  CudaModule module = requireValue(
      CudaModule::compile(*device, fp8WideningKernelSource(), info));
  std::vector<uint32_t> words(256);
  for (uint32_t j = 0; j < 256; ++j)
    words[j] = j | ((j + 1) & 0xff) << 8 | ((j + 2) & 0xff) << 16 |
               ((j + 3) & 0xff) << 24;
  const size_t outWords = 4 * 256 * 2;
  DeviceBuffer input =
      requireValue(DeviceBuffer::allocate(*device, words.size() * 4));
  DeviceBuffer output =
      requireValue(DeviceBuffer::allocate(*device, outWords * 4));
  CUDA_REQUIRE_OK(input.copyFromHost(words.data(), words.size() * 4));
  CUDA_REQUIRE_OK(output.fill(0xff));
  AttnKernelArgs args = zeroArgs();
  args.q = input.data();
  args.o = output.data();
  CudaStream stream = requireValue(CudaStream::create(*device));
  CUDA_REQUIRE_OK(module.launch(args, 2, 1, 1, stream.get()));
  CUDA_REQUIRE_OK(stream.synchronize());
  if (!runsKernels)
    return;
  std::vector<uint32_t> out(outWords);
  CUDA_REQUIRE_OK(output.copyToHost(out.data(), outWords * 4));
  const Fp8Format formats[2] = {Fp8Format::E4M3, Fp8Format::E5M2};
  for (int c = 0; c < 4; ++c) {
    Fp8Format format = formats[c / 2];
    bool bf16 = c % 2 == 1;
    for (uint32_t j = 0; j < 256; ++j)
      for (int k = 0; k < 4; ++k) {
        uint32_t reg = out[2 * (256 * c + j) + k / 2];
        auto bits = static_cast<uint16_t>(reg >> (16 * (k % 2)));
        double want = fp8Decode(format, static_cast<uint8_t>((j + k) & 0xff));
        float got =
            bf16 ? sim::bf16BitsToFloat(bits) : sim::halfBitsToFloat(bits);
        INFO(fp8FormatName(format) << " -> " << (bf16 ? "bf16" : "f16")
                                   << ", byte " << ((j + k) & 0xff));
        if (std::isnan(want)) {
          REQUIRE(std::isnan(got));
        } else {
          REQUIRE(static_cast<double>(got) == want);
          REQUIRE(std::signbit(got) == std::signbit(want)); // -0 stays -0
        }
      }
  }
}

} // namespace attnc::cuda::test
