// Uses the kernels compiled into a static library: finds them in the
// registry, runs one on random inputs and checks it in float64. When they
// are not linked, aot::find's error says why and the program fails.
#include "DenseCheck.h"

#include "runtime/aot/Registry.h"
#include "runtime/api/Runtime.h"

#include <cstdio>

#ifdef NESTED
const char *wrappedKernelSpec();
#define SPEC_NAME wrappedKernelSpec()
#else
const char *kernelLibrarySpec();
#define SPEC_NAME kernelLibrarySpec()
#endif

using namespace attnc;

int main() {
  Expected<const aot::AotKernel *> found = aot::find(SPEC_NAME);
  if (!found) {
    std::printf("%s\n", found.status().toString().c_str());
    return 1;
  }
  auto runtime = Runtime::create(RuntimeOptions{});
  if (!runtime) {
    std::printf("%s\n", runtime.status().toString().c_str());
    return 1;
  }
  Expected<Kernel> kernel = (*runtime)->loadAot(**found);
  if (!kernel) {
    std::printf("%s\n", kernel.status().toString().c_str());
    return 1;
  }
  densecheck::Problem p{4, 4, 64, {3, 1, 9}, {3, 40, 70}, 11};
  return densecheck::runAndCheck(**runtime, *kernel, p, 0, SPEC_NAME) ? 0 : 1;
}
