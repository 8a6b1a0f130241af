//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//

#include "runtime/npy/Npy.h"
#include "runtime/core/HostMemory.h"
#include "runtime/npy/NpyHeader.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace attnc;
using namespace attnc::npy;

namespace {

Status ioError(const std::string &path, const std::string &what) {
  return Status::error(ErrorCode::IOError, path + ": " + what);
}

std::string errnoText() { return std::strerror(errno); }

/// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : fd(fd) {}
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;
  ~FileDescriptor() {
    if (fd >= 0)
      ::close(fd);
  }
  int get() const { return fd; }
  /// Closes now, reporting the error that close() can give on some file
  /// systems (NFS reports failed writes there).
  bool close() {
    int result = ::close(fd);
    fd = -1;
    return result == 0;
  }

private:
  int fd;
};

/// Reads exactly `size` bytes at `offset`; false (with errno, or 0 when
/// the file ended early) otherwise.
bool readExactly(int fd, void *out, size_t size, uint64_t offset) {
  auto *bytes = static_cast<uint8_t *>(out);
  while (size > 0) {
    ssize_t n = ::pread(fd, bytes, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = 0;
      return false;
    }
    bytes += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

bool writeAll(int fd, const void *data, size_t size) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

Status readError(const std::string &path) {
  if (errno == 0)
    return ioError(path, "the file ended while it was being read (was it "
                         "being written?)");
  return ioError(path, "read failed: " + errnoText());
}

/// A name next to `path` that no other writer (thread or process) uses.
std::string temporaryPath(const std::string &path) {
  static std::atomic<unsigned> counter{0};
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

/// Writes the file at `tmp` and moves it to `path`; on failure removes
/// `tmp` so that nothing is left behind.
Status writeAndRename(const std::string &path, const std::string &tmp, int fd,
                      const std::string &header, const void *data,
                      size_t dataBytes) {
  FileDescriptor file(fd);
  // fsync before rename: without it a crash can leave the new name pointing
  // at an empty file on file systems that delay allocation.
  if (!writeAll(file.get(), header.data(), header.size()) ||
      (dataBytes > 0 && !writeAll(file.get(), data, dataBytes)) ||
      ::fsync(file.get()) != 0 || !file.close()) {
    Status error = ioError(path, "write failed: " + errnoText());
    ::unlink(tmp.c_str());
    return error;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status error = ioError(path, "cannot move the written file into place: " +
                                     errnoText());
    ::unlink(tmp.c_str());
    return error;
  }
  return Status::success();
}

} // namespace

Expected<NpyArray> attnc::parseNpy(const uint8_t *data, size_t size,
                                   const std::string &name) {
  Expected<NpyHeader> header = parseNpyHeader(data, size, name);
  if (!header)
    return header.takeStatus();
  if (Status s = checkNpyDataSize(*header, size - header->dataOffset, name);
      !s.ok())
    return s;
  NpyArray array;
  array.dtype = header->dtype;
  array.shape = std::move(header->shape);
  array.source = name;
  array.bytes.assign(data + header->dataOffset,
                     data + header->dataOffset + header->dataBytes);
  return array;
}

Expected<NpyArray> attnc::readNpy(const std::string &path) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever;
  // it is refused below as not a regular file (for which the flag is moot).
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (file.get() < 0) {
    if (errno == ENOENT)
      return Status::error(ErrorCode::NotFound, path + ": no such file");
    return ioError(path, "cannot open: " + errnoText());
  }
  struct stat info;
  if (::fstat(file.get(), &info) != 0)
    return ioError(path, "cannot stat: " + errnoText());
  if (S_ISDIR(info.st_mode))
    return ioError(path, "is a directory, not a .npy file");
  if (!S_ISREG(info.st_mode))
    return ioError(path, "not a regular file");
  uint64_t fileSize = static_cast<uint64_t>(info.st_size);

  // The preamble says how long the header is; read that much, no more, so
  // that a lying header cannot make us allocate or read past the file.
  uint8_t preamble[kPreambleBytes];
  size_t preambleBytes = fileSize < kPreambleBytes
                             ? static_cast<size_t>(fileSize)
                             : kPreambleBytes;
  if (!readExactly(file.get(), preamble, preambleBytes, 0))
    return readError(path);
  Expected<size_t> dataOffset = parseNpyPreamble(preamble, preambleBytes, path);
  if (!dataOffset)
    return dataOffset.takeStatus();
  std::vector<uint8_t> headerBytes(
      *dataOffset < fileSize ? *dataOffset : static_cast<size_t>(fileSize));
  if (!readExactly(file.get(), headerBytes.data(), headerBytes.size(), 0))
    return readError(path);
  Expected<NpyHeader> header =
      parseNpyHeader(headerBytes.data(), headerBytes.size(), path);
  if (!header)
    return header.takeStatus();
  if (Status s = checkNpyDataSize(*header, fileSize - header->dataOffset, path);
      !s.ok())
    return s;

  if (Status s = checkHostAllocation(path, header->dataBytes); !s.ok())
    return s;
  if (Status s = checkHostAllocation(path, header->dataBytes); !s.ok())
    return s;

  NpyArray array;
  array.dtype = header->dtype;
  array.shape = std::move(header->shape);
  array.source = path;
  array.bytes.resize(static_cast<size_t>(header->dataBytes));
  if (!readExactly(file.get(), array.bytes.data(), array.bytes.size(),
                   header->dataOffset))
    return readError(path);
  return array;
}

Status attnc::writeNpyRaw(const std::string &path, NpyDType dtype,
                          const void *data, const std::vector<int64_t> &shape) {
  if (path.empty() || path.back() == '/')
    return Status::error(ErrorCode::InvalidArgument,
                         "'" + path + "' is not a file name to write to");
  if (shape.size() > kMaxRank)
    return Status::error(ErrorCode::InvalidArgument,
                         path + ": rank " + std::to_string(shape.size()) +
                             " is more than the " + std::to_string(kMaxRank) +
                             " dimensions NumPy can read");
  Expected<int64_t> count = checkedElementCount(
      shape, npyDTypeSize(dtype), path + ": shape", ErrorCode::InvalidArgument);
  if (!count)
    return count.takeStatus();
  if (*count > 0 && data == nullptr)
    return Status::error(ErrorCode::InvalidArgument,
                         path + ": no data given for a " + formatShape(shape) +
                             " " + npyDescr(dtype) + " array");

  std::string tmp;
  int fd = -1;
  // O_EXCL makes a name collision (a stale file from a killed process with
  // a recycled pid) visible; another name is then tried.
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = temporaryPath(path);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0)
    return ioError(path,
                   "cannot create a temporary file next to it: " + errnoText());
  size_t dataBytes = static_cast<size_t>(*count) * npyDTypeSize(dtype);
  return writeAndRename(path, tmp, fd, formatNpyHeader(dtype, shape), data,
                        dataBytes);
}

Status attnc::writeNpy(const std::string &path, const float *data,
                       const std::vector<int64_t> &shape) {
  return writeNpyRaw(path, NpyDType::F32, data, shape);
}

Status attnc::writeNpy(const std::string &path, const int32_t *data,
                       const std::vector<int64_t> &shape) {
  return writeNpyRaw(path, NpyDType::I32, data, shape);
}

Status attnc::writeNpy(const std::string &path, const NpyArray &array) {
  Expected<int64_t> count =
      checkedElementCount(array.shape, npyDTypeSize(array.dtype),
                          path + ": shape", ErrorCode::InvalidArgument);
  if (!count)
    return count.takeStatus();
  if (array.bytes.size() !=
      static_cast<size_t>(*count) * npyDTypeSize(array.dtype))
    return Status::error(ErrorCode::InvalidArgument,
                         path + ": array " + array.describe() + " holds " +
                             std::to_string(array.bytes.size()) +
                             " bytes, not the size of its shape");
  return writeNpyRaw(path, array.dtype,
                     array.bytes.empty() ? nullptr : array.bytes.data(),
                     array.shape);
}
