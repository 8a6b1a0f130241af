//===- HostCompiler.cpp - Build generated CUDA for the sim backend --------===//
#include "runtime/jit/HostCompiler.h"
#include "runtime/jit/CacheTrust.h"
#include "runtime/jit/DiskCache.h"
#include "runtime/jit/Nvrtc.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace attnc;
using namespace attnc::jit;

unsigned long long attnc::jit::hashText(const std::string &text,
                                        unsigned long long seed) {
  unsigned long long h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

SimModule::~SimModule() {
  if (handle)
    dlclose(handle);
}

SimModule::LaunchFn SimModule::launcher(const std::string &kernelName) const {
  return reinterpret_cast<LaunchFn>(
      dlsym(handle, (kernelName + "_sim_launch").c_str()));
}

/// A hash of every header the kernel can include: the include dirs and the
/// sim headers beside them, so a changed device library never reuses a
/// stale object. Computed once per set of directories.
static unsigned long long
headerFingerprint(const std::vector<std::string> &dirs) {
  static std::mutex mutex;
  static std::map<std::vector<std::string>, unsigned long long> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(dirs);
  if (it != cache.end())
    return it->second;
  unsigned long long h = hashText("headers");
  for (const std::string &dir : dirs) {
    for (const std::string &d : {dir, dir + "/../sim"}) {
      std::vector<std::string> files;
      if (DIR *handle = opendir(d.c_str())) {
        while (dirent *entry = readdir(handle)) {
          std::string name = entry->d_name;
          if (name.size() > 2 &&
              (name.substr(name.size() - 2) == ".h" ||
               (name.size() > 4 && name.substr(name.size() - 4) == ".cuh")))
            files.push_back(name);
        }
        closedir(handle);
      }
      std::sort(files.begin(), files.end());
      for (const std::string &name : files) {
        std::ifstream in(d + "/" + name);
        std::stringstream text;
        text << in.rdbuf();
        h = hashText(name + "\n" + text.str(), h);
      }
    }
  }
  cache[dirs] = h;
  return h;
}

/// Runs `command`, returning its exit status and combined output.
static int run(const std::string &command, std::string &output) {
  FILE *pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) {
    output = "cannot run: " + command;
    return -1;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, n);
  return pclose(pipe);
}

static std::string quote(const std::string &s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

static std::unique_ptr<SimModule>
compileForSimImpl(const std::string &source, const HostCompileOptions &options,
                  std::string &error, bool rebuilt);

std::unique_ptr<SimModule>
attnc::jit::compileForSim(const std::string &source,
                          const HostCompileOptions &options,
                          std::string &error) {
  return compileForSimImpl(source, options, error, /*rebuilt=*/false);
}

static std::unique_ptr<SimModule>
compileForSimImpl(const std::string &source, const HostCompileOptions &options,
                  std::string &error, bool rebuilt) {
  // The build's compiler unless told otherwise: a package installed on
  // another machine may find it elsewhere.
  std::string compiler = options.compiler;
  if (const char *env = std::getenv("ATTNC_HOST_CXX");
      compiler.empty() && env && *env)
    compiler = env;
  if (compiler.empty())
    compiler = ATTNC_HOST_CXX;
  std::vector<std::string> includes = options.includeDirs;
  if (includes.empty())
    includes.push_back(deviceDir());
  std::string flags = "-std=c++17 -fPIC -shared -DATTNC_SIM " +
                      options.optLevel + (options.debugInfo ? " -g" : "");
  for (const std::string &dir : includes)
    flags += " -I" + quote(dir);

  std::string dir =
      options.cacheDir.empty() ? defaultCacheDir() : options.cacheDir;
  std::string sim = dir + "/sim";
  // The directory must be private before anything in it is trusted
  // (CacheTrust.h); the parent is checked too, since whoever can write it
  // can replace `sim`.
  for (const std::string &d : {dir, sim})
    if (Status s = openPrivateDirectory(d); !s.ok()) {
      error = s.message();
      return nullptr;
    }
  char key[32];
  std::snprintf(key, sizeof key, "%016llx",
                hashText(source, hashText(compiler + "\n" + flags,
                                          headerFingerprint(includes))));
  std::string object = sim + "/" + key + ".so";
  // The SHA-256 of the object, written when it was built: an object without
  // one, or whose bytes differ (truncated, corrupted, planted), is rebuilt
  // and never loaded.
  std::string digestPath = object + ".sha256";
  std::string bytes, recorded;
  bool trusted = readWholeFile(object, bytes) &&
                 readWholeFile(digestPath, recorded) &&
                 recorded == sha256Hex(bytes.data(), bytes.size());
  if (!trusted) {
    std::remove(object.c_str());
    std::remove(digestPath.c_str());
    // Unique per process and call: threads may build the same source.
    static std::atomic<unsigned> builds{0};
    std::string stem = sim + "/" + key + ".tmp" + std::to_string(getpid()) +
                       "." + std::to_string(builds++);
    if (Status s = writeFileDurably(stem + ".cu", source.data(), source.size());
        !s.ok()) {
      error = s.message();
      return nullptr;
    }
    std::string output;
    int status = run(quote(compiler) + " " + flags + " -x c++ " +
                         quote(stem + ".cu") + " -o " + quote(stem + ".so"),
                     output);
    std::remove((stem + ".cu").c_str());
    if (status != 0 || !readWholeFile(stem + ".so", bytes)) {
      std::remove((stem + ".so").c_str());
      error =
          "the host compiler could not build the kernel for sim:\n" + output;
      return nullptr;
    }
    // The object and its digest reach the disk before either is published;
    // the digest goes last, so a reader sees a whole pair or rebuilds.
    std::string digest = sha256Hex(bytes.data(), bytes.size());
    Status written = writeFileDurably(stem + ".so", bytes.data(), bytes.size());
    if (written.ok())
      written =
          writeFileDurably(stem + ".sha256", digest.data(), digest.size());
    if (!written.ok()) {
      std::remove((stem + ".so").c_str());
      std::remove((stem + ".sha256").c_str());
      error = written.message();
      return nullptr;
    }
    if (std::rename((stem + ".so").c_str(), object.c_str()) != 0 ||
        std::rename((stem + ".sha256").c_str(), digestPath.c_str()) != 0) {
      std::remove((stem + ".so").c_str());
      std::remove((stem + ".sha256").c_str());
      error = "cannot move the compiled kernel to " + object;
      return nullptr;
    }
  }
  void *handle = dlopen(object.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle && !rebuilt) {
    // Whole but unloadable (e.g. built against another runtime): rebuild.
    std::remove(object.c_str());
    std::remove(digestPath.c_str());
    return compileForSimImpl(source, options, error, /*rebuilt=*/true);
  }
  if (!handle) {
    error = std::string("cannot load ") + object + ": " + dlerror();
    return nullptr;
  }
  return SimModule::adopt(handle, object);
}
