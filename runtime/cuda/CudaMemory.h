//===- CudaMemory.h - Device memory, streams and events -------------------===//
//
// Owning wrappers over driver handles. Each is move-only, frees its handle in
// its destructor (where a failure cannot be reported, so it is ignored) and
// offers an explicit release() for a caller that wants the Status. All of
// them point at the CudaDevice they were made on, which must outlive them.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CUDA_CUDAMEMORY_H
#define ATTNC_RUNTIME_CUDA_CUDAMEMORY_H

#include "runtime/cuda/CudaDevice.h"

#include <cstddef>

namespace attnc::cuda {

/// Synchronous copies between host memory and any device address of
/// `device` (a DeviceBuffer's, or a pointer a PageStorage hands out).
Status copyHostToDevice(const CudaDevice &device, CUdeviceptr dst,
                        const void *src, size_t bytes);
Status copyDeviceToHost(const CudaDevice &device, void *dst, CUdeviceptr src,
                        size_t bytes);

/// A device allocation. A buffer of 0 bytes holds no allocation and a null
/// pointer, because empty tensors (a batch of 0 sequences) are valid input
/// and cuMemAlloc rejects a size of 0.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  static Expected<DeviceBuffer> allocate(const CudaDevice &device,
                                         size_t bytes);

  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() { (void)release(); }

  /// Frees the allocation now; the buffer is empty afterwards either way.
  Status release();

  CUdeviceptr devicePtr() const { return ptr; }
  /// The same address as a pointer, as AttnKernelArgs and PageStorage take
  /// it. Never dereference it on the host.
  void *data() const { return reinterpret_cast<void *>(ptr); }
  size_t size() const { return bytes; }
  bool empty() const { return bytes == 0; }

  /// Copies `count` bytes from the host into the buffer at `offset`
  /// (InvalidArgument when the range does not fit).
  Status copyFromHost(const void *src, size_t count, size_t offset = 0);
  /// Copies `count` bytes at `offset` out of the buffer.
  Status copyToHost(void *dst, size_t count, size_t offset = 0) const;
  /// Sets every byte to `value`. 0xff fills fp16 / bf16 data with NaN, the
  /// poison the tests want in outputs a kernel must write.
  Status fill(unsigned char value);

private:
  Status checkRange(size_t count, size_t offset, const char *what) const;

  const CudaDevice *device = nullptr;
  CUdeviceptr ptr = 0;
  size_t bytes = 0;
};

/// A stream of the device's primary context (blocking with respect to the
/// legacy default stream, as cudaStreamCreate's are).
class CudaStream {
public:
  CudaStream() = default;
  static Expected<CudaStream> create(const CudaDevice &device);

  CudaStream(CudaStream &&other) noexcept;
  CudaStream &operator=(CudaStream &&other) noexcept;
  CudaStream(const CudaStream &) = delete;
  CudaStream &operator=(const CudaStream &) = delete;
  ~CudaStream() { (void)release(); }

  Status release();
  /// Waits until everything queued on the stream has finished.
  Status synchronize() const;
  CUstream get() const { return stream; }

private:
  const CudaDevice *device = nullptr;
  CUstream stream = nullptr;
};

/// An event with timing enabled, for measuring kernels on the GPU's clock.
class CudaEvent {
public:
  CudaEvent() = default;
  static Expected<CudaEvent> create(const CudaDevice &device);

  CudaEvent(CudaEvent &&other) noexcept;
  CudaEvent &operator=(CudaEvent &&other) noexcept;
  CudaEvent(const CudaEvent &) = delete;
  CudaEvent &operator=(const CudaEvent &) = delete;
  ~CudaEvent() { (void)release(); }

  Status release();
  /// Records the event on `stream` (null: the legacy default stream).
  Status record(CUstream stream);
  /// Waits until the work before the last record() has finished.
  Status synchronize() const;
  CUevent get() const { return event; }

private:
  friend Expected<float> elapsedMilliseconds(const CudaEvent &start,
                                             const CudaEvent &end);

  const CudaDevice *device = nullptr;
  CUevent event = nullptr;
};

/// Milliseconds between two recorded events, waiting for `end` first. The
/// driver's resolution is about half a microsecond.
Expected<float> elapsedMilliseconds(const CudaEvent &start,
                                    const CudaEvent &end);

} // namespace attnc::cuda

#endif // ATTNC_RUNTIME_CUDA_CUDAMEMORY_H
