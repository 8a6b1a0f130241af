//===- InterpProblem.cpp - Input checks and tensor access for the interpreter //
//
// Every shape the kernel implies is checked here once, so the evaluator can
// index Q/K/V directly; indices that come from the IR or from tensor
// contents (block-table entries, addresses, param indices) are checked where
// they are used.
//
//===----------------------------------------------------------------------===//
#include "interp/InterpInternal.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::interp;

static std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleaveComma(shape, os);
  os << "]";
  return os.str();
}

static std::string formatParamDims(attn::ParamOp param) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleaveComma(param.getDims(), os, [&](int64_t dim) {
    switch (dim) {
    case attn::kDynamicDim:
      os << "?";
      break;
    case attn::kBatchDim:
      os << "batch";
      break;
    case attn::kQHeadsDim:
      os << "q_heads";
      break;
    case attn::kKVHeadsDim:
      os << "kv_heads";
      break;
    default:
      os << dim;
    }
  });
  os << "]";
  return os.str();
}

/// Checks that `t` is a float tensor of exactly `shape`.
static LogicalResult checkFloatTensor(const HostTensor &t, const char *name,
                                      llvm::ArrayRef<int64_t> shape,
                                      std::string &error) {
  if (t.isInt) {
    error = std::string(name) + " must hold floats, not ints";
    return failure();
  }
  if (llvm::ArrayRef<int64_t>(t.shape) != shape) {
    error = std::string(name) + " has shape " + formatShape(t.shape) +
            ", expected " + formatShape(shape);
    return failure();
  }
  if (static_cast<int64_t>(t.f.size()) != t.numElements()) {
    error = std::string(name) + " holds " + std::to_string(t.f.size()) +
            " values for shape " + formatShape(t.shape);
    return failure();
  }
  return success();
}

/// Checks an indptr: batch + 1 entries, starting at 0, nondecreasing.
static LogicalResult checkIndptr(const std::vector<int32_t> &indptr,
                                 const char *name, int64_t batch,
                                 std::string &error) {
  if (static_cast<int64_t>(indptr.size()) != batch + 1) {
    error = std::string(name) + " has " + std::to_string(indptr.size()) +
            " entries, expected batch + 1 = " + std::to_string(batch + 1);
    return failure();
  }
  if (indptr[0] != 0) {
    error =
        std::string(name) + "[0] must be 0, got " + std::to_string(indptr[0]);
    return failure();
  }
  for (int64_t b = 0; b < batch; ++b)
    if (indptr[b + 1] < indptr[b]) {
      error = std::string(name) + " decreases at entry " +
              std::to_string(b + 1) + " (" + std::to_string(indptr[b]) +
              " then " + std::to_string(indptr[b + 1]) + ")";
      return failure();
    }
  return success();
}

static LogicalResult checkParam(attn::ParamOp param, const HostTensor *t,
                                const Problem &p, std::string &error) {
  std::string name = "parameter @" + param.getSymName().str();
  std::string declared = formatParamDims(param);
  bool wantInt = param.getElementType().isSignlessInteger(32);
  if (!t) {
    error =
        "missing " + name + " (" + (wantInt ? "i32 " : "f32 ") + declared + ")";
    return failure();
  }
  if (t->isInt != wantInt) {
    error = name + " must hold " + (wantInt ? "i32" : "f32") + " values";
    return failure();
  }
  llvm::ArrayRef<int64_t> dims = param.getDims();
  if (t->shape.size() != dims.size()) {
    error = name + " declared " + declared + " has rank " +
            std::to_string(dims.size()) + ", but the tensor passed has shape " +
            formatShape(t->shape);
    return failure();
  }
  for (auto [axis, dim] : llvm::enumerate(dims)) {
    int64_t got = t->shape[axis];
    int64_t want = dim;
    if (dim == attn::kBatchDim)
      want = p.batch;
    else if (dim == attn::kQHeadsDim)
      want = p.qHeads;
    else if (dim == attn::kKVHeadsDim)
      want = p.kvHeads;
    else if (dim == attn::kDynamicDim)
      want = got < 0 ? 0 : got;
    if (got != want) {
      error = name + " declared " + declared + " needs extent " +
              std::to_string(want) + " in dimension " + std::to_string(axis) +
              ", but the tensor passed has shape " + formatShape(t->shape);
      return failure();
    }
  }
  size_t size = wantInt ? t->i.size() : t->f.size();
  if (static_cast<int64_t>(size) != t->numElements()) {
    error = name + " holds " + std::to_string(size) + " values for shape " +
            formatShape(t->shape);
    return failure();
  }
  return success();
}

