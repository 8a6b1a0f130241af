//===- Validate.h - Checking a launch's tensors against its kernel --------===//
//
// A generated kernel trusts its arguments: a wrong shape or a block-table
// entry past the page pool is an out-of-bounds read on the GPU, not an
// error. So every launch is checked first, against the KernelInfo the
// kernel was specialised for and DESIGN's tensor contract. Each failure is
// an InvalidInput whose message names the tensor and the problem, e.g.
//   block_table[2][5] = 917 points past the page pool (k_cache has 64
//   pages; sequence 2 reads 6 pages for kv_lens[2] = 90)
//
// Shapes, dtypes and memory kinds are checked from the TensorRefs alone.
// The index tensors' contents (indptrs, kv_lens, block_table) are checked
// from host-readable copies: for host tensors these are the tensors
// themselves (hostIndexDataOf), for device tensors the runtime copies them
// first.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CORE_VALIDATE_H
#define ATTNC_RUNTIME_CORE_VALIDATE_H

#include "runtime/core/Fp8.h"
#include "runtime/core/KernelInfo.h"
#include "runtime/core/Status.h"
#include "runtime/core/Tensor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace attnc {

/// Queries or keys of one sequence: fewer than 2^30, so every position
/// (in [-2^30, 2^30]) and the difference of two fit i32 with room to spare.
constexpr int64_t kMaxSequenceLength = int64_t(1) << 30;

/// The contents of an i32 tensor, readable on the host.
struct HostI32 {
  const int32_t *data = nullptr;
  /// Elements at `data`; must equal the tensor's element count.
  int64_t count = 0;
};

/// Host-readable copies of the index tensors of a launch. Only those the
/// kernel uses need be set: qo_indptr always, kv_indptr for a dense kernel,
/// block_table and kv_lens for a paged one.
struct HostIndexData {
  HostI32 qoIndptr, kvIndptr, blockTable, kvLens;
  /// Cascade kernels: q_positions.
  HostI32 qPositions;
  /// i32 params by name. Their values are the spec's to interpret (reads
  /// outside a param tensor give 0), so only their counts are checked.
  std::map<std::string, HostI32> params;
};

/// Views of the i32 tensors of `tensors` that are in host memory (those in
/// device memory, absent or not i32 are left empty).
HostIndexData hostIndexDataOf(const AttentionTensors &tensors);

/// Everything that can be checked without reading a tensor: which tensors
/// are given, their dtypes, shapes against the kernel and against each
/// other, row counts within int32, one memory kind for all.
Status validateTensorShapes(const KernelInfo &kernel,
                            const AttentionTensors &tensors);

/// The element type of the kernel's K/V tensors: its dtype, or the fp8
/// format of an fp8 cache.
DType kvDType(const KernelInfo &kernel);

/// The fp8 format of the kernel's K/V cache; nullopt for a 16-bit one.
std::optional<Fp8Format> kvFp8Format(const KernelInfo &kernel);

/// The kernel's `page_rows` argument for valid paged tensors: rows of the
/// caches' [rows, kv_heads, head_dim] view from one page's start to the
/// next (page_size for contiguous caches).
int64_t pageRows(const KernelInfo &kernel, const AttentionTensors &tensors);

/// What every launch checks: validateTensorShapes(), then the contents of
/// the index tensors from `host`: indptrs start at 0, never decrease and end
/// at the row count; kv_lens fit the block table; every block-table entry a
/// sequence reads is a page of the pool. Entries past a sequence's last page
/// are never read and not checked. A missing or wrongly sized host copy is an
/// InvalidArgument (the caller's mistake, not the user's).
Status validateAttentionInputs(const KernelInfo &kernel,
                               const AttentionTensors &tensors,
                               const HostIndexData &host);

} // namespace attnc

#endif // ATTNC_RUNTIME_CORE_VALIDATE_H
