//===- TuningDB.cpp - Tuned kernel configurations, persisted -------------===//
#include "tune/TuningDB.h"
#include "runtime/jit/HostCompiler.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <system_error>
#include <tuple>
#include <unistd.h>

using namespace attnc;

std::string attnc::specFingerprint(const std::string &text,
                                   const std::string &kernel) {
  char key[20];
  std::snprintf(key, sizeof key, "%016llx",
                jit::hashText(text, jit::hashText(kernel)));
  return key;
}

std::string attnc::shapeBucket(long long batch, long long maxQLen,
                               long long maxKVLen) {
  auto up = [](long long v) {
    long long p = 1;
    while (p < v)
      p *= 2;
    return p;
  };
  return "b" + std::to_string(up(batch)) + "-q" + std::to_string(up(maxQLen)) +
         "-kv" + std::to_string(up(maxKVLen));
}

namespace {
namespace json = llvm::json;

bool isJSONSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// "LINE:COL" (1-based, columns in bytes) where element `index` of the
/// top-level array in `text` starts. llvm::json keeps no positions of parsed
/// values, so errors in an entry find it again in the text, which has parsed
/// and so is valid JSON.
std::string elementPosition(llvm::StringRef text, size_t index) {
  unsigned line = 1, column = 1;
  int depth = 0;
  bool inString = false, escaped = false, expectElement = false;
  size_t seen = 0;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else {
      if (expectElement && !isJSONSpace(c)) {
        if (seen++ == index)
          return std::to_string(line) + ":" + std::to_string(column);
        expectElement = false;
      }
      switch (c) {
      case '"':
        inString = true;
        break;
      case '[':
      case '{':
        // The array itself opens at depth 0; its elements start at depth 1.
        expectElement = depth++ == 0;
        break;
      case ']':
      case '}':
        --depth;
        break;
      case ',':
        expectElement = depth == 1;
        break;
      default:
        break;
      }
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "?:?";
}

/// "a string", "an object", ... for messages about what a value is not.
std::string kindName(const json::Value &v) {
  switch (v.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return "a boolean";
  case json::Value::Number: {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << v;
    return os.str();
  }
  case json::Value::String:
    return "a string";
  case json::Value::Array:
    return "an array";
  case json::Value::Object:
    return "an object";
  }
  return "a value";
}

/// Reads the fields of one entry; the first problem is kept in `error`,
/// prefixed with `where` (file, position, entry number).
class EntryReader {
public:
  EntryReader(const json::Object &object, std::string where)
      : object(object), where(std::move(where)) {}

  void string(llvm::StringRef key, std::string &out, bool required) {
    if (const json::Value *v = field(key, required)) {
      if (std::optional<llvm::StringRef> s = v->getAsString())
        out = s->str();
      else
        fail(key, "must be a string, not " + kindName(*v));
    }
  }

  void integer(llvm::StringRef key, int &out, bool required) {
    if (const json::Value *v = field(key, required)) {
      std::optional<int64_t> n = v->getAsInteger();
      if (!n)
        fail(key, "must be an integer, not " + kindName(*v));
      else if (*n < INT_MIN || *n > INT_MAX)
        fail(key, "is out of range: " + kindName(*v));
      else
        out = static_cast<int>(*n);
    }
  }

  void number(llvm::StringRef key, double &out, bool required) {
    if (const json::Value *v = field(key, required)) {
      if (std::optional<double> n = v->getAsNumber())
        out = *n;
      else
        fail(key, "must be a number, not " + kindName(*v));
    }
  }

  /// Fails the entry with `message` unless `ok`.
  void check(bool ok, const std::string &message) {
    if (!ok && error.empty())
      error = where + ": " + message;
  }

  std::string error;

private:
  const json::Value *field(llvm::StringRef key, bool required) {
    if (!error.empty())
      return nullptr;
    const json::Value *v = object.get(key);
    if (!v && required)
      error = where + " has no \"" + key.str() +
              "\" (an entry needs spec, device, bucket, path, block_q, "
              "block_kv and ms)";
    return v;
  }

  void fail(llvm::StringRef key, const std::string &problem) {
    if (error.empty())
      error = where + ": \"" + key.str() + "\" " + problem;
  }

  const json::Object &object;
  std::string where;
};

/// `s` as json::Value accepts it: it asserts on invalid UTF-8, and a device
/// description comes from a driver.
std::string utf8(const std::string &s) {
  return json::isUTF8(s) ? s : json::fixUTF8(s);
}

/// The shortest text that reads back as `ms` exactly: llvm::json prints 17
/// digits, "33.061999999999998" where 33.062 is meant.
std::string shortest(double ms) {
  char text[64];
  std::to_chars_result r = std::to_chars(text, text + sizeof text, ms);
  return std::string(text, r.ptr);
}

Status ioError(const std::string &message) {
  return Status::error(ErrorCode::IOError, message);
}

/// Writes all of `text` to `fd`, across short writes and signals.
bool writeAll(int fd, const std::string &text) {
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    written += static_cast<size_t>(n);
  }
  return true;
}
} // namespace

