//===- memory.cuh - Global and shared accesses, dynamic shared memory -----===//
//
// Generated code reads and writes memory only through these, so the sim's
// checked mode can bound-check every access: global ones against the
// registered buffers, shared ones against the block's dynamic shared memory.
// On the GPU they are plain loads and stores.
//
// ATTNC_DYNAMIC_SMEM(type, name) declares the block's dynamic shared memory
// as `type name[]` (extern __shared__, 16-byte aligned) on CUDA and as a
// pointer to the block's buffer under sim; `name[i]` means the same on both.
// Use one element type (unsigned char is simplest) for every kernel of a
// module: CUDA requires all extern __shared__ declarations of a name to
// agree. All shared tiles should live in it: checked mode does not know the
// bounds of static __shared__ arrays.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_MEMORY_CUH
#define ATTNC_DEVICE_MEMORY_CUH

#include "types.cuh"

#ifdef ATTNC_SIM
#define ATTNC_DYNAMIC_SMEM(Type, name)                                         \
  Type *const name = static_cast<Type *>(::attnc::sim::detail::dynamicSmem())
#else
#define ATTNC_DYNAMIC_SMEM(Type, name)                                         \
  extern __shared__ __align__(16) Type name[]
#endif

namespace attnc::dev {

template <typename T> ATTNC_DEVICE T loadGlobal(const T *p) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::checkAccess(p, sizeof(T), alignof(T),
                                    ::attnc::sim::detail::Access::GlobalRead);
#endif
  return *p;
}

template <typename T> ATTNC_DEVICE void storeGlobal(T *p, T v) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::checkAccess(p, sizeof(T), alignof(T),
                                    ::attnc::sim::detail::Access::GlobalWrite);
#endif
  *p = v;
}

template <typename T> ATTNC_DEVICE T loadShared(const T *p) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::checkAccess(p, sizeof(T), alignof(T),
                                    ::attnc::sim::detail::Access::SharedRead);
#endif
  return *p;
}

template <typename T> ATTNC_DEVICE void storeShared(T *p, T v) {
#ifdef ATTNC_SIM
  ::attnc::sim::detail::checkAccess(p, sizeof(T), alignof(T),
                                    ::attnc::sim::detail::Access::SharedWrite);
#endif
  *p = v;
}

/// The block's dynamic shared memory, for device functions that keep
/// scratch at a fixed offset in it (the kernel declares the same array with
/// ATTNC_DYNAMIC_SMEM).
ATTNC_DEVICE unsigned char *dynamicSmemBase() {
#ifdef ATTNC_SIM
  return static_cast<unsigned char *>(::attnc::sim::detail::dynamicSmem());
#else
  extern __shared__ __align__(16) unsigned char smem[];
  return smem;
#endif
}

/// The 32-bit shared-window address PTX's shared-memory instructions take.
ATTNC_DEVICE unsigned smemAddress(const void *p) {
#ifdef ATTNC_SIM
  return static_cast<unsigned>(reinterpret_cast<unsigned long long>(p));
#else
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
#endif
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_MEMORY_CUH
