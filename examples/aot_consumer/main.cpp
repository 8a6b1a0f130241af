// Lists the kernels attnc compiled into this program at build time, runs
// one of them on random inputs and checks it against a float64 attention
// computed here (DenseCheck.h).
#include "DenseCheck.h"

#include "runtime/aot/Registry.h"
#include "runtime/api/Runtime.h"
#include "runtime/jit/Nvrtc.h"

#include <cstdio>

using namespace attnc;

int main() {
  for (const aot::AotKernel *k : aot::kernels()) {
    std::printf("registered: %s %s (", k->info.name.c_str(), k->path.c_str());
    for (size_t i = 0; i < k->images.size(); ++i)
      std::printf("%s%s", i ? ", " : "", k->images[i].arch);
    std::printf(")\n");
  }
  // find() fails with what is registered instead of a null kernel.
  Expected<const aot::AotKernel *> decode = aot::find("aot_paged_decode");
  Expected<const aot::AotKernel *> aot = aot::find("aot_causal_gqa");
  for (Expected<const aot::AotKernel *> *k : {&decode, &aot})
    if (!*k) {
      std::fprintf(stderr, "%s\n", k->status().toString().c_str());
      return 1;
    }
  auto runtime = Runtime::create(RuntimeOptions{});
  if (!runtime) {
    std::fprintf(stderr, "%s\n", runtime.status().toString().c_str());
    return 1;
  }
  std::printf("backend: %s\n", (*runtime)->selection().c_str());
  // The device headers NVRTC and the sim backend compile kernels against:
  // the installed package's, wherever its prefix is now.
  std::printf("device library: %s\n", jit::deviceDir().c_str());
  Expected<Kernel> kernel = (*runtime)->loadAot(**aot);
  if (!kernel) {
    std::fprintf(stderr, "%s\n", kernel.status().toString().c_str());
    return 1;
  }
  // 8 query heads over 2 KV heads, head_dim 64; a ragged batch of two.
  densecheck::Problem problem{8, 2, 64, {5, 1}, {37, 20}, 5};
  return densecheck::runAndCheck(**runtime, *kernel, problem, 0,
                                 "aot_causal_gqa")
             ? 0
             : 1;
}
