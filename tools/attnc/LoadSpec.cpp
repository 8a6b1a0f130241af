//===- LoadSpec.cpp - A spec file opened for attnc run and attnc tune -----===//
#include "LoadSpec.h"

#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"

#include "llvm/Support/raw_ostream.h"

using namespace attnc;

std::optional<LoadedSpec> attnc::loadSpec(Runtime &runtime,
                                          mlir::MLIRContext &context,
                                          const std::string &path,
                                          const JitKernels::Options &options,
                                          const char *tool) {
  auto fail = [&](const std::string &message) {
    llvm::errs() << tool << ": error: " << message << "\n";
    return std::nullopt;
  };
  std::string error;
  std::optional<dsl::SourceFile> source = dsl::readSourceFile(path, error);
  if (!source)
    return fail(error);
  Expected<std::unique_ptr<JitKernels>> jit =
      JitKernels::create(runtime, path, source->text, options);
  if (!jit) {
    // A spec that does not check comes with its rendered diagnostics.
    const std::string &message = jit.status().message();
    if (message.find(": error: ") != std::string::npos) {
      llvm::errs() << message;
      return std::nullopt;
    }
    return fail(message);
  }
  LoadedSpec loaded;
  loaded.reference = buildModule(context, (*jit)->module());
  if (!loaded.reference)
    return fail("internal error: the IR built from " + path +
                " does not verify");
  loaded.jit = jit.takeValue();
  return loaded;
}
