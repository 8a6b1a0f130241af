//===- attention.cpp - A compiled spec, callable on tensors ---------------===//
#include "attention.h"

#include "errors.h"
#include "runtimes.h"

#include "dsl/Frontend.h"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace nb = nanobind;

namespace attnc::python {

namespace {

/// Info's view of a param dimension: the DSL's spelling for the symbolic
/// ones, the extent for a fixed one.
nb::object dimension(const dsl::ParamDim &d) {
  switch (d.kind) {
  case dsl::ParamDim::Kind::Batch:
    return nb::str("batch");
  case dsl::ParamDim::Kind::QHeads:
    return nb::str("q_heads");
  case dsl::ParamDim::Kind::KVHeads:
    return nb::str("kv_heads");
  case dsl::ParamDim::Kind::Fixed:
    return nb::int_(d.extent);
  case dsl::ParamDim::Kind::Dynamic:
    break;
  }
  return nb::str("?");
}

/// The runtime's dtype of an fp8 K/V cache, or nullopt for a 16-bit one.
std::optional<DType> fp8DType(dsl::DType kvDtype) {
  if (kvDtype == dsl::DType::E4M3)
    return DType::F8E4M3;
  if (kvDtype == dsl::DType::E5M2)
    return DType::F8E5M2;
  return std::nullopt;
}

nb::dict describeSpec(const dsl::AttentionSpec &spec) {
  nb::dict info;
  info["name"] = spec.name;
  info["dtype"] = dsl::spelling(spec.dtype);
  // The K/V element type: "e4m3" or "e5m2" for an fp8 cache, else dtype.
  info["kv_dtype"] = dsl::spelling(spec.kvDtype);
  info["head_dim"] = spec.headDim;
  info["v_head_dim"] = spec.valueHeadDim();
  info["q_heads"] = spec.qHeads;
  info["kv_heads"] = spec.kvHeads;
  bool paged = spec.kvCache == dsl::KVCacheKind::Paged;
  info["kv_cache"] = paged ? "paged" : "dense";
  // "latent": V is the first v_head_dim columns of K (no V tensor).
  info["kv_layout"] = spec.latentKV ? "latent" : "separate";
  info["page_size"] = paged ? nb::object(nb::int_(spec.pageSize)) : nb::none();
  nb::dict params;
  for (const dsl::ParamDecl &p : spec.params) {
    nb::list dims;
    for (const dsl::ParamDim &d : p.dims)
      dims.append(dimension(d));
    params[p.name.c_str()] = nb::make_tuple(
        p.elementType == dsl::ValueType::Int ? "i32" : "f32", nb::tuple(dims));
  }
  info["params"] = params;
  info["scale"] = spec.scale;
  return info;
}

/// The first tensor of a call whose dtype is not the one it must have, by
/// the name the runtime's messages give it: q and o in the kernel's dtype,
/// the K/V tensors in kvDType (fp8 for a spec with an fp8 kv_dtype).
std::optional<std::string> dtypeMismatch(const KernelInfo &info,
                                         const AttentionTensors &t) {
  DType element = info.bf16 ? DType::BF16 : DType::F16;
  DType kvElement = kvDType(info);
  std::tuple<const char *, const TensorRef *, DType> floats[] = {
      {"q", &t.q, element},
      {"o", &t.o, element},
      {"k", &t.k, kvElement},
      {"v", &t.v, kvElement},
      {"k_cache", &t.kCache, kvElement},
      {"v_cache", &t.vCache, kvElement}};
  for (auto &[name, ref, want] : floats)
    if (!ref->absent() && ref->dtype != want)
      return std::string(name);
  if (t.lse.dtype != DType::F32)
    return std::string("lse");
  std::pair<const char *, const TensorRef *> ints[] = {
      {"qo_indptr", &t.qoIndptr},
      {"kv_indptr", &t.kvIndptr},
      {"block_table", &t.blockTable},
      {"kv_lens", &t.kvLens}};
  for (auto &[name, ref] : ints)
    if (!ref->absent() && ref->dtype != DType::I32)
      return std::string(name);
  for (const KernelInfo::Param &p : info.params) {
    auto it = t.params.find(p.name);
    if (it != t.params.end() &&
        it->second.dtype != (p.isFloat ? DType::F32 : DType::I32))
      return "param '" + p.name + "'";
  }
  return std::nullopt;
}

/// The runtime's rejection of a call as a Python exception: TypeError when
/// it is about a tensor's dtype, ValueError otherwise.
[[noreturn]] void rejectCall(const Status &status, const KernelInfo &info,
                             const AttentionTensors &t) {
  if (status.code() == ErrorCode::InvalidInput)
    if (std::optional<std::string> name = dtypeMismatch(info, t);
        name && status.message().rfind(*name + " is ", 0) == 0)
      throw nb::type_error(status.message().c_str());
  raise(status);
}

/// The longest query and KV runs of a call, reading only the entries the
/// index tensors have (a call not yet validated may have too few).
std::pair<int64_t, int64_t> longestRuns(const HostIndexData &host, bool paged) {
  int64_t maxQ = 0, maxKV = 0;
  int64_t batch = std::min(host.qoIndptr.count - 1,
                           paged ? host.kvLens.count : host.kvIndptr.count - 1);
  for (int64_t b = 0; b < batch; ++b) {
    maxQ = std::max<int64_t>(maxQ,
                             host.qoIndptr.data[b + 1] - host.qoIndptr.data[b]);
    maxKV = std::max<int64_t>(maxKV, paged ? host.kvLens.data[b]
                                           : host.kvIndptr.data[b + 1] -
                                                 host.kvIndptr.data[b]);
  }
  return {maxQ, maxKV};
}

/// "a, b" or "none".
std::string paramNames(const KernelInfo &info) {
  std::string all;
  for (const KernelInfo::Param &p : info.params)
    all += (all.empty() ? "" : ", ") + p.name;
  return all.empty() ? "none" : all;
}

nb::dict describeSelection(const JitKernels::Selection &pick) {
  nb::dict d;
  d["path"] = pick.config.path;
  d["block_q"] = pick.config.blockQ;
  d["block_kv"] = pick.config.blockKV;
  d["stages"] = pick.config.stages;
  d["warps"] = pick.kernel.info.threads / 32;
  d["splits"] = pick.numSplits;
  // A runtime block mask: built by a pre-pass, reused by the next call of
  // the same lengths and mask params.
  d["block_mask"] = pick.kernel.info.hasBlockMask();
  d["tuned"] = pick.tuned;
  d["why"] = pick.why;
  return d;
}

/// The tensors of a dense call, each read as its DLPack view.
CallArgs denseArgs(nb::handle o, nb::handle lse, nb::handle q, nb::handle k,
                   nb::handle v, nb::handle qoIndptr, nb::handle kvIndptr) {
  CallArgs a{TensorArg(o, "o"), TensorArg(lse, "lse"), TensorArg(q, "q"),
             TensorArg(qoIndptr, "qo_indptr")};
  a.k.emplace(k, "k");
  a.v.emplace(v, "v");
  a.kvIndptr.emplace(kvIndptr, "kv_indptr");
  return a;
}

/// The tensors and options of a paged call (attn.paged, attn.cascade).
CallArgs pagedArgs(nb::handle o, nb::handle lse, nb::handle q,
                   nb::handle kCache, nb::handle vCache, nb::handle blockTable,
                   nb::handle kvLens, nb::handle qoIndptr, int numSplits,
                   nb::dict params, uintptr_t stream, nb::dict hostIndices) {
  CallArgs a{TensorArg(o, "o"),
             TensorArg(lse, "lse"),
             TensorArg(q, "q"),
             TensorArg(qoIndptr, "qo_indptr"),
             params,
             numSplits,
             stream,
             hostIndices};
  a.kCache.emplace(kCache, "k_cache");
  a.vCache.emplace(vCache, "v_cache");
  a.blockTable.emplace(blockTable, "block_table");
  a.kvLens.emplace(kvLens, "kv_lens");
  return a;
}

} // namespace

dsl::AttentionSpec checkSpec(const CompileRequest &r) {
  // Checked here, before JitKernels does, for messages that speak of
  // kernel= and list the blocks.
  std::string diagnostics;
  std::optional<dsl::Module> module =
      dsl::parseAndCheckText(r.name, r.text, diagnostics);
  if (!module)
    throw SpecError(diagnostics);
  std::string names;
  for (const dsl::AttentionSpec &s : module->specs)
    names += (names.empty() ? "" : ", ") + s.name;
  if (r.kernel.empty() && module->specs.size() > 1)
    throw SpecError(r.name + " holds several attention blocks (" + names +
                    "); pick one with kernel=");
  for (dsl::AttentionSpec &s : module->specs)
    if (r.kernel.empty() || s.name == r.kernel)
      return std::move(s);
  throw SpecError(r.name + " has no attention block named '" + r.kernel +
                  "' (it has " + names + ")");
}

std::unique_ptr<JitKernels> createJit(Runtime &runtime, const CompileRequest &r,
                                      JitKernels::Options options) {
  options.kernel = r.kernel;
  options.tuningDB = r.tuningDB;
  options.path = r.path;
  Expected<std::unique_ptr<JitKernels>> jit = [&] {
    nb::gil_scoped_release released;
    return JitKernels::create(runtime, r.name, r.text, options);
  }();
  if (!jit) {
    // The spec checked already: what is left is the tuning database (a
    // file that does not read) or a lowering the compiler refused.
    if (jit.status().code() == ErrorCode::IOError)
      raise(jit.status());
    throw SpecError(jit.status().message());
  }
  return jit.takeValue();
}

std::unique_ptr<CompiledAttention>
CompiledAttention::compile(const CompileRequest &r) {
  checkBackendName(r.backend);
  if (r.path != "auto" && !isKernelPath(r.path))
    throw nb::value_error(("unknown path '" + r.path +
                           "'; use 'auto', 'prefill', 'packed' or 'decode'")
                              .c_str());
  dsl::AttentionSpec spec = checkSpec(r);
  std::unique_ptr<CompiledAttention> compiled(new CompiledAttention(r));
  compiled->request.kernel = spec.name;
  compiled->infoDict = describeSpec(spec);
  compiled->paged = spec.kvCache == dsl::KVCacheKind::Paged;
  compiled->latentKV = spec.latentKV;
  compiled->kvBytes = fp8DType(spec.kvDtype);
  std::shared_ptr<Runtime> runtime =
      valueOr(sharedRuntime(r.backend, 0, r.cacheDir));
  compiled->primary = runtime->backend().name();
  compiled->selectionNote = runtime->selection();
  compiled->addEngine(compiled->primary == "sim" ? "cpu" : "cuda:0", runtime);
  return compiled;
}

CompiledAttention::Engine &
CompiledAttention::addEngine(const std::string &key,
                             std::shared_ptr<Runtime> runtime) {
  std::unique_ptr<JitKernels> jit = createJit(*runtime, request, {});
  auto engine = std::make_unique<Engine>();
  engine->runtime = std::move(runtime);
  engine->jit = std::move(jit);
  std::lock_guard<std::mutex> lock(mutex);
  return *(engines[key] = std::move(engine));
}

CompiledAttention::Engine &
CompiledAttention::engineFor(const Placement &where) {
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (lastEngine && where == lastWhere)
      return *lastEngine;
    key = where.describe();
    auto found = engines.find(key);
    if (found != engines.end()) {
      lastWhere = where;
      return *(lastEngine = found->second.get());
    }
  }
  bool cpu = where.memory == MemoryKind::Host;
  if (request.backend == (cpu ? "cuda" : "sim"))
    throw nb::value_error(
        ("this attention was compiled with backend='" + request.backend +
         "', but the tensors are on " + key +
         " (CPU tensors run on the sim "
         "backend, CUDA tensors on cuda); compile with backend='auto' to "
         "run on both")
            .c_str());
  return addEngine(key, valueOr(sharedRuntime(cpu ? "sim" : "cuda",
                                              where.device, request.cacheDir)));
}

