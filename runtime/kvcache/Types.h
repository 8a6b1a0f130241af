//===- Types.h - Vocabulary of the paged KV cache -------------------------===//
//
// Ids, slots and element types shared by the block manager (which only does
// bookkeeping) and the page storage (which holds the K/V bytes).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_TYPES_H
#define ATTNC_RUNTIME_KVCACHE_TYPES_H

#include <cstdint>
#include <optional>
#include <string_view>

namespace attnc::kvcache {

/// Index of a physical page in the pool, in [0, num_pages). int32 because
/// block tables are int32 tensors.
using PageId = int32_t;

/// Handle of a sequence. Ids are never reused, so a stale handle is always
/// detected as unknown instead of silently naming a newer sequence.
using SeqId = uint64_t;

/// Where one token's K/V row lives: row `offset` of page `page`.
struct Slot {
  PageId page = 0;
  int32_t offset = 0;

  /// The flat slot index page * pageSize + offset: the row index into
  /// k_cache viewed as [num_pages * page_size, kv_heads, head_dim].
  int64_t flat(int32_t pageSize) const {
    return static_cast<int64_t>(page) * pageSize + offset;
  }
  friend bool operator==(Slot a, Slot b) {
    return a.page == b.page && a.offset == b.offset;
  }
  friend bool operator!=(Slot a, Slot b) { return !(a == b); }
};

/// A page copy the block manager asked the storage to perform (copy-on-write).
struct PageCopy {
  PageId src = -1;
  PageId dst = -1;
};

/// Element type of k_cache / v_cache. The cache stores the elements' raw
/// bits and never does arithmetic on them, so all it needs of a type is its
/// size: 2 bytes for f16 / bf16, 1 byte for the fp8 formats (OCP float8:
/// E4M3 is torch.float8_e4m3fn, E5M2 is torch.float8_e5m2). At a fixed
/// memory budget an fp8 cache holds twice the pages of a 16-bit one; the
/// quantisation scales belong to the kernel spec, not to the cache.
enum class ElementType { F16, BF16, E4M3, E5M2 };

/// Bytes of one element: 2 or 1.
inline constexpr int64_t elementBytes(ElementType type) {
  switch (type) {
  case ElementType::F16:
  case ElementType::BF16:
    return 2;
  case ElementType::E4M3:
  case ElementType::E5M2:
    return 1;
  }
  return 2; // unreachable for a valid enumerator
}

/// "f16", "bf16", "e4m3" or "e5m2".
inline const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  case ElementType::E4M3:
    return "e4m3";
  case ElementType::E5M2:
    return "e5m2";
  }
  return "?";
}

/// The inverse of elementTypeName. Also accepts the spellings "fp16" (the
/// kernel specs' and the Python API's) and "e4m3fn" (torch's).
inline std::optional<ElementType> parseElementType(std::string_view name) {
  if (name == "f16" || name == "fp16")
    return ElementType::F16;
  if (name == "bf16")
    return ElementType::BF16;
  if (name == "e4m3" || name == "e4m3fn")
    return ElementType::E4M3;
  if (name == "e5m2")
    return ElementType::E5M2;
  return std::nullopt;
}

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_TYPES_H