FailureOr<Problem> Problem::create(attn::KernelOp kernel,
                                   const AttentionInputs &in,
                                   std::string &error) {
  Problem p;
  p.kernel = kernel;
  p.in = &in;
  p.dtype = kernel.getDtype();
  p.qHeads = kernel.getQHeads();
  p.kvHeads = kernel.getKvHeads();
  p.headDim = kernel.getHeadDim();
  p.vHeadDim = kernel.getValueHeadDim();
  p.groupSize = kernel.getGroupSize();
  p.paged = kernel.getKvCache() == attn::KVCacheKind::paged;
  p.latentKV = kernel.getLatentKv();

  if (in.qoIndptr.empty()) {
    error = "qo_indptr is empty; it needs batch + 1 entries";
    return failure();
  }
  p.batch = in.batch();
  if (failed(checkIndptr(in.qoIndptr, "qo_indptr", p.batch, error)))
    return failure();
  p.totalQ = in.qoIndptr.back();
  if (failed(
          checkFloatTensor(in.q, "q", {p.totalQ, p.qHeads, p.headDim}, error)))
    return failure();

  if (!p.paged) {
    if (failed(checkIndptr(in.kvIndptr, "kv_indptr", p.batch, error)))
      return failure();
    p.kvRows = in.kvIndptr.back();
    if (failed(checkFloatTensor(in.k, "k", {p.kvRows, p.kvHeads, p.headDim},
                                error)) ||
        (!p.latentKV &&
         failed(checkFloatTensor(in.v, "v", {p.kvRows, p.kvHeads, p.vHeadDim},
                                 error))))
      return failure();
  } else {
    p.pageSize = *kernel.getPageSize();
    p.numPages = in.kCache.shape.empty() ? 0 : in.kCache.shape[0];
    if (failed(checkFloatTensor(in.kCache, "k_cache",
                                {p.numPages, p.pageSize, p.kvHeads, p.headDim},
                                error)) ||
        (!p.latentKV &&
         failed(checkFloatTensor(
             in.vCache, "v_cache",
             {p.numPages, p.pageSize, p.kvHeads, p.vHeadDim}, error))))
      return failure();
    p.kvRows = p.numPages * p.pageSize;
    if (in.maxPages < 0 ||
        static_cast<int64_t>(in.blockTable.size()) != p.batch * in.maxPages) {
      error = "block_table has " + std::to_string(in.blockTable.size()) +
              " entries, expected [batch, max_pages] = [" +
              std::to_string(p.batch) + ", " + std::to_string(in.maxPages) +
              "]";
      return failure();
    }
    if (static_cast<int64_t>(in.kvLens.size()) != p.batch) {
      error = "kv_lens has " + std::to_string(in.kvLens.size()) +
              " entries, expected batch = " + std::to_string(p.batch);
      return failure();
    }
    for (int64_t b = 0; b < p.batch; ++b)
      if (in.kvLens[b] < 0 || in.kvLens[b] > in.maxPages * p.pageSize) {
        error = "kv_lens[" + std::to_string(b) +
                "] = " + std::to_string(in.kvLens[b]) +
                " does not fit in max_pages (" + std::to_string(in.maxPages) +
                ") pages of " + std::to_string(p.pageSize) + " rows";
        return failure();
      }
  }

  for (auto &[name, tensor] : in.params)
    if (!kernel.lookupParam(name)) {
      error = "parameter @" + name + " is not declared by kernel @" +
              kernel.getSymName().str();
      return failure();
    }
  for (auto param : kernel.getBody().front().getOps<attn::ParamOp>()) {
    auto it = in.params.find(param.getSymName().str());
    const HostTensor *t = it == in.params.end() ? nullptr : &it->second;
    if (failed(checkParam(param, t, p, error)))
      return failure();
    p.params[param.getSymName()] = t;
  }
  return p;
}

const double *Problem::kvRow(bool isV, int64_t row, int64_t kvHead) const {
  // A latent cache's V row is the start of its K row.
  bool fromV = isV && !latentKV;
  const HostTensor &t =
      paged ? (fromV ? in->vCache : in->kCache) : (fromV ? in->v : in->k);
  return &t.f[(row * kvHeads + kvHead) * (fromV ? vHeadDim : headDim)];
}

const char *Problem::kvName(bool isV) const {
  if (paged)
    return isV ? "v_cache" : "k_cache";
  return isV ? "v" : "k";
}

FailureOr<int32_t> Problem::blockTableEntry(int64_t b, int64_t index,
                                            std::string &error) const {
  if (!paged) {
    error = "the block table of a dense KV cache was read";
    return failure();
  }
  if (b < 0 || b >= batch || index < 0 || index >= in->maxPages) {
    error = "block_table[" + std::to_string(b) + "][" + std::to_string(index) +
            "] is outside the table's [" + std::to_string(batch) + ", " +
            std::to_string(in->maxPages) + "] entries";
    return failure();
  }
  return in->blockTable[b * in->maxPages + index];
}

FailureOr<int64_t> Problem::logicalRow(int64_t b, int64_t row,
                                       std::string &error) const {
  if (!paged)
    return in->kvIndptr[b] + row;
  FailureOr<int32_t> page = blockTableEntry(b, row / pageSize, error);
  if (failed(page))
    return failure();
  if (*page < 0 || *page >= numPages) {
    error = "block_table[" + std::to_string(b) + "][" +
            std::to_string(row / pageSize) + "] = " + std::to_string(*page) +
            " is outside the page pool of " + std::to_string(numPages) +
            " pages (read for key " + std::to_string(row) + " of sequence " +
            std::to_string(b) + ")";
    return failure();
  }
  return int64_t(*page) * pageSize + row % pageSize;
}