CompiledAttention::Pick CompiledAttention::memoized(Engine &engine,
                                                    int64_t batch, int64_t maxQ,
                                                    int64_t maxKV) {
  std::lock_guard<std::mutex> lock(mutex);
  auto found = engine.picks.find(std::make_tuple(batch, maxQ, maxKV));
  return found != engine.picks.end() ? found->second : nullptr;
}

Expected<CompiledAttention::Pick> CompiledAttention::pick(Engine &engine,
                                                          int64_t batch,
                                                          int64_t maxQ,
                                                          int64_t maxKV) {
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_tuple(batch, maxQ, maxKV);
  auto found = engine.picks.find(key);
  if (found != engine.picks.end())
    return found->second;
  Expected<JitKernels::Selection> fresh =
      engine.jit->select(batch, maxQ, maxKV);
  if (!fresh)
    return fresh.status();
  if (engine.picks.size() >= 4096) // a bound for long-running servers
    engine.picks.clear();
  Pick shared =
      std::make_shared<const JitKernels::Selection>(fresh.takeValue());
  engine.picks.emplace(key, shared);
  return shared;
}

CompiledAttention::Engine &
CompiledAttention::gather(CallArgs &a, Placement &where, AttentionTensors &t,
                          std::vector<TensorArg> &held, HostIndexData &host,
                          CascadeTensors *cascade) {
  bool pagedCall = a.kCache.has_value();
  if (pagedCall != paged)
    throw nb::value_error(
        (std::string("attention '") + request.kernel + "' has kv_cache = " +
         (paged ? "paged: call attn.paged(q, k_cache, v_cache, block_table, "
                  "kv_lens)"
                : "dense: call attn(q, k, v) or attn.padded(q, k, v)"))
            .c_str());
  // Every tensor on the one device the query is on.
  where = placementOf(a.q, "q");
  auto take = [&](const TensorArg &array, const char *name, TensorRef &ref,
                  bool ownPageStride = false,
                  std::optional<DType> bytesAs = std::nullopt,
                  bool anyStrides = false) {
    ref = tensorRef(array, name, ownPageStride, bytesAs, anyStrides);
    Placement p = placementOf(array, name);
    if (p != where)
      throw nb::value_error((std::string(name) + " is on " + p.describe() +
                             " but q is on " + where.describe() +
                             "; every tensor of a call must be on one device")
                                .c_str());
  };
  take(a.q, "q", t.q);
  take(a.o, "o", t.o);
  take(a.lse, "lse", t.lse);
  take(a.qoIndptr, "qo_indptr", t.qoIndptr);
  if (pagedCall) {
    take(*a.kCache, "k_cache", t.kCache, /*ownPageStride=*/true, kvBytes);
    take(*a.vCache, "v_cache", t.vCache, /*ownPageStride=*/true, kvBytes,
         /*anyStrides=*/latentKV);
    take(*a.blockTable, "block_table", t.blockTable);
    take(*a.kvLens, "kv_lens", t.kvLens);
    if (cascade) {
      take(*a.groupIndptr, "group_indptr", cascade->groupIndptr);
      take(*a.prefixBlockTable, "prefix_block_table",
           cascade->prefixBlockTable);
      take(*a.prefixLens, "prefix_lens", cascade->prefixLens);
    }
  } else {
    take(*a.k, "k", t.k, /*ownPageStride=*/false, kvBytes);
    take(*a.v, "v", t.v, /*ownPageStride=*/false, kvBytes,
         /*anyStrides=*/latentKV);
    take(*a.kvIndptr, "kv_indptr", t.kvIndptr);
  }
  Engine &engine = engineFor(where);
  const KernelInfo &info = engine.jit->info();
  for (auto [key, value] : a.params) {
    std::string name = nb::cast<std::string>(key);
    bool declared =
        std::any_of(info.params.begin(), info.params.end(),
                    [&](const KernelInfo::Param &p) { return p.name == name; });
    if (!declared)
      throw nb::value_error(("unknown param '" + name + "': attention '" +
                             request.kernel + "' declares " + paramNames(info))
                                .c_str());
    std::string label = "param '" + name + "'";
    take(held.emplace_back(value, label.c_str()), label.c_str(),
         t.params[name]);
  }

  // Host-readable index tensors: the tensors themselves on the CPU, the
  // copies Python made of them for CUDA tensors.
  if (where.memory == MemoryKind::Host) {
    host = hostIndexDataOf(t);
  } else {
    auto copy = [&](const char *name) -> HostI32 {
      nb::object found = a.hostIndices.get(name, nb::none());
      if (found.is_none())
        return HostI32{};
      return hostI32(held.emplace_back(found, name), name);
    };
    host.qoIndptr = copy("qo_indptr");
    host.kvIndptr = copy("kv_indptr");
    host.blockTable = copy("block_table");
    host.kvLens = copy("kv_lens");
    for (const KernelInfo::Param &p : info.params)
      if (!p.isFloat && t.params.count(p.name))
        host.params[p.name] = copy(("param:" + p.name).c_str());
  }
  return engine;
}

