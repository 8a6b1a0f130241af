//===- PackageLocation.h - Where the installed package's headers are ------===//
//
// A program built against the installed CMake package (find_package(attnc))
// is compiled with ATTNC_PACKAGE_DEVICE_DIR: the package's
// include/attnc/runtime/device, computed from where attncConfig.cmake was
// found at the program's configure time, so it follows a moved prefix. The
// first of the program's translation units including this header to be
// initialized hands it to jit::deviceDir(), which the sim backend and NVRTC
// read the device library from. Inside attnc's own build it does nothing.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_JIT_PACKAGELOCATION_H
#define ATTNC_RUNTIME_JIT_PACKAGELOCATION_H

#ifdef ATTNC_PACKAGE_DEVICE_DIR
#include "runtime/jit/Nvrtc.h"

namespace attnc::jit::detail {
/// One definition for the whole program (an inline variable).
inline const bool packageDeviceDirSet =
    setPackageDeviceDir(ATTNC_PACKAGE_DEVICE_DIR);
} // namespace attnc::jit::detail
#endif

#endif // ATTNC_RUNTIME_JIT_PACKAGELOCATION_H
