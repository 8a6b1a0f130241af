//===- StagedTensors.cpp - Interpreter inputs as a launch's tensors -------===//
#include "tune/StagedTensors.h"
#include "runtime/core/Fp8.h"
#include "runtime/core/Validate.h"
#include "runtime/sim/HalfTypes.h"

#include <limits>

using namespace attnc;

StagedTensors::~StagedTensors() {
  for (void *p : allocations)
    backend.release(p);
}

Status StagedTensors::stage(const AttentionInputs &in, AttentionTensors &out) {
  MemoryKind kind = backend.memoryKind();
  DType elem = info.bf16 ? DType::BF16 : DType::F16;
  auto halfs = [&](const char *name, const HostTensor &t,
                   TensorRef &ref) -> Status {
    std::vector<uint16_t> bits;
    bits.reserve(t.f.size());
    for (double x : t.f)
      bits.push_back(info.bf16 ? sim::floatToBf16Bits(static_cast<float>(x))
                               : sim::floatToHalfBits(static_cast<float>(x)));
    return put(name, bits.data(), bits.size() * 2, elem, t.shape, kind, ref);
  };
  // K and V: 16-bit like q, or the bytes of an fp8 cache (the values are
  // fp8 values already; encoding them is exact).
  auto kv = [&](const char *name, const HostTensor &t,
                TensorRef &ref) -> Status {
    std::optional<Fp8Format> format = kvFp8Format(info);
    if (!format)
      return halfs(name, t, ref);
    std::vector<uint8_t> bytes;
    bytes.reserve(t.f.size());
    for (double x : t.f)
      bytes.push_back(fp8Encode(*format, x));
    return put(name, bytes.data(), bytes.size(), kvDType(info), t.shape, kind,
               ref);
  };
  auto ints = [&](const char *name, const std::vector<int32_t> &v,
                  std::vector<int64_t> shape, TensorRef &ref) -> Status {
    return put(name, v.data(), v.size() * 4, DType::I32, std::move(shape), kind,
               ref);
  };
  int64_t batch = in.batch();
  Status s = halfs("q", in.q, out.q);
  if (s.ok())
    s = ints("qo_indptr", in.qoIndptr,
             {static_cast<int64_t>(in.qoIndptr.size())}, out.qoIndptr);
  if (s.ok() && info.paged) {
    s = kv("k_cache", in.kCache, out.kCache);
    if (s.ok() && !info.latentKV) // a latent cache has no V tensor
      s = kv("v_cache", in.vCache, out.vCache);
    if (s.ok())
      s = ints("block_table", in.blockTable, {batch, in.maxPages},
               out.blockTable);
    if (s.ok())
      s = ints("kv_lens", in.kvLens, {static_cast<int64_t>(in.kvLens.size())},
               out.kvLens);
  } else if (s.ok()) {
    s = kv("k", in.k, out.k);
    if (s.ok() && !info.latentKV)
      s = kv("v", in.v, out.v);
    if (s.ok())
      s = ints("kv_indptr", in.kvIndptr,
               {static_cast<int64_t>(in.kvIndptr.size())}, out.kvIndptr);
  }
  for (auto &[name, t] : in.params) {
    if (!s.ok())
      break;
    TensorRef &ref = out.params[name];
    if (t.isInt) {
      s = ints(name.c_str(), t.i, t.shape, ref);
    } else {
      std::vector<float> f(t.f.begin(), t.f.end());
      s = put(name.c_str(), f.data(), f.size() * 4, DType::F32, t.shape, kind,
              ref);
    }
  }
  if (!s.ok())
    return s;
  // Outputs start as NaN: any element the kernel fails to write shows.
  int64_t totalQ = in.q.shape.empty() ? 0 : in.q.shape[0];
  std::vector<uint16_t> oInit(totalQ * info.qHeads * info.valueHeadDim(),
                              info.bf16 ? 0x7fc0 : 0x7e00);
  std::vector<float> lseInit(totalQ * info.qHeads,
                             std::numeric_limits<float>::quiet_NaN());
  s = put("o", oInit.data(), oInit.size() * 2, elem,
          {totalQ, info.qHeads, info.valueHeadDim()}, kind, out.o);
  if (s.ok())
    s = put("lse", lseInit.data(), lseInit.size() * 4, DType::F32,
            {totalQ, info.qHeads}, kind, out.lse);
  return s;
}

Status StagedTensors::fetch(const AttentionTensors &t, std::vector<float> &o,
                            std::vector<float> &lse) {
  std::vector<uint16_t> bits(t.o.numElements());
  lse.resize(t.lse.numElements());
  Status s = backend.copyOut(bits.data(), t.o.data, bits.size() * 2);
  if (s.ok())
    s = backend.copyOut(lse.data(), t.lse.data, lse.size() * 4);
  o.clear();
  for (uint16_t b : bits)
    o.push_back(info.bf16 ? sim::bf16BitsToFloat(b) : sim::halfBitsToFloat(b));
  return s;
}

Status StagedTensors::fetch(const AttentionTensors &t, AttentionOutputs &out) {
  std::vector<float> o, lse;
  Status s = fetch(t, o, lse);
  out.o.assign(o.begin(), o.end());
  out.lse.assign(lse.begin(), lse.end());
  return s;
}

Status StagedTensors::put(const char *name, const void *data, size_t bytes,
                          DType dtype, std::vector<int64_t> shape,
                          MemoryKind kind, TensorRef &ref) {
  Expected<void *> p = backend.allocate(bytes ? bytes : 1, name);
  if (!p)
    return p.takeStatus();
  allocations.push_back(*p);
  if (bytes) {
    Status s = backend.copyIn(*p, data, bytes);
    if (!s.ok())
      return s;
  }
  ref.data = *p;
  ref.dtype = dtype;
  ref.shape = std::move(shape);
  ref.memory = kind;
  return Status::success();
}