double CompiledAttention::run(CallArgs &a, int timedRuns) {
  Placement where;
  AttentionTensors t;
  std::vector<TensorArg> held;
  HostIndexData host;
  Engine &engine = gather(a, where, t, held, host);
  const KernelInfo &info = engine.jit->info();
  if (a.numSplits < 0)
    throw nb::value_error("num_splits must be 0 (automatic) or positive");

  // Runtime::run validates every call before it writes anything. A shape
  // seen before has its kernel already: that check is enough. Otherwise
  // the call is checked first, so that a bad one compiles nothing.
  auto [maxQ, maxKV] = longestRuns(host, paged);
  int64_t batch = host.qoIndptr.count - 1;
  Pick known = memoized(engine, batch, maxQ, maxKV);
  if (!known) {
    Status valid = validateAttentionInputs(info, t, host);
    if (!valid.ok())
      rejectCall(valid, info, t);
  }
  Status ran;
  double seconds = 0;
  {
    nb::gil_scoped_release released;
    Expected<Pick> chosen =
        known ? Expected<Pick>(known) : pick(engine, batch, maxQ, maxKV);
    if (!chosen) {
      ran = chosen.status();
    } else {
      const JitKernels::Selection &selection = **chosen;
      int splits = a.numSplits ? a.numSplits : selection.numSplits;
      void *stream = reinterpret_cast<void *>(a.stream);
      ran = engine.runtime->run(selection.kernel, t, stream, splits);
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; ran.ok() && i < timedRuns; ++i)
        ran = engine.runtime->run(selection.kernel, t, stream, splits);
      if (timedRuns > 0)
        ran = ran.ok() ? engine.runtime->backend().synchronize(stream) : ran;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              start)
                    .count();
    }
  }
  if (!ran.ok())
    rejectCall(ran, info, t);
  return timedRuns > 0 ? seconds / timedRuns : 0.0;
}

