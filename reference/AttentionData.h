//===- AttentionData.h - Host tensors of one attention launch -------------===//
//
// The inputs and outputs of one attention launch as plain host data, shared
// by the IR interpreter and the AST reference: neither depends on the other,
// and this header depends on neither MLIR nor the DSL.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_REFERENCE_ATTENTIONDATA_H
#define ATTNC_REFERENCE_ATTENTIONDATA_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnc {

/// A dense row-major host tensor of doubles (`f`) or of i32 (`i`, when
/// `isInt`). A scalar has shape {}.
struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<double> f;
  std::vector<int32_t> i;
  bool isInt = false;

  /// Number of elements the shape describes.
  int64_t numElements() const;
  static HostTensor floats(std::vector<int64_t> shape,
                           std::vector<double> values);
  static HostTensor ints(std::vector<int64_t> shape,
                         std::vector<int32_t> values);
};

/// The tensors of one launch, laid out as the runtime takes them (ragged
/// batches with indptrs; dense or paged K/V). Float values are expected to
/// be already rounded to the kernel's dtype; the interpreter reads them as
/// they are.
struct AttentionInputs {
  /// [batch + 1]: sequence b's queries are rows qoIndptr[b]..qoIndptr[b+1].
  std::vector<int32_t> qoIndptr;
  /// [total_q, q_heads, head_dim].
  HostTensor q;

  // Dense KV cache.
  /// [batch + 1]: sequence b's keys are rows kvIndptr[b]..kvIndptr[b+1].
  std::vector<int32_t> kvIndptr;
  /// [total_kv, kv_heads, head_dim] each.
  HostTensor k, v;

  // Paged KV cache.
  /// [num_pages, page_size, kv_heads, head_dim] each.
  HostTensor kCache, vCache;
  /// [batch, maxPages], row-major: the physical page of each logical page.
  std::vector<int32_t> blockTable;
  int64_t maxPages = 0;
  /// [batch]: keys of each sequence.
  std::vector<int32_t> kvLens;

  /// Runtime parameters by name (without '@'); scalars have shape {}.
  std::map<std::string, HostTensor> params;

  /// Split-KV programs (attn.program kv_split): how many splits the KV
  /// range is cut into, as the launch would choose.
  int64_t numSplits = 1;
  /// Number of sequences (qoIndptr.size() - 1, or 0 when empty).
  int64_t batch() const;
};

/// O as [total_q, q_heads, head_dim] and LSE (natural log) as
/// [total_q, q_heads]. A row that sees no key has O = 0 and LSE = -inf.
struct AttentionOutputs {
  std::vector<double> o;
  std::vector<double> lse;
};

} // namespace attnc

#endif // ATTNC_REFERENCE_ATTENTIONDATA_H
