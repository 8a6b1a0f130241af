//===- Registry.cpp - Kernels compiled ahead of time into a program -------===//
#include "runtime/aot/Registry.h"

#include <memory>

using namespace attnc;
using namespace attnc::aot;

namespace {
/// Function-local, so registration from other translation units' static
/// initializers never sees it unconstructed.
std::vector<std::unique_ptr<AotKernel>> &registry() {
  static std::vector<std::unique_ptr<AotKernel>> kernels;
  return kernels;
}

/// "a (prefill), a (decode), b (prefill)", or "none".
std::string listRegistered() {
  std::string out;
  for (const std::unique_ptr<AotKernel> &k : registry())
    out += (out.empty() ? "" : ", ") + k->info.specName + " (" + k->path + ")";
  return out.empty() ? "none" : out;
}

Status notFound(const std::string &specName, const std::string &path) {
  std::string message =
      "no ahead-of-time kernel for '" + specName + "'" +
      (path.empty() ? "" : " on path " + path) +
      " is registered in this program; registered: " + listRegistered() + ".";
  if (registry().empty())
    message += " Kernels that attnc_add_kernels compiled into a static "
               "library reach a program only through that library's CMake "
               "target (target_link_libraries), which links them as objects; "
               "linking the archive file by itself leaves them out.";
  return Status::error(ErrorCode::NotFound, message);
}
} // namespace

std::string attnc::aot::pathOf(const KernelInfo &info) {
  if (info.splitKV)
    return "decode";
  return info.gqaPack > 1 ? "packed" : "prefill";
}

Registration::Registration(const char *source, KernelInfo info,
                           const Image *images, size_t numImages) {
  auto kernel = std::make_unique<AotKernel>();
  kernel->source = source;
  kernel->info = std::move(info);
  kernel->images.assign(images, images + numImages);
  kernel->path = pathOf(kernel->info);
  registry().push_back(std::move(kernel));
}

const AotKernel *attnc::aot::findKernel(const std::string &specName) {
  if (const AotKernel *k = findKernel(specName, "prefill"))
    return k;
  for (const std::unique_ptr<AotKernel> &k : registry())
    if (k->info.specName == specName)
      return k.get();
  return nullptr;
}

const AotKernel *attnc::aot::findKernel(const std::string &specName,
                                        const std::string &path) {
  for (const std::unique_ptr<AotKernel> &k : registry())
    if (k->info.specName == specName && k->path == path)
      return k.get();
  return nullptr;
}

std::vector<const AotKernel *>
attnc::aot::variants(const std::string &specName) {
  std::vector<const AotKernel *> out;
  for (const std::unique_ptr<AotKernel> &k : registry())
    if (k->info.specName == specName)
      out.push_back(k.get());
  return out;
}

std::vector<const AotKernel *> attnc::aot::kernels() {
  std::vector<const AotKernel *> out;
  for (const std::unique_ptr<AotKernel> &k : registry())
    out.push_back(k.get());
  return out;
}

Expected<const AotKernel *> attnc::aot::find(const std::string &specName,
                                             const std::string &path) {
  const AotKernel *k =
      path.empty() ? findKernel(specName) : findKernel(specName, path);
  if (!k)
    return notFound(specName, path);
  return k;
}

Expected<const AotKernel *> attnc::aot::select(const std::string &specName,
                                               long long maxQLen) {
  const AotKernel *decode = findKernel(specName, "decode");
  if (decode && prefersDecodePath(decode->info, maxQLen))
    return decode;
  for (const char *path : {"prefill", "packed", "decode"})
    if (const AotKernel *k = findKernel(specName, path))
      return k;
  return notFound(specName, "");
}
