//===- Interpreter.cpp - Entry point of the reference interpreter ---------===//
#include "interp/InterpInternal.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::interp;

FailureOr<AttentionOutputs>
attnc::interpretKernel(attn::KernelOp kernel, const AttentionInputs &inputs,
                       std::string &error) {
  error.clear();
  FailureOr<Problem> problem = Problem::create(kernel, inputs, error);
  if (failed(problem))
    return failure();
  for (Operation &op : kernel.getBody().front()) {
    // A block mask's pre-pass runs as part of its program.
    if (isa<attn::ParamOp, attn::BlockMaskOp>(op))
      continue;
    if (auto sdpa = dyn_cast<attn::SdpaOp>(op))
      return interpretSdpa(sdpa, *problem, error);
    if (auto program = dyn_cast<attn::ProgramOp>(op))
      return interpretProgram(program, *problem, error);
    error = describeOp(&op) + ": is not a computation the interpreter runs "
                              "(expected attn.sdpa or attn.program)";
    return failure();
  }
  error = "kernel @" + kernel.getSymName().str() + " holds no computation";
  return failure();
}