void CompiledAttention::runCascade(CallArgs &a) {
  if (!paged)
    throw nb::value_error((std::string("attention '") + request.kernel +
                           "' has kv_cache = dense; cascade attention "
                           "runs over a paged KV cache")
                              .c_str());
  Placement where;
  CascadeTensors c;
  std::vector<TensorArg> held;
  HostIndexData host;
  Engine &engine = gather(a, where, c.batch, held, host, &c);
  if (a.numSplits < 0)
    throw nb::value_error("num_splits must be 0 (automatic) or positive");
  if (!engine.cascadeJit) {
    // Created with the GIL held: its errors are Python exceptions.
    JitKernels::Options options;
    options.cascade = true;
    std::unique_ptr<JitKernels> jit =
        createJit(*engine.runtime, request, options);
    std::lock_guard<std::mutex> lock(mutex);
    if (!engine.cascadeJit)
      engine.cascadeJit = std::move(jit);
  }
  auto [maxQ, maxKV] = longestRuns(host, /*paged=*/true);
  int64_t batch = std::max<int64_t>(host.qoIndptr.count - 1, 0);
  Status ran;
  {
    nb::gil_scoped_release released;
    Expected<JitKernels::Selection> chosen = [&] {
      std::lock_guard<std::mutex> lock(mutex);
      return engine.cascadeJit->select(batch, maxQ, maxKV);
    }();
    if (!chosen)
      ran = chosen.status();
    else
      ran = engine.runtime->runCascade(
          chosen->kernel, c, reinterpret_cast<void *>(a.stream),
          a.numSplits ? a.numSplits : chosen->numSplits);
  }
  if (!ran.ok())
    rejectCall(ran, engine.jit->info(), c.batch);
}

