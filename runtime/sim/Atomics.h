//===- Atomics.h - CUDA atomic functions for sim --------------------------===//
//
// Blocks of one launch run concurrently on several host threads, so device
// atomics are real host atomics (sequentially consistent, which is stronger
// than CUDA's relaxed atomics and therefore never hides a missing fence in
// the direction of a false failure).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_ATOMICS_H
#define ATTNC_RUNTIME_SIM_ATOMICS_H

#include <cstring>

namespace attnc::sim::detail {

/// Atomically applies `op` to a float or double via compare-and-swap on its
/// bits; returns the old value.
template <typename F, typename Bits, typename Op>
F atomicFloatUpdate(F *addr, Op op) {
  static_assert(sizeof(F) == sizeof(Bits), "same width");
  auto *bits = reinterpret_cast<Bits *>(addr);
  Bits expected = __atomic_load_n(bits, __ATOMIC_SEQ_CST);
  for (;;) {
    F old;
    std::memcpy(&old, &expected, sizeof(F));
    F updated = op(old);
    Bits desired;
    std::memcpy(&desired, &updated, sizeof(F));
    if (__atomic_compare_exchange_n(bits, &expected, desired, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      return old;
  }
}

} // namespace attnc::sim::detail

#define ATTNC_SIM_INT_ATOMICS(T)                                               \
  inline T atomicAdd(T *p, T v) {                                              \
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);                         \
  }                                                                            \
  inline T atomicSub(T *p, T v) {                                              \
    return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);                         \
  }                                                                            \
  inline T atomicAnd(T *p, T v) {                                              \
    return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);                         \
  }                                                                            \
  inline T atomicOr(T *p, T v) {                                               \
    return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);                          \
  }                                                                            \
  inline T atomicXor(T *p, T v) {                                              \
    return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);                         \
  }                                                                            \
  inline T atomicExch(T *p, T v) {                                             \
    return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);                        \
  }                                                                            \
  inline T atomicCAS(T *p, T expected, T desired) {                            \
    __atomic_compare_exchange_n(p, &expected, desired, false,                  \
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);           \
    return expected;                                                           \
  }                                                                            \
  inline T atomicMax(T *p, T v) {                                              \
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);                              \
    while (old < v &&                                                          \
           !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST,   \
                                        __ATOMIC_SEQ_CST)) {                   \
    }                                                                          \
    return old;                                                                \
  }                                                                            \
  inline T atomicMin(T *p, T v) {                                              \
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);                              \
    while (old > v &&                                                          \
           !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST,   \
                                        __ATOMIC_SEQ_CST)) {                   \
    }                                                                          \
    return old;                                                                \
  }

ATTNC_SIM_INT_ATOMICS(int)
ATTNC_SIM_INT_ATOMICS(unsigned)
ATTNC_SIM_INT_ATOMICS(unsigned long long)
#undef ATTNC_SIM_INT_ATOMICS

inline float atomicAdd(float *p, float v) {
  return attnc::sim::detail::atomicFloatUpdate<float, unsigned>(
      p, [v](float old) { return old + v; });
}
inline double atomicAdd(double *p, double v) {
  return attnc::sim::detail::atomicFloatUpdate<double, unsigned long long>(
      p, [v](double old) { return old + v; });
}
inline float atomicExch(float *p, float v) {
  return attnc::sim::detail::atomicFloatUpdate<float, unsigned>(
      p, [v](float) { return v; });
}

inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

#endif // ATTNC_RUNTIME_SIM_ATOMICS_H