Expected<TuningDB> TuningDB::load(const std::string &path) {
  TuningDB db;
  // Read, not mapped: another process may replace the file meanwhile.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false,
                                  /*IsVolatile=*/true);
  if (!buffer) {
    if (buffer.getError() == std::errc::no_such_file_or_directory)
      return db;
    // An unreadable database is an error: treated as empty, the next merge
    // would replace it with only the new entries.
    return ioError("cannot read the tuning database " + path + ": " +
                   buffer.getError().message());
  }
  llvm::StringRef text = (*buffer)->getBuffer();
  if (text.find_if_not(isJSONSpace) == llvm::StringRef::npos)
    return db;

  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed) {
    std::string message;
    llvm::handleAllErrors(
        parsed.takeError(),
        [&](const json::ParseError &e) {
          // Logged as "[LINE:COL, byte=N]: what"; shown as compilers do.
          // COL is where the parser stopped, just past the character it
          // rejected, which makes it that character's column counted from
          // 1; 0 only at the end of the file, shown as 1.
          std::string logged;
          llvm::raw_string_ostream os(logged);
          e.log(os);
          unsigned line = 0, column = 0;
          int end = 0;
          if (std::sscanf(logged.c_str(), "[%u:%u, byte=%*u]: %n", &line,
                          &column, &end) == 2 &&
              end > 0)
            message = path + ":" + std::to_string(line) + ":" +
                      std::to_string(std::max(column, 1u)) +
                      ": not valid JSON: " + logged.substr(end);
          else
            message = path + ": not valid JSON: " + logged;
        },
        [&](const llvm::ErrorInfoBase &e) {
          message = path + ": not valid JSON: " + e.message();
        });
    return ioError(message);
  }
  const json::Array *array = parsed->getAsArray();
  if (!array)
    return ioError(path + ": a tuning database is a JSON array of entries, " +
                   "not " + kindName(*parsed));

  db.configs.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    std::string where = path + ":" + elementPosition(text, i) +
                        ": tuning entry " + std::to_string(i + 1);
    const json::Object *object = (*array)[i].getAsObject();
    if (!object)
      return ioError(where + " is " + kindName((*array)[i]) +
                     ", not an object");
    TunedConfig c;
    EntryReader read(*object, where);
    read.string("spec", c.spec, true);
    read.string("kernel", c.kernel, false);
    read.string("device", c.device, true);
    read.string("bucket", c.bucket, true);
    read.string("path", c.path, true);
    read.integer("block_q", c.blockQ, true);
    read.integer("block_kv", c.blockKV, true);
    // Entries written before these dimensions were tuned hold the defaults.
    read.integer("stages", c.stages, false);
    read.integer("warps", c.warps, false);
    read.integer("splits", c.splits, false);
    read.number("ms", c.ms, true);
    read.check((c.stages == 1 || c.stages == 2) && c.splits >= 0 &&
                   c.blockQ > 0 && c.blockKV > 0 && c.warps >= 0,
               "tile sizes must be positive, stages 1 or 2 and splits and "
               "warps not negative");
    read.check(std::isfinite(c.ms), "\"ms\" must be finite");
    read.check(c.ms >= 0, "\"ms\" must not be negative");
    if (!read.error.empty())
      return ioError(read.error);
    // Kept as written, duplicates included: find() takes the first.
    db.configs.push_back(std::move(c));
  }
  return db;
}