nb::dict CompiledAttention::kernelFor(int64_t batch, int64_t maxQLen,
                                      int64_t maxKVLen,
                                      const std::string &device) {
  Placement where;
  if (device.rfind("cuda", 0) == 0) {
    where.memory = MemoryKind::Device;
    where.device = device.size() > 5 ? std::stoi(device.substr(5)) : 0;
  } else if (device != "cpu") {
    throw nb::value_error(
        ("device must be 'cpu' or 'cuda[:N]', got '" + device + "'").c_str());
  }
  if (batch < 0 || maxQLen < 0 || maxKVLen < 0)
    throw nb::value_error("batch and lengths must not be negative");
  Engine &engine = engineFor(where);
  Expected<Pick> chosen = [&] {
    nb::gil_scoped_release released;
    return pick(engine, batch, maxQLen, maxKVLen);
  }();
  if (!chosen)
    raise(chosen.status());
  return describeSelection(**chosen);
}

nb::dict CompiledAttention::info() const {
  // A copy: callers may change theirs.
  nb::dict copy;
  for (auto [key, value] : infoDict)
    copy[key] = key.equal(nb::str("params"))
                    ? nb::object(nb::dict(nb::borrow<nb::dict>(value)))
                    : nb::borrow(value);
  return copy;
}

