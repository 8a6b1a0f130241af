//===- AttnDialect.cpp - Registration of the attn dialect -----------------===//
#include "dialect/AttnDialect.h"

using namespace mlir;
using namespace attnc::attn;

#include "dialect/AttnDialect.cpp.inc"
#include "dialect/AttnEnums.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/AttnOps.cpp.inc"
      >();
}