Status TuningDB::save(const std::string &path) const {
  // Sorted, so that saving the same entries writes the same bytes whatever
  // order they were measured or merged in.
  std::vector<const TunedConfig *> sorted;
  for (const TunedConfig &c : configs) {
    if (!std::isfinite(c.ms))
      return ioError("cannot store a tuning entry for bucket " + c.bucket +
                     " in " + path + ": its time is not a finite number");
    sorted.push_back(&c);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const TunedConfig *a, const TunedConfig *b) {
                     return std::tie(a->spec, a->device, a->bucket) <
                            std::tie(b->spec, b->device, b->bucket);
                   });
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    json::OStream out(os, /*IndentSize=*/2);
    out.array([&] {
      for (const TunedConfig *c : sorted)
        out.object([&] {
          out.attribute("spec", utf8(c->spec));
          if (!c->kernel.empty())
            out.attribute("kernel", utf8(c->kernel));
          out.attribute("device", utf8(c->device));
          out.attribute("bucket", utf8(c->bucket));
          out.attribute("path", utf8(c->path));
          out.attribute("block_q", c->blockQ);
          out.attribute("block_kv", c->blockKV);
          out.attribute("stages", c->stages);
          out.attribute("warps", c->warps);
          out.attribute("splits", c->splits);
          out.attributeBegin("ms");
          out.rawValue(shortest(c->ms));
          out.attributeEnd();
        });
    });
    os << "\n";
  }

  // Unique per process and call: threads may save at once. In the same
  // directory, so the rename below replaces the file in one step and a
  // reader sees the old database or the new one, never part of one.
  static std::atomic<unsigned> saves{0};
  std::string temp =
      path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(saves++);
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    return ioError("cannot write " + temp + ": " + std::strerror(errno));
  // On disk before the rename: after a crash the file is whole, old or new.
  bool ok = writeAll(fd, text) && fsync(fd) == 0;
  int writeErrno = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    writeErrno = errno;
  }
  if (!ok) {
    std::remove(temp.c_str());
    return ioError("cannot write " + temp + ": " + std::strerror(writeErrno));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    int renameErrno = errno;
    std::remove(temp.c_str());
    return ioError("cannot replace " + path + ": " +
                   std::strerror(renameErrno));
  }
  // The rename itself is durable once the directory is; best effort.
  llvm::StringRef dir = llvm::sys::path::parent_path(path);
  std::string dirPath = dir.empty() ? "." : dir.str();
  int dirFd = open(dirPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    fsync(dirFd);
    close(dirFd);
  }
  return Status::success();
}

Status TuningDB::checkWritable(const std::string &path) {
  std::string lockPath = path + ".lock";
  int fd = open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status::error(ErrorCode::IOError,
                         "cannot write the tuning database " + path + ": " +
                             std::strerror(errno));
  close(fd);
  return Status::success();
}

Expected<TuningDB> TuningDB::merge(const std::string &path,
                                   const std::vector<TunedConfig> &configs) {
  std::string lockPath = path + ".lock";
  int fd = open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status::error(ErrorCode::IOError, "cannot open " + lockPath);
  if (flock(fd, LOCK_EX) != 0) {
    close(fd);
    return Status::error(ErrorCode::IOError, "cannot lock " + lockPath);
  }
  Expected<TuningDB> db = load(path);
  if (db) {
    for (const TunedConfig &c : configs)
      db->put(c);
    if (Status s = db->save(path); !s.ok())
      db = s;
  }
  flock(fd, LOCK_UN);
  close(fd);
  return db;
}

std::optional<TunedConfig> TuningDB::find(const std::string &spec,
                                          const std::string &device,
                                          const std::string &bucket) const {
  for (const TunedConfig &c : configs)
    if (c.spec == spec && c.device == device && c.bucket == bucket)
      return c;
  return std::nullopt;
}

void TuningDB::put(const TunedConfig &config) {
  for (TunedConfig &c : configs)
    if (c.spec == config.spec && c.device == config.device &&
        c.bucket == config.bucket) {
      c = config;
      return;
    }
  configs.push_back(config);
}
