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
    // A block mask's pre-pass runs as part of its program; the score's
    // derivative belongs to the backward pass.
    if (isa<attn::ParamOp, attn::BlockMaskOp, attn::ScoreGradOp>(op))
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

FailureOr<ParamGradValue>
attnc::evaluateParamGrad(attn::KernelOp kernel, attn::ParamGradOp grad,
                         const AttentionInputs &inputs, float score, int32_t b,
                         int32_t h, int32_t q, int32_t kv, std::string &error) {
  error.clear();
  FailureOr<Problem> problem = Problem::create(kernel, inputs, error);
  if (failed(problem))
    return failure();
  Evaluator ev(*problem, error);
  Region &region = grad.getBody();
  FailureOr<RtValue> partial = ev.runExpression(region, score, b, h, q, kv);
  if (failed(partial))
    return failure();
  auto yield = cast<attn::YieldParamGradOp>(region.front().getTerminator());
  auto load = yield.getRead().getDefiningOp<attn::ParamLoadOp>();
  FailureOr<int64_t> element =
      ev.elementOf(load, *problem->params.at(load.getParam()));
  if (failed(element))
    return failure();
  ParamGradValue result;
  result.partial = partial->f;
  result.element = *element;
  return result;
}

FailureOr<double> attnc::evaluateExpression(attn::KernelOp kernel,
                                            Region &region,
                                            const AttentionInputs &inputs,
                                            float score, int32_t b, int32_t h,
                                            int32_t q, int32_t kv,
                                            std::string &error) {
  error.clear();
  FailureOr<Problem> problem = Problem::create(kernel, inputs, error);
  if (failed(problem))
    return failure();
  Evaluator ev(*problem, error);
  FailureOr<RtValue> value = ev.runExpression(region, score, b, h, q, kv);
  if (failed(value))
    return failure();
  return value->kind == RtValue::Kind::Float ? static_cast<double>(value->f)
                                             : static_cast<double>(value->i);
}
