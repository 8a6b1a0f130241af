//===- Types.h - Vocabulary of the paged KV cache -------------------------===//
//
// Ids, slots and element types shared by the block manager (which only does
// bookkeeping) and the page storage (which holds the K/V bytes).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_KVCACHE_TYPES_H
#define ATTNC_RUNTIME_KVCACHE_TYPES_H

#include <cstdint>

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

/// Element type of k_cache / v_cache. Both are 2 bytes; the cache stores the
/// raw uint16 bits and never does arithmetic on them.
enum class ElementType { F16, BF16 };

inline constexpr int64_t elementBytes(ElementType) { return 2; }
inline const char *elementTypeName(ElementType type) {
  return type == ElementType::F16 ? "f16" : "bf16";
}

} // namespace attnc::kvcache

#endif // ATTNC_RUNTIME_KVCACHE_TYPES_H
