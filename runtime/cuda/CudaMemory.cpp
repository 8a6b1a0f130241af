//===- CudaMemory.cpp - Device memory, streams and events -----------------===//

#include "runtime/cuda/CudaMemory.h"

#include <utility>

namespace attnc::cuda {

namespace {
std::string bytesText(size_t bytes) { return std::to_string(bytes) + " bytes"; }
} // namespace

Status copyHostToDevice(const CudaDevice &device, CUdeviceptr dst,
                        const void *src, size_t bytes) {
  if (bytes == 0)
    return Status::success();
  if (Status s = device.makeCurrent(); !s.ok())
    return s;
  return device.check(device.driver().api().memcpyHtoD(dst, src, bytes),
                      "cuMemcpyHtoD(" + bytesText(bytes) + ")");
}

Status copyDeviceToHost(const CudaDevice &device, void *dst, CUdeviceptr src,
                        size_t bytes) {
  if (bytes == 0)
    return Status::success();
  if (Status s = device.makeCurrent(); !s.ok())
    return s;
  return device.check(device.driver().api().memcpyDtoH(dst, src, bytes),
                      "cuMemcpyDtoH(" + bytesText(bytes) + ")");
}

//===----------------------------------------------------------------------===//
// DeviceBuffer
//===----------------------------------------------------------------------===//

Expected<DeviceBuffer> DeviceBuffer::allocate(const CudaDevice &device,
                                              size_t bytes) {
  DeviceBuffer buffer;
  buffer.device = &device;
  if (bytes == 0)
    return buffer;
  if (Status s = device.makeCurrent(); !s.ok())
    return s;
  CUdeviceptr ptr = 0;
  if (Status s = device.check(device.driver().api().memAlloc(&ptr, bytes),
                              "cuMemAlloc(" + bytesText(bytes) + " on " +
                                  device.properties().name + ")");
      !s.ok())
    return s;
  buffer.ptr = ptr;
  buffer.bytes = bytes;
  return buffer;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept
    : device(other.device), ptr(std::exchange(other.ptr, 0)),
      bytes(std::exchange(other.bytes, 0)) {}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    (void)release();
    device = other.device;
    ptr = std::exchange(other.ptr, 0);
    bytes = std::exchange(other.bytes, 0);
  }
  return *this;
}

Status DeviceBuffer::release() {
  if (!ptr)
    return Status::success();
  CUdeviceptr freed = std::exchange(ptr, 0);
  size_t freedBytes = std::exchange(bytes, 0);
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device->check(device->driver().api().memFree(freed),
                       "cuMemFree(" + bytesText(freedBytes) + ")");
}

Status DeviceBuffer::checkRange(size_t count, size_t offset,
                                const char *what) const {
  if (offset <= bytes && count <= bytes - offset)
    return Status::success();
  return Status::error(ErrorCode::InvalidArgument,
                       std::string(what) + " of " + bytesText(count) +
                           " at offset " + std::to_string(offset) +
                           " does not fit a device buffer of " +
                           bytesText(bytes));
}

Status DeviceBuffer::copyFromHost(const void *src, size_t count,
                                  size_t offset) {
  if (Status s = checkRange(count, offset, "copy from host"); !s.ok())
    return s;
  return copyHostToDevice(*device, ptr + offset, src, count);
}

Status DeviceBuffer::copyToHost(void *dst, size_t count, size_t offset) const {
  if (Status s = checkRange(count, offset, "copy to host"); !s.ok())
    return s;
  return copyDeviceToHost(*device, dst, ptr + offset, count);
}

Status DeviceBuffer::fill(unsigned char value) {
  if (!ptr)
    return Status::success();
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device->check(device->driver().api().memsetD8(ptr, value, bytes),
                       "cuMemsetD8(" + bytesText(bytes) + ")");
}

//===----------------------------------------------------------------------===//
// CudaStream
//===----------------------------------------------------------------------===//

Expected<CudaStream> CudaStream::create(const CudaDevice &device) {
  if (Status s = device.makeCurrent(); !s.ok())
    return s;
  CUstream handle = nullptr;
  if (Status s = device.check(
          device.driver().api().streamCreate(&handle, CU_STREAM_DEFAULT),
          "cuStreamCreate");
      !s.ok())
    return s;
  CudaStream stream;
  stream.device = &device;
  stream.stream = handle;
  return stream;
}

CudaStream::CudaStream(CudaStream &&other) noexcept
    : device(other.device), stream(std::exchange(other.stream, nullptr)) {}

CudaStream &CudaStream::operator=(CudaStream &&other) noexcept {
  if (this != &other) {
    (void)release();
    device = other.device;
    stream = std::exchange(other.stream, nullptr);
  }
  return *this;
}

Status CudaStream::release() {
  if (!stream)
    return Status::success();
  CUstream handle = std::exchange(stream, nullptr);
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device->check(device->driver().api().streamDestroy(handle),
                       "cuStreamDestroy");
}

Status CudaStream::synchronize() const {
  if (!device)
    return Status::error(ErrorCode::InvalidArgument,
                         "synchronize on an empty CudaStream");
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device->check(device->driver().api().streamSynchronize(stream),
                       "cuStreamSynchronize");
}

//===----------------------------------------------------------------------===//
// CudaEvent
//===----------------------------------------------------------------------===//

Expected<CudaEvent> CudaEvent::create(const CudaDevice &device) {
  if (Status s = device.makeCurrent(); !s.ok())
    return s;
  CUevent handle = nullptr;
  if (Status s = device.check(
          device.driver().api().eventCreate(&handle, CU_EVENT_DEFAULT),
          "cuEventCreate");
      !s.ok())
    return s;
  CudaEvent event;
  event.device = &device;
  event.event = handle;
  return event;
}

CudaEvent::CudaEvent(CudaEvent &&other) noexcept
    : device(other.device), event(std::exchange(other.event, nullptr)) {}

CudaEvent &CudaEvent::operator=(CudaEvent &&other) noexcept {
  if (this != &other) {
    (void)release();
    device = other.device;
    event = std::exchange(other.event, nullptr);
  }
  return *this;
}

Status CudaEvent::release() {
  if (!event)
    return Status::success();
  CUevent handle = std::exchange(event, nullptr);
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device->check(device->driver().api().eventDestroy(handle),
                       "cuEventDestroy");
}

Status CudaEvent::record(CUstream stream) {
  if (!event)
    return Status::error(ErrorCode::InvalidArgument,
                         "record on an empty CudaEvent");
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device->check(device->driver().api().eventRecord(event, stream),
                       "cuEventRecord");
}

Status CudaEvent::synchronize() const {
  if (!event)
    return Status::error(ErrorCode::InvalidArgument,
                         "synchronize on an empty CudaEvent");
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device->check(device->driver().api().eventSynchronize(event),
                       "cuEventSynchronize");
}

Expected<float> elapsedMilliseconds(const CudaEvent &start,
                                    const CudaEvent &end) {
  if (!start.get() || !end.get())
    return Status::error(ErrorCode::InvalidArgument,
                         "elapsedMilliseconds needs two created events");
  if (Status s = end.synchronize(); !s.ok())
    return s;
  // end.synchronize() made the device current.
  float ms = 0;
  if (Status s = end.device->check(end.device->driver().api().eventElapsedTime(
                                       &ms, start.event, end.event),
                                   "cuEventElapsedTime");
      !s.ok())
    return s;
  return ms;
}

} // namespace attnc::cuda
