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
} // namespace

Registration::Registration(const char *source, KernelInfo info,
                           const Image *images, size_t numImages) {
  auto kernel = std::make_unique<AotKernel>();
  kernel->source = source;
  kernel->info = std::move(info);
  kernel->images.assign(images, images + numImages);
  registry().push_back(std::move(kernel));
}

const AotKernel *attnc::aot::findKernel(const std::string &specName) {
  for (const std::unique_ptr<AotKernel> &k : registry())
    if (k->info.specName == specName)
      return k.get();
  return nullptr;
}

std::vector<const AotKernel *> attnc::aot::kernels() {
  std::vector<const AotKernel *> out;
  for (const std::unique_ptr<AotKernel> &k : registry())
    out.push_back(k.get());
  return out;
}