void bindAttention(nb::module_ &m) {
  nb::class_<CompiledAttention>(m, "CompiledAttention",
                                "A checked and lowered spec (attnc._C); "
                                "attnc.Attention wraps it.")
      .def_prop_ro("info", &CompiledAttention::info)
      .def_prop_ro("backend", &CompiledAttention::backend)
      .def_prop_ro("selection", &CompiledAttention::selection)
      .def("kernel_for", &CompiledAttention::kernelFor, nb::arg("batch"),
           nb::arg("max_q_len"), nb::arg("max_kv_len"),
           nb::arg("device") = "cpu",
           "The kernel a call of this shape would run (compiled if needed).")
      .def(
          "run_dense",
          [](CompiledAttention &self, nb::handle o, nb::handle lse,
             nb::handle q, nb::handle k, nb::handle v, nb::handle qoIndptr,
             nb::handle kvIndptr, int numSplits, nb::dict params,
             uintptr_t stream, nb::dict hostIndices) {
            CallArgs a = denseArgs(o, lse, q, k, v, qoIndptr, kvIndptr);
            a.numSplits = numSplits;
            a.params = params;
            a.stream = stream;
            a.hostIndices = hostIndices;
            self.run(a);
          },
          nb::arg("o"), nb::arg("lse"), nb::arg("q"), nb::arg("k"),
          nb::arg("v"), nb::arg("qo_indptr"), nb::arg("kv_indptr"),
          nb::arg("num_splits"), nb::arg("params"), nb::arg("stream"),
          nb::arg("host_indices"),
          "Writes o and lse for ragged dense q, k, v (validated first; "
          "nothing is written on error). Tensors: torch tensors, DLPack "
          "capsules or other DLPack producers, read in place.")
      .def(
          "time_runtime_runs",
          [](CompiledAttention &self, nb::handle o, nb::handle lse,
             nb::handle q, nb::handle k, nb::handle v, nb::handle qoIndptr,
             nb::handle kvIndptr, int runs) {
            CallArgs a = denseArgs(o, lse, q, k, v, qoIndptr, kvIndptr);
            return self.run(a, std::max(runs, 1));
          },
          nb::arg("o"), nb::arg("lse"), nb::arg("q"), nb::arg("k"),
          nb::arg("v"), nb::arg("qo_indptr"), nb::arg("kv_indptr"),
          nb::arg("runs"),
          "run_dense on CPU tensors, then `runs` more Runtime::run calls in "
          "C++ with the kernel chosen once: the mean seconds per call "
          "(bench/python_overhead.py).")
      .def(
          "run_paged",
          [](CompiledAttention &self, nb::handle o, nb::handle lse,
             nb::handle q, nb::handle kCache, nb::handle vCache,
             nb::handle blockTable, nb::handle kvLens, nb::handle qoIndptr,
             int numSplits, nb::dict params, uintptr_t stream,
             nb::dict hostIndices) {
            CallArgs a =
                pagedArgs(o, lse, q, kCache, vCache, blockTable, kvLens,
                          qoIndptr, numSplits, params, stream, hostIndices);
            self.run(a);
          },
          nb::arg("o"), nb::arg("lse"), nb::arg("q"), nb::arg("k_cache"),
          nb::arg("v_cache"), nb::arg("block_table"), nb::arg("kv_lens"),
          nb::arg("qo_indptr"), nb::arg("num_splits"), nb::arg("params"),
          nb::arg("stream"), nb::arg("host_indices"),
          "Writes o and lse for q over a paged KV cache (validated first; "
          "nothing is written on error).")
      .def(
          "run_cascade",
          [](CompiledAttention &self, nb::handle o, nb::handle lse,
             nb::handle q, nb::handle kCache, nb::handle vCache,
             nb::handle blockTable, nb::handle kvLens, nb::handle qoIndptr,
             nb::handle groupIndptr, nb::handle prefixBlockTable,
             nb::handle prefixLens, int numSplits, nb::dict params,
             uintptr_t stream, nb::dict hostIndices) {
            CallArgs a =
                pagedArgs(o, lse, q, kCache, vCache, blockTable, kvLens,
                          qoIndptr, numSplits, params, stream, hostIndices);
            a.groupIndptr.emplace(groupIndptr, "group_indptr");
            a.prefixBlockTable.emplace(prefixBlockTable, "prefix_block_table");
            a.prefixLens.emplace(prefixLens, "prefix_lens");
            self.runCascade(a);
          },
          nb::arg("o"), nb::arg("lse"), nb::arg("q"), nb::arg("k_cache"),
          nb::arg("v_cache"), nb::arg("block_table"), nb::arg("kv_lens"),
          nb::arg("qo_indptr"), nb::arg("group_indptr"),
          nb::arg("prefix_block_table"), nb::arg("prefix_lens"),
          nb::arg("num_splits"), nb::arg("params"), nb::arg("stream"),
          nb::arg("host_indices"),
          "Cascade attention (Runtime::runCascade): writes o and lse; "
          "nothing is written on error.");

  m.def(
      "compile",
      [](std::string text, std::string name, std::string kernel,
         std::string backend, std::string path, std::string tuningDB,
         std::string cacheDir) {
        return CompiledAttention::compile(
            {text, name, kernel, backend, path, tuningDB, cacheDir});
      },
      nb::arg("text"), nb::arg("name"), nb::arg("kernel"), nb::arg("backend"),
      nb::arg("path"), nb::arg("tuning_db"), nb::arg("cache_dir"),
      "Checks and lowers the DSL `text` (named `name` in diagnostics).");
}

} // namespace attnc::python
