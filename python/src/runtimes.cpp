//===- runtimes.cpp - One attnc Runtime per backend, shared by the process ===//
#include "runtimes.h"

#include <nanobind/nanobind.h>

#include <map>
#include <mutex>
#include <tuple>

namespace attnc::python {

Expected<std::shared_ptr<Runtime>> sharedRuntime(const std::string &backend,
                                                 int device,
                                                 const std::string &cacheDir) {
  using Key = std::tuple<std::string, int, std::string>;
  static std::mutex mutex;
  // Never destroyed: compiled specs may still hold kernels of a runtime
  // while the interpreter shuts down, in whatever order it frees them.
  static auto *runtimes = new std::map<Key, std::shared_ptr<Runtime>>();
  std::lock_guard<std::mutex> lock(mutex);
  Key key{backend, backend == "sim" ? 0 : device, cacheDir};
  auto found = runtimes->find(key);
  if (found != runtimes->end())
    return found->second;
  RuntimeOptions options;
  options.backend = backend;
  options.device = device;
  options.cacheDir = cacheDir;
  Expected<std::unique_ptr<Runtime>> created = Runtime::create(options);
  if (!created)
    return created.takeStatus();
  std::shared_ptr<Runtime> runtime(created.takeValue().release());
  (*runtimes)[key] = runtime;
  // "auto" is one of the two; later explicit requests for it share it.
  if (backend == "auto")
    runtimes->emplace(
        Key{runtime->backend().name(),
            std::string(runtime->backend().name()) == "sim" ? 0 : device,
            cacheDir},
        runtime);
  return runtime;
}

void checkBackendName(const std::string &backend) {
  if (backend != "auto" && backend != "sim" && backend != "cuda")
    throw nanobind::value_error(
        ("unknown backend '" + backend + "'; use 'auto', 'sim' or 'cuda'")
            .c_str());
}

} // namespace attnc::python
