//===- DevicePrimitivesSim.cpp - DevicePrimitives.cu, built for sim -------===//
//
// The very file NvrtcTest compiles for the GPU, compiled by the host
// compiler with ATTNC_SIM (set for the whole test target).
//
//===----------------------------------------------------------------------===//

#include "DevicePrimitives.h"

#include "DevicePrimitives.cu"
