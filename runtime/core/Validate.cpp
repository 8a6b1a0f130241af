//===- Validate.cpp - Checking a launch's tensors against its kernel ------===//
//
// The checks run in an order where each may rely on the ones before it:
// presence, memory kinds, dtypes, element counts (no negative dimension, no
// overflow), shapes, row counts within int32, layouts, alignment, then the
// index contents.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/Validate.h"

#include <cstdint>
#include <cstdio>
#include <vector>

using namespace attnc;

namespace {

Status invalid(std::string message) {
  return Status::error(ErrorCode::InvalidInput, std::move(message));
}

std::string kernelName(const KernelInfo &kernel) {
  return "kernel '" + (kernel.name.empty() ? kernel.specName : kernel.name) +
         "'";
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

/// A tensor of the launch and the name the contract gives it.
struct Named {
  std::string name;
  const TensorRef *tensor;
};

/// Every tensor that was given, params last, named as in messages.
std::vector<Named> givenTensors(const AttentionTensors &t) {
  std::vector<Named> all = {{"q", &t.q},
                            {"o", &t.o},
                            {"lse", &t.lse},
                            {"qo_indptr", &t.qoIndptr},
                            {"k", &t.k},
                            {"v", &t.v},
                            {"kv_indptr", &t.kvIndptr},
                            {"k_cache", &t.kCache},
                            {"v_cache", &t.vCache},
                            {"block_table", &t.blockTable},
                            {"kv_lens", &t.kvLens},
                            {"q_positions", &t.qPositions}};
  for (const auto &[name, tensor] : t.params)
    all.push_back({"param '" + name + "'", &tensor});
  std::vector<Named> given;
  for (const Named &n : all)
    if (!n.tensor->absent())
      given.push_back(n);
  return given;
}

/// "f32[q_heads, ?]" or "i32" for a scalar.
std::string describeParam(const KernelInfo::Param &param) {
  std::string out = param.isFloat ? "f32" : "i32";
  if (param.dims.empty())
    return out;
  out += "[";
  for (size_t i = 0; i < param.dims.size(); ++i) {
    out += i ? ", " : "";
    switch (param.dims[i]) {
    case KernelInfo::Param::kDynamic:
      out += "?";
      break;
    case KernelInfo::Param::kBatch:
      out += "batch";
      break;
    case KernelInfo::Param::kQHeads:
      out += "q_heads";
      break;
    case KernelInfo::Param::kKVHeads:
      out += "kv_heads";
      break;
    default:
      out += std::to_string(param.dims[i]);
    }
  }
  return out + "]";
}

//===----------------------------------------------------------------------===//
// Presence
//===----------------------------------------------------------------------===//

Status checkKernelInfo(const KernelInfo &kernel) {
  // A KernelInfo comes from the code generator; nonsense here is a bug
  // upstream, and the checks below would divide by a zero page size.
  if (kernel.qHeads <= 0 || kernel.kvHeads <= 0 || kernel.headDim <= 0 ||
      (kernel.paged && kernel.pageSize <= 0))
    return Status::error(ErrorCode::InvalidArgument,
                         kernelName(kernel) + " has no valid shape (q_heads " +
                             std::to_string(kernel.qHeads) + ", kv_heads " +
                             std::to_string(kernel.kvHeads) + ", head_dim " +
                             std::to_string(kernel.headDim) + ", page_size " +
                             std::to_string(kernel.pageSize) + ")");
  return Status::success();
}

/// Whether `v` is the view of `k`'s first `dv` columns: the same storage,
/// shape and strides but for the last extent.
bool isLatentView(const TensorRef &v, const TensorRef &k, int64_t dv) {
  if (v.data != k.data || v.shape.size() != k.shape.size() || v.shape.empty() ||
      v.shape.back() != dv)
    return false;
  for (size_t d = 0; d < v.shape.size(); ++d)
    if ((d + 1 < v.shape.size() && v.shape[d] != k.shape[d]) ||
        v.stride(d) != k.stride(d))
      return false;
  return true;
}

Status checkKVPresence(const KernelInfo &kernel, const AttentionTensors &t) {
  const std::string denseWhy =
      kernelName(kernel) + " uses a dense KV cache (k, v, kv_indptr)";
  const std::string pagedWhy =
      kernelName(kernel) +
      " uses a paged KV cache (k_cache, v_cache, block_table, kv_lens)";
  const std::vector<Named> dense = {
      {"k", &t.k}, {"v", &t.v}, {"kv_indptr", &t.kvIndptr}};
  const std::vector<Named> paged = {{"k_cache", &t.kCache},
                                    {"v_cache", &t.vCache},
                                    {"block_table", &t.blockTable},
                                    {"kv_lens", &t.kvLens}};
  const std::string &why = kernel.paged ? pagedWhy : denseWhy;
  // A latent cache is K alone: V is read from K's rows. A V tensor may be
  // given only as the view of them the kernel reads (k[..., :v_head_dim]).
  const TensorRef &vTensor = kernel.paged ? t.vCache : t.v;
  const TensorRef &kTensor = kernel.paged ? t.kCache : t.k;
  if (kernel.latentKV && !vTensor.absent() &&
      !isLatentView(vTensor, kTensor, kernel.valueHeadDim())) {
    const char *v = kernel.paged ? "v_cache" : "v";
    const char *k = kernel.paged ? "k_cache" : "k";
    std::string dv = std::to_string(kernel.valueHeadDim());
    return invalid(std::string("tensor '") + v + "' given, but " +
                   kernelName(kernel) +
                   " has kv_layout = latent: V is the first " + dv +
                   " columns of " + k + "; pass no V tensor, or " + k +
                   "[..., :" + dv + "] (the same storage)");
  }
  for (const Named &n : kernel.paged ? paged : dense)
    if (n.tensor->absent() && !(kernel.latentKV && n.tensor == &vTensor))
      return invalid("missing tensor '" + n.name + "': " + why);
  for (const Named &n : kernel.paged ? dense : paged)
    if (!n.tensor->absent())
      return invalid("tensor '" + n.name + "' given, but " + why);
  return Status::success();
}

Status checkPresence(const KernelInfo &kernel, const AttentionTensors &t) {
  const Named always[] = {
      {"q", &t.q}, {"o", &t.o}, {"lse", &t.lse}, {"qo_indptr", &t.qoIndptr}};
  for (const Named &n : always)
    if (n.tensor->absent())
      return invalid("missing tensor '" + n.name +
                     "' (every launch takes q, o, lse and qo_indptr)");
  if (Status s = checkKVPresence(kernel, t); !s.ok())
    return s;
  if (kernel.qPositions && t.qPositions.absent())
    return invalid("missing tensor 'q_positions': " + kernelName(kernel) +
                   " is a cascade kernel, whose query positions are given "
                   "(Runtime::runCascade builds them)");
  if (!kernel.qPositions && !t.qPositions.absent())
    return invalid("tensor 'q_positions' given, but " + kernelName(kernel) +
                   " places queries by bottom-right alignment (only cascade "
                   "kernels take positions)");
  for (const KernelInfo::Param &param : kernel.params) {
    auto it = t.params.find(param.name);
    if (it == t.params.end() || it->second.absent())
      return invalid("missing param '" + param.name + "' (" +
                     describeParam(param) + ") of " + kernelName(kernel));
  }
  for (const auto &[name, tensor] : t.params) {
    bool declared = false;
    for (const KernelInfo::Param &param : kernel.params)
      declared |= param.name == name;
    if (declared)
      continue;
    std::string names;
    for (const KernelInfo::Param &param : kernel.params)
      names += (names.empty() ? "" : ", ") + param.name;
    return invalid(
        "unknown param '" + name + "': " + kernelName(kernel) +
        (names.empty() ? " declares no params" : " declares " + names));
  }
  return Status::success();
}

Status checkMemoryKinds(const AttentionTensors &t) {
  auto kindName = [](MemoryKind kind) {
    return kind == MemoryKind::Host ? "host" : "device";
  };
  for (const Named &n : givenTensors(t))
    if (n.tensor->memory != t.q.memory)
      return invalid(n.name + " is in " + kindName(n.tensor->memory) +
                     " memory, but q is in " + kindName(t.q.memory) +
                     " memory; a launch takes all its tensors from one "
                     "memory");
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Dtypes and element counts
//===----------------------------------------------------------------------===//

Status checkDTypes(const KernelInfo &kernel, const AttentionTensors &t) {
  DType element = kernel.bf16 ? DType::BF16 : DType::F16;
  const Named data[] = {{"q", &t.q}, {"o", &t.o}};
  for (const Named &n : data)
    if (!n.tensor->absent() && n.tensor->dtype != element)
      return invalid(n.name + " is " + dtypeName(n.tensor->dtype) + ", but " +
                     kernelName(kernel) + " takes " + dtypeName(element) +
                     " (q, o and the KV tensors share the kernel's dtype)");
  DType kvElement = kvDType(kernel);
  const Named kv[] = {
      {"k", &t.k}, {"v", &t.v}, {"k_cache", &t.kCache}, {"v_cache", &t.vCache}};
  for (const Named &n : kv)
    if (!n.tensor->absent() && n.tensor->dtype != kvElement)
      return invalid(n.name + " is " + dtypeName(n.tensor->dtype) + ", but " +
                     kernelName(kernel) + " takes " + dtypeName(kvElement) +
                     (kernel.kvFp8()
                          ? " (its K/V cache is fp8: kv_dtype in the spec)"
                          : " (q, o and the KV tensors share the kernel's "
                            "dtype)"));
  if (t.lse.dtype != DType::F32)
    return invalid(std::string("lse is ") + dtypeName(t.lse.dtype) +
                   "; lse is always f32");
  const Named indices[] = {{"qo_indptr", &t.qoIndptr},
                           {"kv_indptr", &t.kvIndptr},
                           {"block_table", &t.blockTable},
                           {"kv_lens", &t.kvLens},
                           {"q_positions", &t.qPositions}};
  for (const Named &n : indices)
    if (!n.tensor->absent() && n.tensor->dtype != DType::I32)
      return invalid(n.name + " is " + dtypeName(n.tensor->dtype) +
                     "; index tensors are i32");
  for (const KernelInfo::Param &param : kernel.params) {
    DType declared = param.isFloat ? DType::F32 : DType::I32;
    DType given = t.params.at(param.name).dtype;
    if (given != declared)
      return invalid("param '" + param.name + "' is " + dtypeName(given) +
                     ", but is declared " + describeParam(param));
  }
  return Status::success();
}

/// No negative dimension, an element count (and byte size) that fits in 63
/// bits, and data behind every non-empty tensor. The shape checks and the
/// kernel's 64-bit element offsets rely on this.
Status checkElementCounts(const AttentionTensors &t) {
  for (const Named &n : givenTensors(t)) {
    const TensorRef &tensor = *n.tensor;
    int64_t count = 1;
    for (int64_t d : tensor.shape) {
      if (d < 0)
        return invalid(n.name + " has shape " + formatShape(tensor.shape) +
                       " with a negative dimension");
      if (__builtin_mul_overflow(count, d, &count))
        return invalid(n.name + " has shape " + formatShape(tensor.shape) +
                       ", more elements than fit in 64 bits");
    }
    int64_t bytes;
    if (__builtin_mul_overflow(
            count, static_cast<int64_t>(dtypeSize(tensor.dtype)), &bytes))
      return invalid(n.name + " has shape " + formatShape(tensor.shape) +
                     ", more bytes than fit in 64 bits");
    if (count > 0 && tensor.data == nullptr)
      return invalid(n.name + " has shape " + formatShape(tensor.shape) +
                     " but no data (a null pointer)");
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

/// One dimension of an expected shape: its name in the contract and its
/// extent, or kAnyExtent where any extent is allowed.
struct Dim {
  static constexpr int64_t kAnyExtent = -1;
  std::string label;
  int64_t extent = kAnyExtent;
};

/// "[total_q, q_heads=8, head_dim=128]".
std::string formatExpected(const std::vector<Dim> &dims) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    out += i ? ", " : "";
    if (dims[i].label.empty())
      out += std::to_string(dims[i].extent);
    else if (dims[i].extent == Dim::kAnyExtent)
      out += dims[i].label;
    else
      out += dims[i].label + "=" + std::to_string(dims[i].extent);
  }
  return out + "]";
}

Status checkShape(const std::string &name, const TensorRef &tensor,
                  const std::vector<Dim> &expected) {
  std::string mismatch = name + " has shape " + formatShape(tensor.shape) +
                         ", expected " + formatExpected(expected);
  if (tensor.shape.size() != expected.size())
    return invalid(mismatch + " (rank " + std::to_string(tensor.shape.size()) +
                   ", not " + std::to_string(expected.size()) + ")");
  for (size_t i = 0; i < expected.size(); ++i) {
    const Dim &dim = expected[i];
    if (dim.extent == Dim::kAnyExtent || tensor.shape[i] == dim.extent)
      continue;
    std::string which = "dimension " + std::to_string(i) +
                        (dim.label.empty() ? "" : ", " + dim.label + ",");
    return invalid(mismatch + " (" + which + " is " +
                   std::to_string(tensor.shape[i]) + ", not " +
                   std::to_string(dim.extent) + ")");
  }
  return Status::success();
}

/// A rank-1 indptr of batch + 1 entries; `batch` < 0 when not yet known.
Status checkIndptrShape(const std::string &name, const TensorRef &tensor,
                        int64_t batch) {
  if (batch >= 0)
    return checkShape(name, tensor, {{"batch+1", batch + 1}});
  if (Status s = checkShape(name, tensor, {{"batch+1"}}); !s.ok())
    return s;
  if (tensor.shape[0] < 1)
    return invalid(name + " has shape [0], expected [batch+1]: an indptr "
                          "has at least one entry (batch 0 is [0])");
  return Status::success();
}

Status checkParamShapes(const KernelInfo &kernel, const AttentionTensors &t,
                        int64_t batch) {
  for (const KernelInfo::Param &param : kernel.params) {
    std::vector<Dim> expected;
    for (long long d : param.dims) {
      switch (d) {
      case KernelInfo::Param::kDynamic:
        expected.push_back({"?"});
        break;
      case KernelInfo::Param::kBatch:
        expected.push_back({"batch", batch});
        break;
      case KernelInfo::Param::kQHeads:
        expected.push_back({"q_heads", kernel.qHeads});
        break;
      case KernelInfo::Param::kKVHeads:
        expected.push_back({"kv_heads", kernel.kvHeads});
        break;
      default:
        expected.push_back({"", d});
      }
    }
    if (Status s = checkShape("param '" + param.name + "'",
                              t.params.at(param.name), expected);
        !s.ok())
      return s;
  }
  return Status::success();
}

/// The last dimension of V and O: named v_head_dim where it is not head_dim.
Dim valueDim(const KernelInfo &kernel) {
  if (kernel.valueHeadDim() == kernel.headDim)
    return {"head_dim", kernel.headDim};
  return {"v_head_dim", kernel.valueHeadDim()};
}

Status checkDenseShapes(const KernelInfo &kernel, const AttentionTensors &t,
                        int64_t batch) {
  if (Status s = checkShape("k", t.k,
                            {{"total_kv"},
                             {"kv_heads", kernel.kvHeads},
                             {"head_dim", kernel.headDim}});
      !s.ok())
    return s;
  int64_t totalKV = t.k.shape[0];
  if (kernel.latentKV)
    return checkIndptrShape("kv_indptr", t.kvIndptr, batch);
  if (Status s = checkShape("v", t.v,
                            {{"total_kv", totalKV},
                             {"kv_heads", kernel.kvHeads},
                             valueDim(kernel)});
      !s.ok())
    return s;
  return checkIndptrShape("kv_indptr", t.kvIndptr, batch);
}

Status checkPagedShapes(const KernelInfo &kernel, const AttentionTensors &t,
                        int64_t batch) {
  if (Status s = checkShape("k_cache", t.kCache,
                            {{"num_pages"},
                             {"page_size", kernel.pageSize},
                             {"kv_heads", kernel.kvHeads},
                             {"head_dim", kernel.headDim}});
      !s.ok())
    return s;
  int64_t numPages = t.kCache.shape[0];
  if (!kernel.latentKV)
    if (Status s = checkShape("v_cache", t.vCache,
                              {{"num_pages", numPages},
                               {"page_size", kernel.pageSize},
                               {"kv_heads", kernel.kvHeads},
                               valueDim(kernel)});
        !s.ok())
      return s;
  if (Status s = checkShape("block_table", t.blockTable,
                            {{"batch", batch}, {"max_pages"}});
      !s.ok())
    return s;
  return checkShape("kv_lens", t.kvLens, {{"batch", batch}});
}

Status checkShapes(const KernelInfo &kernel, const AttentionTensors &t) {
  if (Status s = checkShape("q", t.q,
                            {{"total_q"},
                             {"q_heads", kernel.qHeads},
                             {"head_dim", kernel.headDim}});
      !s.ok())
    return s;
  int64_t totalQ = t.q.shape[0];
  if (Status s = checkShape(
          "o", t.o,
          {{"total_q", totalQ}, {"q_heads", kernel.qHeads}, valueDim(kernel)});
      !s.ok())
    return s;
  if (Status s = checkShape("lse", t.lse,
                            {{"total_q", totalQ}, {"q_heads", kernel.qHeads}});
      !s.ok())
    return s;
  if (Status s = checkIndptrShape("qo_indptr", t.qoIndptr, -1); !s.ok())
    return s;
  if (!t.qPositions.absent())
    if (Status s =
            checkShape("q_positions", t.qPositions, {{"total_q", totalQ}});
        !s.ok())
      return s;
  int64_t batch = t.qoIndptr.shape[0] - 1;
  Status kv = kernel.paged ? checkPagedShapes(kernel, t, batch)
                           : checkDenseShapes(kernel, t, batch);
  if (!kv.ok())
    return kv;
  return checkParamShapes(kernel, t, batch);
}

/// Indptr entries, batch and max_pages are i32 in the kernel's arguments, so
/// the counts they hold must fit there. (Element offsets are 64-bit in the
/// kernel; checkElementCounts() covers them.)
Status checkFitsInt32(const KernelInfo &kernel, const AttentionTensors &t) {
  auto tooLarge = [](const std::string &name, const std::string &what,
                     int64_t value, const std::string &why) {
    return invalid(name + ": " + what + " = " + std::to_string(value) +
                   " does not fit in int32 (" + why + ")");
  };
  if (t.q.shape[0] > INT32_MAX)
    return tooLarge("q", "total_q", t.q.shape[0],
                    "qo_indptr holds i32 row offsets");
  if (t.qoIndptr.shape[0] - 1 > INT32_MAX)
    return tooLarge("qo_indptr", "batch", t.qoIndptr.shape[0] - 1,
                    "the kernel's batch is an int");
  if (!kernel.paged && t.k.shape[0] > INT32_MAX)
    return tooLarge("k", "total_kv", t.k.shape[0],
                    "kv_indptr holds i32 row offsets");
  if (kernel.paged && t.kCache.shape[0] > INT32_MAX)
    return tooLarge("k_cache", "num_pages", t.kCache.shape[0],
                    "block_table holds i32 page numbers");
  if (kernel.paged && t.blockTable.shape[1] > INT32_MAX)
    return tooLarge("block_table", "max_pages", t.blockTable.shape[1],
                    "the kernel's max_pages is an int");
  for (const KernelInfo::Param &param : kernel.params) {
    const TensorRef &tensor = t.params.at(param.name);
    for (size_t d = 0; d < tensor.shape.size(); ++d)
      if (tensor.shape[d] > INT32_MAX)
        return tooLarge("param '" + param.name + "'",
                        "dimension " + std::to_string(d), tensor.shape[d],
                        "param extents are ints in the kernel");
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

/// Every tensor is row-major and dense except the pages of k_cache and
/// v_cache: a page is a dense [page_size, kv_heads, head_dim] block, and
/// consecutive pages lie page_rows rows of that block's [rows, kv_heads,
/// head_dim] view apart (the kernel's `page_rows` argument), the same for
/// K and V. That covers K and V in one [num_pages, 2, page_size, ...]
/// tensor and a layer dimension inside the page dimension.
Status checkLayouts(const KernelInfo &kernel, const AttentionTensors &t) {
  for (const Named &n : givenTensors(t)) {
    const TensorRef &tensor = *n.tensor;
    if (!tensor.strides.empty() && tensor.strides.size() != tensor.shape.size())
      return Status::error(
          ErrorCode::InvalidArgument,
          n.name + " has " + std::to_string(tensor.strides.size()) +
              " strides for " + std::to_string(tensor.shape.size()) +
              " dimensions");
    bool cache = &tensor == &t.kCache || &tensor == &t.vCache;
    bool latentView =
        kernel.latentKV && (&tensor == &t.v || &tensor == &t.vCache);
    if (!cache && !latentView && !tensor.rowMajor())
      return invalid(n.name + " is not row-major and dense; only k_cache and "
                              "v_cache may have a page stride of their own");
  }
  if (!kernel.paged)
    return Status::success();
  int64_t rowElems = int64_t(kernel.kvHeads) * kernel.headDim;
  int64_t numPages = t.kCache.shape[0];
  int64_t pageStride = t.kCache.stride(0);
  for (const Named &n : {Named{"k_cache", &t.kCache}, {"v_cache", &t.vCache}}) {
    if (n.tensor->absent() || (kernel.latentKV && n.tensor == &t.vCache))
      continue; // a latent cache's V: none, or a view of K (checked above)
    TensorRef page = *n.tensor;
    page.shape[0] = 1; // what the stride of the pages must leave dense
    if (!page.rowMajor())
      return invalid(n.name + ": each page must be a dense [page_size, "
                              "kv_heads, head_dim] block (only the page "
                              "dimension may have its own stride)");
    // With their own head dims, K and V pages are each dense: the kernel
    // steps both by page_size rows of their own width.
    int64_t ownPage =
        int64_t(kernel.pageSize) * kernel.kvHeads *
        (n.tensor == &t.kCache ? kernel.headDim : kernel.valueHeadDim());
    if (kernel.valueHeadDim() != kernel.headDim && !kernel.latentKV &&
        numPages > 1 && n.tensor->stride(0) != ownPage)
      return invalid(n.name + ": with v_head_dim " +
                     std::to_string(kernel.valueHeadDim()) + " and head_dim " +
                     std::to_string(kernel.headDim) +
                     " each cache must be dense (pages " +
                     std::to_string(ownPage) + " elements apart), not " +
                     std::to_string(n.tensor->stride(0)));
    if (kernel.valueHeadDim() != kernel.headDim && !kernel.latentKV)
      continue;
    if (numPages > 1 && n.tensor->stride(0) != pageStride)
      return invalid("k_cache's pages are " + std::to_string(pageStride) +
                     " elements apart but v_cache's " +
                     std::to_string(n.tensor->stride(0)) +
                     "; the kernel takes one page stride for both");
  }
  if (numPages <= 1)
    return Status::success();
  int64_t pageElems = kernel.pageSize * rowElems;
  if (pageStride < pageElems || pageStride % rowElems != 0)
    return invalid("the page stride of k_cache and v_cache, " +
                   std::to_string(pageStride) +
                   " elements, must be a multiple of kv_heads * head_dim = " +
                   std::to_string(rowElems) + " and at least a page (" +
                   std::to_string(pageElems) + ")");
  // The kernel computes page * page_rows + slot in i32.
  int64_t pageRows = pageStride / rowElems;
  if (pageRows > INT32_MAX / numPages)
    return invalid("k_cache: " + std::to_string(numPages) + " pages " +
                   std::to_string(pageRows) +
                   " rows apart span more rows than fit in int32");
  return Status::success();
}

/// Data pointers aligned as the kernel reads them: K and V rows move in
/// 16-byte cp.async chunks (8-byte loads for an fp8 cache), so their base
/// must be 16- (8-) byte aligned; row and page strides then are too (the
/// head dim is a multiple of 8 and pages are whole rows apart). Every other
/// tensor is read element by element. A misaligned address is a sticky
/// fault on the GPU that ends the context, so it is refused here.
Status checkAlignment(const KernelInfo &kernel, const AttentionTensors &t) {
  size_t kvAlign = dtypeSize(kvDType(kernel)) == 1 ? 8 : 16;
  for (const Named &n : givenTensors(t)) {
    const TensorRef &tensor = *n.tensor;
    bool kv = &tensor == &t.k || &tensor == &t.v || &tensor == &t.kCache ||
              &tensor == &t.vCache;
    size_t align = kv ? kvAlign : dtypeSize(tensor.dtype);
    auto address = reinterpret_cast<uintptr_t>(tensor.data);
    if (align <= 1 || address % align == 0)
      continue;
    char hex[32];
    std::snprintf(hex, sizeof hex, "%#llx",
                  static_cast<unsigned long long>(address));
    std::string message = n.name + ": data at " + hex + " is not " +
                          std::to_string(align) + "-byte aligned";
    if (kv)
      message += "; K and V are read in " + std::to_string(align) +
                 "-byte chunks, so the first element must sit on a " +
                 std::to_string(align) +
                 "-byte boundary (a storage offset "
                 "that is a multiple of " +
                 std::to_string(align / dtypeSize(tensor.dtype)) + " elements)";
    return invalid(message);
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Index contents
//===----------------------------------------------------------------------===//

/// The host copy of `tensor`, which must hold exactly its elements. A wrong
/// copy is the caller's mistake, not the user's: InvalidArgument.
Status checkHostCopy(const std::string &name, const TensorRef &tensor,
                     const HostI32 &copy) {
  int64_t count = tensor.numElements();
  if (copy.count == count && (count == 0 || copy.data != nullptr))
    return Status::success();
  if (copy.data == nullptr)
    return Status::error(ErrorCode::InvalidArgument,
                         "no host copy of " + name + " to check (" +
                             std::to_string(count) + " entries expected)");
  return Status::error(ErrorCode::InvalidArgument,
                       "the host copy of " + name + " has " +
                           std::to_string(copy.count) +
                           " entries, the tensor has " + std::to_string(count));
}

Status checkIndptr(const std::string &name, const HostI32 &indptr,
                   const std::string &rowsOf, int64_t rows) {
  const int32_t *v = indptr.data;
  if (v[0] != 0)
    return invalid(name + "[0] = " + std::to_string(v[0]) +
                   "; an indptr starts at 0");
  for (int64_t i = 1; i < indptr.count; ++i)
    if (v[i] < v[i - 1])
      return invalid(
          name + "[" + std::to_string(i) + "] = " + std::to_string(v[i]) +
          " is less than " + name + "[" + std::to_string(i - 1) +
          "] = " + std::to_string(v[i - 1]) + "; an indptr never decreases");
  int64_t last = indptr.count - 1;
  if (v[last] != rows)
    return invalid(name + "[" + std::to_string(last) +
                   "] = " + std::to_string(v[last]) + ", but " + rowsOf +
                   " has " + std::to_string(rows) +
                   " rows; the last entry must be the row count");
  return Status::success();
}

Status checkPagedIndices(const KernelInfo &kernel, const AttentionTensors &t,
                         const HostIndexData &host) {
  int64_t batch = t.blockTable.shape[0];
  int64_t maxPages = t.blockTable.shape[1];
  int64_t numPages = t.kCache.shape[0];
  int64_t pageSize = kernel.pageSize;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t len = host.kvLens.data[b];
    std::string lenText =
        "kv_lens[" + std::to_string(b) + "] = " + std::to_string(len);
    if (len < 0)
      return invalid(lenText + " is negative");
    if (len > maxPages * pageSize)
      return invalid(lenText + " does not fit a block_table row: max_pages " +
                     std::to_string(maxPages) + " * page_size " +
                     std::to_string(pageSize) + " = " +
                     std::to_string(maxPages * pageSize) + " tokens");
    int64_t pagesRead = (len + pageSize - 1) / pageSize;
    for (int64_t j = 0; j < pagesRead; ++j) {
      int64_t page = host.blockTable.data[b * maxPages + j];
      if (page >= 0 && page < numPages)
        continue;
      return invalid(
          "block_table[" + std::to_string(b) + "][" + std::to_string(j) +
          "] = " + std::to_string(page) +
          (page < 0 ? " is negative" : " points past the page pool") +
          " (k_cache has " + std::to_string(numPages) + " pages; sequence " +
          std::to_string(b) + " reads " + std::to_string(pagesRead) +
          " pages for " + lenText + ")");
    }
  }
  return Status::success();
}

/// Positions stay within +-(2^30 - 1), which the mask analysis relies on to
/// prove that position arithmetic such as `q - kv` cannot wrap.
Status checkSequenceLengths(const KernelInfo &kernel,
                            const HostIndexData &host) {
  int64_t batch = host.qoIndptr.count - 1;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t qLen = int64_t(host.qoIndptr.data[b + 1]) - host.qoIndptr.data[b];
    int64_t kvLen = kernel.paged ? int64_t(host.kvLens.data[b])
                                 : int64_t(host.kvIndptr.data[b + 1]) -
                                       host.kvIndptr.data[b];
    for (auto [what, len] : {std::pair{"queries", qLen}, {"keys", kvLen}})
      if (len >= kMaxSequenceLength)
        return invalid("sequence " + std::to_string(b) + " has " +
                       std::to_string(len) + " " + what + "; at most " +
                       std::to_string(kMaxSequenceLength - 1) +
                       " per sequence are supported");
  }
  return Status::success();
}

/// Given positions keep to the range checkSequenceLengths keeps derived
/// ones to.
Status checkQueryPositions(const KernelInfo &kernel, const AttentionTensors &t,
                           const HostIndexData &host) {
  if (!kernel.qPositions)
    return Status::success();
  if (Status s = checkHostCopy("q_positions", t.qPositions, host.qPositions);
      !s.ok())
    return s;
  for (int64_t i = 0; i < host.qPositions.count; ++i) {
    int64_t pos = host.qPositions.data[i];
    if (pos <= -kMaxSequenceLength || pos >= kMaxSequenceLength)
      return invalid("q_positions[" + std::to_string(i) +
                     "] = " + std::to_string(pos) + " is outside +-" +
                     std::to_string(kMaxSequenceLength - 1));
  }
  return Status::success();
}

Status checkIndexData(const KernelInfo &kernel, const AttentionTensors &t,
                      const HostIndexData &host) {
  if (Status s = checkHostCopy("qo_indptr", t.qoIndptr, host.qoIndptr); !s.ok())
    return s;
  if (kernel.paged) {
    if (Status s = checkHostCopy("block_table", t.blockTable, host.blockTable);
        !s.ok())
      return s;
    if (Status s = checkHostCopy("kv_lens", t.kvLens, host.kvLens); !s.ok())
      return s;
  } else {
    if (Status s = checkHostCopy("kv_indptr", t.kvIndptr, host.kvIndptr);
        !s.ok())
      return s;
  }
  for (const auto &[name, copy] : host.params) {
    auto it = t.params.find(name);
    if (it != t.params.end())
      if (Status s = checkHostCopy("param '" + name + "'", it->second, copy);
          !s.ok())
        return s;
  }

  if (Status s = checkIndptr("qo_indptr", host.qoIndptr, "q", t.q.shape[0]);
      !s.ok())
    return s;
  if (kernel.paged) {
    if (Status s = checkPagedIndices(kernel, t, host); !s.ok())
      return s;
  } else if (Status s =
                 checkIndptr("kv_indptr", host.kvIndptr, "k", t.k.shape[0]);
             !s.ok()) {
    return s;
  }
  if (Status s = checkSequenceLengths(kernel, host); !s.ok())
    return s;
  return checkQueryPositions(kernel, t, host);
}

} // namespace

HostIndexData attnc::hostIndexDataOf(const AttentionTensors &tensors) {
  auto view = [](const TensorRef &t) {
    HostI32 out;
    if (t.absent() || t.memory != MemoryKind::Host || t.dtype != DType::I32)
      return out;
    out.data = static_cast<const int32_t *>(t.data);
    out.count = t.numElements();
    return out;
  };
  HostIndexData host;
  host.qoIndptr = view(tensors.qoIndptr);
  host.kvIndptr = view(tensors.kvIndptr);
  host.blockTable = view(tensors.blockTable);
  host.kvLens = view(tensors.kvLens);
  host.qPositions = view(tensors.qPositions);
  for (const auto &[name, tensor] : tensors.params)
    if (HostI32 copy = view(tensor); copy.data != nullptr)
      host.params[name] = copy;
  return host;
}

Status attnc::validateTensorShapes(const KernelInfo &kernel,
                                   const AttentionTensors &tensors) {
  if (Status s = checkKernelInfo(kernel); !s.ok())
    return s;
  if (Status s = checkPresence(kernel, tensors); !s.ok())
    return s;
  if (Status s = checkMemoryKinds(tensors); !s.ok())
    return s;
  if (Status s = checkDTypes(kernel, tensors); !s.ok())
    return s;
  if (Status s = checkElementCounts(tensors); !s.ok())
    return s;
  if (Status s = checkShapes(kernel, tensors); !s.ok())
    return s;
  if (Status s = checkFitsInt32(kernel, tensors); !s.ok())
    return s;
  if (Status s = checkLayouts(kernel, tensors); !s.ok())
    return s;
  return checkAlignment(kernel, tensors);
}

Status attnc::validateAttentionInputs(const KernelInfo &kernel,
                                      const AttentionTensors &tensors,
                                      const HostIndexData &host) {
  if (Status s = validateTensorShapes(kernel, tensors); !s.ok())
    return s;
  return checkIndexData(kernel, tensors, host);
}

int64_t attnc::pageRows(const KernelInfo &kernel,
                        const AttentionTensors &tensors) {
  if (tensors.kCache.shape.empty() || tensors.kCache.shape[0] <= 1)
    return kernel.pageSize;
  return tensors.kCache.stride(0) / (int64_t(kernel.kvHeads) * kernel.headDim);
}

DType attnc::kvDType(const KernelInfo &kernel) {
  switch (kernel.kvFormat) {
  case KernelInfo::KVFormat::E4M3:
    return DType::F8E4M3;
  case KernelInfo::KVFormat::E5M2:
    return DType::F8E5M2;
  case KernelInfo::KVFormat::Native:
    break;
  }
  return kernel.bf16 ? DType::BF16 : DType::F16;
}

std::optional<Fp8Format> attnc::kvFp8Format(const KernelInfo &kernel) {
  switch (kernel.kvFormat) {
  case KernelInfo::KVFormat::E4M3:
    return Fp8Format::E4M3;
  case KernelInfo::KVFormat::E5M2:
    return Fp8Format::E5M2;
  case KernelInfo::KVFormat::Native:
    break;
  }
  return std::nullopt;
}
