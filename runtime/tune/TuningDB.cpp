//===- TuningDB.cpp - Tuned kernel configurations, persisted -------------===//
#include "runtime/tune/TuningDB.h"
#include "runtime/jit/HostCompiler.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
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
/// The string value of `"key": "..."` in `line`, or nullopt.
std::optional<std::string> stringField(const std::string &line,
                                       const std::string &key) {
  std::string pattern = "\"" + key + "\": \"";
  size_t at = line.find(pattern);
  if (at == std::string::npos)
    return std::nullopt;
  at += pattern.size();
  std::string out;
  for (; at < line.size() && line[at] != '"'; ++at) {
    if (line[at] == '\\' && at + 1 < line.size())
      ++at;
    out += line[at];
  }
  if (at >= line.size())
    return std::nullopt;
  return out;
}

std::optional<double> numberField(const std::string &line,
                                  const std::string &key) {
  std::string pattern = "\"" + key + "\": ";
  size_t at = line.find(pattern);
  if (at == std::string::npos)
    return std::nullopt;
  char *end = nullptr;
  const char *start = line.c_str() + at + pattern.size();
  double v = std::strtod(start, &end);
  if (end == start)
    return std::nullopt;
  return v;
}

std::string quoted(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}
} // namespace

Expected<TuningDB> TuningDB::load(const std::string &path) {
  TuningDB db;
  std::ifstream in(path);
  if (!in)
    return db;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find('{') == std::string::npos)
      continue; // "[" and "]"
    TunedConfig c;
    std::optional<std::string> spec = stringField(line, "spec"),
                               device = stringField(line, "device"),
                               bucket = stringField(line, "bucket"),
                               pathName = stringField(line, "path");
    std::optional<double> bq = numberField(line, "block_q"),
                          bkv = numberField(line, "block_kv"),
                          ms = numberField(line, "ms");
    if (!spec || !device || !bucket || !pathName || !bq || !bkv || !ms)
      return Status::error(ErrorCode::IOError,
                           path + ":" + std::to_string(number) +
                               ": not a tuning entry (expected spec, device, "
                               "bucket, path, block_q, block_kv, ms)");
    c.spec = *spec;
    c.device = *device;
    c.bucket = *bucket;
    c.path = *pathName;
    c.blockQ = static_cast<int>(*bq);
    c.blockKV = static_cast<int>(*bkv);
    c.ms = *ms;
    // Entries written before these dimensions were tuned hold the defaults.
    if (std::optional<double> stages = numberField(line, "stages"))
      c.stages = static_cast<int>(*stages);
    if (std::optional<double> splits = numberField(line, "splits"))
      c.splits = static_cast<int>(*splits);
    if (std::optional<double> warps = numberField(line, "warps"))
      c.warps = static_cast<int>(*warps);
    if ((c.stages != 1 && c.stages != 2) || c.splits < 0 || c.blockQ <= 0 ||
        c.blockKV <= 0 || c.warps < 0)
      return Status::error(ErrorCode::IOError,
                           path + ":" + std::to_string(number) +
                               ": tile sizes must be positive, stages 1 or 2 "
                               "and splits and warps not negative");
    db.configs.push_back(c);
  }
  return db;
}

Status TuningDB::save(const std::string &path) const {
  // Unique per process and call: threads may save at once.
  static std::atomic<unsigned> saves{0};
  std::string temp =
      path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(saves++);
  {
    std::ofstream out(temp);
    out << "[\n";
    for (size_t i = 0; i < configs.size(); ++i) {
      const TunedConfig &c = configs[i];
      out << "  {\"spec\": " << quoted(c.spec)
          << ", \"device\": " << quoted(c.device)
          << ", \"bucket\": " << quoted(c.bucket)
          << ", \"path\": " << quoted(c.path) << ", \"block_q\": " << c.blockQ
          << ", \"block_kv\": " << c.blockKV << ", \"stages\": " << c.stages
          << ", \"warps\": " << c.warps << ", \"splits\": " << c.splits
          << ", \"ms\": " << c.ms << "}" << (i + 1 < configs.size() ? "," : "")
          << "\n";
    }
    out << "]\n";
    if (!out) {
      std::remove(temp.c_str());
      return Status::error(ErrorCode::IOError, "cannot write " + temp);
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return Status::error(ErrorCode::IOError, "cannot replace " + path);
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
