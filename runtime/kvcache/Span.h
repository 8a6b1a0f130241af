//===- Span.h - A non-owning view of a contiguous array -------------------===//
//
// C++17 has no std::span and the runtime does not depend on LLVM's ArrayRef,
// so this is the smallest view that lets APIs take a vector, a C array or a
// braced list without copying.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_SPAN_H
#define ATTNC_RUNTIME_KVCACHE_SPAN_H

#include <cassert>
#include <cstddef>
#include <initializer_list>
#include <vector>

namespace attnc::kvcache {

/// A read-only view of `size()` contiguous elements of type T.
template <typename T> class Span {
public:
  Span() = default;
  Span(const T *data, size_t size) : ptr(data), count(size) {}
  template <typename Alloc>
  Span(const std::vector<T, Alloc> &vec) : ptr(vec.data()), count(vec.size()) {}
  /// Only valid for the full-expression that holds the braced list, i.e. as
  /// an argument of a call (GCC warns about exactly this, as for ArrayRef).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  Span(std::initializer_list<T> list) : ptr(list.begin()), count(list.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  const T *data() const { return ptr; }
  size_t size() const { return count; }
  bool empty() const { return count == 0; }
  const T *begin() const { return ptr; }
  const T *end() const { return ptr + count; }
  const T &operator[](size_t i) const {
    assert(i < count && "index out of range");
    return ptr[i];
  }
  /// Elements [start, start + n).
  Span slice(size_t start, size_t n) const {
    assert(start + n <= count && "slice out of range");
    return Span(ptr + start, n);
  }
  /// Elements [start, size()).
  Span dropFront(size_t start) const { return slice(start, count - start); }

private:
  const T *ptr = nullptr;
  size_t count = 0;
};

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_SPAN_H
