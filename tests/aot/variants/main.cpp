// Variants compiled ahead of time (attnc_add_kernels VARIANTS prefill
// decode decode:16x32): each is registered under its path, aot::select()
// picks decode for one query per sequence and prefill for a prompt, and the
// decode kernels run split-KV and match float64 attention.
#include "DenseCheck.h"

#include "runtime/aot/Registry.h"
#include "runtime/api/Runtime.h"

#include <cstdio>
#include <string>

using namespace attnc;

namespace {
int failures = 0;

void expect(bool ok, const std::string &what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  failures += !ok;
}
} // namespace

int main() {
  std::vector<const aot::AotKernel *> all = aot::variants("aot_gqa");
  for (const aot::AotKernel *k : all)
    std::printf("registered: %s %s %dx%d packs %d%s\n", k->info.name.c_str(),
                k->path.c_str(), k->info.blockQ, k->info.blockKV,
                k->info.gqaPack, k->info.splitKV ? " split-kv" : "");
  expect(all.size() == 3, "three variants registered");
  const aot::AotKernel *prefill = aot::findKernel("aot_gqa", "prefill");
  const aot::AotKernel *decode = aot::findKernel("aot_gqa", "decode");
  expect(prefill && !prefill->info.splitKV && prefill->info.gqaPack == 1,
         "the prefill variant is one query head per program");
  expect(decode && decode->info.splitKV && decode->info.gqaPack == 4,
         "the decode variant packs 4 query heads and splits KV");
  int tiled = 0;
  for (const aot::AotKernel *k : all)
    tiled +=
        k->path == "decode" && k->info.blockQ == 16 && k->info.blockKV == 32;
  expect(tiled == 1, "decode:16x32 gave a 16x32 decode kernel");
  expect(aot::findKernel("aot_gqa") == prefill,
         "findKernel(spec) is the prefill variant");
  expect(!aot::findKernel("aot_gqa", "packed") &&
             !aot::find("aot_gqa", "packed").ok(),
         "no packed variant was asked for, none is found");
  Expected<const aot::AotKernel *> one = aot::select("aot_gqa", 1);
  Expected<const aot::AotKernel *> prompt = aot::select("aot_gqa", 40);
  expect(one.ok() && *one == decode, "select(spec, 1 query) is decode");
  expect(prompt.ok() && *prompt == prefill,
         "select(spec, 40 queries) is prefill");
  if (failures || !decode || !prefill)
    return 1;

  auto runtime = Runtime::create(RuntimeOptions{});
  if (!runtime) {
    std::printf("%s\n", runtime.status().toString().c_str());
    return 1;
  }
  std::printf("backend: %s\n", (*runtime)->selection().c_str());
  // Decode: one query per sequence over odd KV lengths, split in 3 and as
  // the runtime chooses; prefill on a short prompt batch.
  densecheck::Problem step{8, 2, 64, {1, 1, 1}, {1, 77, 300}, 7};
  densecheck::Problem prompt3{8, 2, 64, {5, 1}, {37, 20}, 5};
  for (const aot::AotKernel *k : all) {
    Expected<Kernel> kernel = (*runtime)->loadAot(*k);
    if (!kernel) {
      std::printf("%s\n", kernel.status().toString().c_str());
      return 1;
    }
    std::string label = "aot_gqa " + k->path + " " +
                        std::to_string(k->info.blockQ) + "x" +
                        std::to_string(k->info.blockKV);
    if (k->path == "decode") {
      failures += !densecheck::runAndCheck(**runtime, *kernel, step, 3,
                                           (label + " splits 3").c_str());
      failures += !densecheck::runAndCheck(**runtime, *kernel, step, 0,
                                           (label + " splits auto").c_str());
    } else {
      failures += !densecheck::runAndCheck(**runtime, *kernel, prompt3, 0,
                                           label.c_str());
    }
  }
  std::printf("%s\n", failures ? "FAIL" : "PASS");
  return failures ? 1 : 0;
}
