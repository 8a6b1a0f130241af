//===- InterpTestSupport.h - IR builders and a plain reference for tests --===//
//
// Kernels are written as IR text, assembled from a header, the parameter
// declarations and the bodies of the score and mask regions, so one variant
// (say ALiBi) can be written once and run as attn.sdpa, as an untiled
// program and as a tiled one. The reference below is attention written out
// in plain C++ with the variant's formulas as lambdas: it shares nothing
// with the interpreter but the input structs.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_INTERP_INTERPTESTSUPPORT_H
#define ATTNC_TESTS_UNIT_INTERP_INTERPTESTSUPPORT_H

#include "dialect/AttnDialect.h"
#include "interp/Interpreter.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>

namespace attnc::test {

/// A context with the dialects attn kernels use.
inline std::unique_ptr<mlir::MLIRContext> makeContext() {
  auto context = std::make_unique<mlir::MLIRContext>();
  context->loadDialect<attn::AttnDialect, mlir::arith::ArithDialect,
                       mlir::math::MathDialect, mlir::scf::SCFDialect>();
  return context;
}

/// A parsed module and its first kernel; REQUIREs that the text parses and
/// verifies, and shows the parser's message when it does not.
struct ParsedKernel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  attn::KernelOp kernel;
};

inline ParsedKernel parseKernel(mlir::MLIRContext &context,
                                const std::string &text) {
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  ParsedKernel parsed;
  parsed.module = mlir::parseSourceString<mlir::ModuleOp>(
      text, mlir::ParserConfig(&context), "kernel.mlir");
  INFO(diagnostics << "\n" << text);
  REQUIRE(parsed.module);
  auto kernels = parsed.module->getOps<attn::KernelOp>();
  REQUIRE(!kernels.empty());
  parsed.kernel = *kernels.begin();
  return parsed;
}

/// Replaces every `{{key}}` in `text`.
inline std::string substitute(std::string text, const std::string &key,
                              const std::string &value) {
  std::string pattern = "{{" + key + "}}";
  for (size_t at = text.find(pattern); at != std::string::npos;
       at = text.find(pattern, at + value.size()))
    text.replace(at, pattern.size(), value);
  return text;
}

/// The shape of a kernel: what goes in the `attn.kernel` header.
struct KernelShape {
  std::string dtype = "bf16";
  int64_t headDim = 64, qHeads = 8, kvHeads = 2;
  int64_t pageSize = 0; ///< 0: dense KV cache
  double scale() const { return 1.0 / std::sqrt(double(headDim)); }
};

inline std::string formatDouble(double x) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  std::string s = buffer;
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

inline std::string kernelHeader(const KernelShape &shape) {
  std::string kv = shape.pageSize
                       ? "paged, page_size = " + std::to_string(shape.pageSize)
                       : std::string("dense");
  return "attn.kernel @k dtype(" + shape.dtype + ") head_dim(" +
         std::to_string(shape.headDim) + ") heads(" +
         std::to_string(shape.qHeads) + ", " + std::to_string(shape.kvHeads) +
         ") kv_cache(" + kv + ") scale(" + formatDouble(shape.scale()) + ")";
}

/// The arguments of an expression region, named as attn.sdpa prints them.
inline const char *kExprArgs =
    "^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):\n";

/// One attention variant: its IR and the same formulas in C++. The score
/// body must end in `attn.yield %x : f32`, the mask body in
/// `attn.yield %x : i1`; both may read %score, %b, %h, %q, %kv and params.
struct Variant {
  std::string name;
  std::string params; ///< attn.param lines
  std::string scoreBody, maskBody;
  std::function<double(const AttentionInputs &, double s, int64_t b, int64_t h,
                       int64_t q, int64_t kv)>
      score;
  std::function<bool(const AttentionInputs &, int64_t b, int64_t h, int64_t q,
                     int64_t kv)>
      mask;
  /// The mask indexes params by q: positions must not be negative.
  bool needsQLenAtMostKvLen = false;
};

/// The kernel as attn.sdpa.
inline std::string sdpaKernel(const KernelShape &shape,
                              const Variant &variant) {
  return kernelHeader(shape) + " {\n" + variant.params +
         "  attn.sdpa score {\n" + kExprArgs + variant.scoreBody +
         "  } mask {\n" + kExprArgs + variant.maskBody + "  }\n}\n";
}

/// How a lowered kernel addresses K/V.
enum class Addressing {
  Logical,  ///< load_k/load_v without an addr region
  Explicit, ///< an addr region: kv_start + row, or through block_table
};

/// `region` with every value renamed %x -> %e_x. Region bodies are written
/// with attn.sdpa's names (%b, %q, ...), which the program around a
/// score_mod/mask region already defines, and the parser does not let a
/// region's names shadow those of the ops around it.
inline std::string renameRegionValues(const std::string &region) {
  std::string out;
  for (char c : region) {
    out += c;
    if (c == '%')
      out += "e_";
  }
  return out;
}

/// The kernel as an attn.program: the online-softmax loop over KV tiles,
/// untiled (`?` extents) when blockQ is 0, else tiled with static tiles of
/// blockQ x blockKV rows (and an index-typed KV loop, to cover index casts).
inline std::string programKernel(const KernelShape &shape,
                                 const Variant &variant, int64_t blockQ,
                                 int64_t blockKV, Addressing addressing) {
  bool tiled = blockQ > 0;
  std::string dt = shape.dtype, d = std::to_string(shape.headDim);
  std::string bq = tiled ? std::to_string(blockQ) : "?";
  std::string bkv = tiled ? std::to_string(blockKV) : "?";
  std::string qTile = "tensor<" + bq + "x" + d + "x" + dt + ">";
  std::string kvTile = "tensor<" + bkv + "x" + d + "x" + dt + ">";
  std::string sTile = "tensor<" + bq + "x" + bkv + "xf32>";
  std::string rows = "tensor<" + bq + "xf32>";
  std::string acc = "tensor<" + bq + "x" + d + "xf32>";
  std::string qTileAttr =
      tiled ? " {tile = " + std::to_string(blockQ) + "}" : std::string();
  std::string kvTileAttr =
      tiled ? " {tile = " + std::to_string(blockKV) + "}" : std::string();
  std::string fillRows = tiled ? std::string() : " rows %qlen";

  std::string addr;
  if (addressing == Addressing::Explicit) {
    if (shape.pageSize) {
      std::string p = std::to_string(shape.pageSize);
      addr = " addr {\n"
             "      ^bb0(%row: i32):\n"
             "        %ps = arith.constant " +
             p +
             " : i32\n"
             "        %pi = arith.divsi %row, %ps : i32\n"
             "        %page = attn.block_table %b, %pi\n"
             "        %slot = arith.remsi %row, %ps : i32\n"
             "        %base = arith.muli %page, %ps : i32\n"
             "        %phys = arith.addi %base, %slot : i32\n"
             "        attn.yield_row %phys\n"
             "      }";
    } else {
      addr = " addr {\n"
             "      ^bb0(%row: i32):\n"
             "        %start = attn.kv_start %b\n"
             "        %phys = arith.addi %start, %row : i32\n"
             "        attn.yield_row %phys\n"
             "      }";
    }
  }

  std::string loopHead, loopIv;
  if (tiled) {
    loopHead = "    %c0x = arith.constant 0 : index\n"
               "    %c1x = arith.constant 1 : index\n"
               "    %nkvx = arith.index_cast %nkv : i32 to index\n"
               "    %r:3 = scf.for %jx = %c0x to %nkvx step %c1x "
               "iter_args(%m = %m0, %l = %l0, %acc = %acc0) -> ({{rows}}, "
               "{{rows}}, {{acc}}) {\n"
               "      %j = arith.index_cast %jx : index to i32\n";
  } else {
    loopHead = "    %r:3 = scf.for %j = %c0 to %nkv step %c1 "
               "iter_args(%m = %m0, %l = %l0, %acc = %acc0) -> ({{rows}}, "
               "{{rows}}, {{acc}}) : i32 {\n";
  }

  std::string text =
      kernelHeader(shape) + " {\n" + variant.params +
      (tiled
           ? "  attn.program attributes {block_q = " + std::to_string(blockQ) +
                 " : i64, block_kv = " + std::to_string(blockKV) + " : i64} {\n"
           : std::string("  attn.program {\n")) +
      "  ^bb0(%b: i32, %h: i32, %qt: i32):\n"
      "    %c0 = arith.constant 0 : i32\n"
      "    %c1 = arith.constant 1 : i32\n"
      "    %cg = arith.constant {{group}} : i32\n"
      "    %qlen = attn.q_len %b\n"
      "    %kvlen = attn.kv_len %b\n"
      "    %hkv = arith.divsi %h, %cg : i32\n"
      "    %qrow0 = attn.tile_start q %qt{{qtile}}\n"
      "    %dq = arith.subi %kvlen, %qlen : i32\n"
      "    %qpos0 = arith.addi %dq, %qrow0 : i32\n"
      "    %qv = attn.load_q %b, %h, %qrow0 : {{qTile}}\n"
      "    %m0 = attn.fill 0xFF800000{{fillRows}} : {{rows}}\n"
      "    %l0 = attn.fill 0.0{{fillRows}} : {{rows}}\n"
      "    %acc0 = attn.fill 0.0{{fillRows}} : {{acc}}\n"
      "    %nkv = attn.num_tiles kv %kvlen{{kvtile}}\n" +
      loopHead +
      "      %kvrow0 = attn.tile_start kv %j{{kvtile}}\n"
      "      %k = attn.load_k %b, %hkv, %kvrow0 : {{kvTile}}{{addr}}\n"
      "      %v = attn.load_v %b, %hkv, %kvrow0 : {{kvTile}}{{addr}}\n"
      "      %s = attn.qk %qv, %k {scale = {{scale}}} : {{qTile}}, "
      "{{kvTile}} -> {{sTile}}\n"
      "      %s1 = attn.score_mod %s, %b, %h, %qpos0, %kvrow0 : {{sTile}} {\n" +
      renameRegionValues(kExprArgs + variant.scoreBody) +
      "      }\n"
      "      %s2 = attn.scale %s1 {factor = 1.4426950408889634} : {{sTile}}\n"
      "      %s3 = attn.mask %s2, %b, %h, %qpos0, %kvrow0, %kvlen : "
      "{{sTile}} {\n" +
      renameRegionValues(kExprArgs + variant.maskBody) +
      "      }\n"
      "      %mn = attn.row_max %s3, %m : {{sTile}}, {{rows}}\n"
      "      %p = attn.exp2_diff %s3, %mn : {{sTile}}, {{rows}}\n"
      "      %alpha = attn.exp2_diff %m, %mn : {{rows}}, {{rows}}\n"
      "      %ln = attn.row_sum %p, %l, %alpha : {{sTile}}, {{rows}}\n"
      "      %accs = attn.rescale %acc, %alpha : {{acc}}, {{rows}}\n"
      "      %accn = attn.pv %p, %v, %accs : {{sTile}}, {{kvTile}}, {{acc}}\n"
      "      scf.yield %mn, %ln, %accn : {{rows}}, {{rows}}, {{acc}}\n"
      "    }\n"
      "    %o, %lse = attn.finalize %r#2, %r#0, %r#1 : {{acc}}, {{rows}}\n"
      "    attn.store %o, %b, %h, %qrow0 : {{acc}}\n"
      "    attn.store %lse, %b, %h, %qrow0 : {{rows}}\n"
      "  }\n"
      "}\n";
  text = substitute(text, "addr", addr);
  text =
      substitute(text, "group", std::to_string(shape.qHeads / shape.kvHeads));
  text = substitute(text, "qtile", qTileAttr);
  text = substitute(text, "kvtile", kvTileAttr);
  text = substitute(text, "fillRows", fillRows);
  text = substitute(text, "qTile", qTile);
  text = substitute(text, "kvTile", kvTile);
  text = substitute(text, "sTile", sTile);
  text = substitute(text, "rows", rows);
  text = substitute(text, "acc", acc);
  text = substitute(text, "scale", formatDouble(shape.scale()));
  return text;
}

/// Attention over `in` in plain float64, with the variant's formulas.
inline AttentionOutputs referenceAttention(const KernelShape &shape,
                                           const Variant &variant,
                                           const AttentionInputs &in) {
  int64_t batch = in.qoIndptr.size() - 1, d = shape.headDim;
  int64_t hq = shape.qHeads, hkv = shape.kvHeads;
  int64_t totalQ = in.qoIndptr.back();
  AttentionOutputs out;
  out.o.assign(totalQ * hq * d, 0.0);
  out.lse.assign(totalQ * hq, -std::numeric_limits<double>::infinity());
  for (int64_t b = 0; b < batch; ++b) {
    int64_t qLen = in.qoIndptr[b + 1] - in.qoIndptr[b];
    int64_t kvLen =
        shape.pageSize ? in.kvLens[b] : in.kvIndptr[b + 1] - in.kvIndptr[b];
    auto kvAt = [&](const HostTensor &dense, const HostTensor &cache,
                    int64_t kv, int64_t head, int64_t e) {
      if (!shape.pageSize)
        return dense.f[((in.kvIndptr[b] + kv) * hkv + head) * d + e];
      int64_t page = in.blockTable[b * in.maxPages + kv / shape.pageSize];
      int64_t slot = kv % shape.pageSize;
      return cache.f[(((page * shape.pageSize) + slot) * hkv + head) * d + e];
    };
    for (int64_t h = 0; h < hq; ++h) {
      int64_t g = h / (hq / hkv);
      for (int64_t i = 0; i < qLen; ++i) {
        int64_t q = kvLen - qLen + i;
        int64_t row = in.qoIndptr[b] + i;
        std::vector<double> s(kvLen);
        std::vector<bool> seen(kvLen);
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t kv = 0; kv < kvLen; ++kv) {
          if (!variant.mask(in, b, h, q, kv))
            continue;
          double dot = 0;
          for (int64_t e = 0; e < d; ++e)
            dot += in.q.f[(row * hq + h) * d + e] *
                   kvAt(in.k, in.kCache, kv, g, e);
          s[kv] = variant.score(in, shape.scale() * dot, b, h, q, kv);
          seen[kv] = true;
          m = std::max(m, s[kv]);
        }
        if (m == -std::numeric_limits<double>::infinity())
          continue;
        double sum = 0;
        std::vector<double> acc(d, 0.0);
        for (int64_t kv = 0; kv < kvLen; ++kv) {
          if (!seen[kv])
            continue;
          double w = std::exp(s[kv] - m);
          sum += w;
          for (int64_t e = 0; e < d; ++e)
            acc[e] += w * kvAt(in.v, in.vCache, kv, g, e);
        }
        for (int64_t e = 0; e < d; ++e)
          out.o[(row * hq + h) * d + e] = acc[e] / sum;
        out.lse[row * hq + h] = m + std::log(sum);
      }
    }
  }
  return out;
}

/// Runs `kernel` and REQUIREs success, showing the interpreter's error.
inline AttentionOutputs run(attn::KernelOp kernel,
                            const AttentionInputs &inputs) {
  std::string error;
  mlir::FailureOr<AttentionOutputs> out =
      interpretKernel(kernel, inputs, error);
  INFO(error);
  REQUIRE(mlir::succeeded(out));
  return std::move(*out);
}

/// Runs `kernel` and REQUIREs failure; returns the message.
inline std::string runExpectingError(attn::KernelOp kernel,
                                     const AttentionInputs &inputs) {
  std::string error;
  mlir::FailureOr<AttentionOutputs> out =
      interpretKernel(kernel, inputs, error);
  REQUIRE(mlir::failed(out));
  REQUIRE(!error.empty());
  return error;
}

inline AttentionInputs randomInputs(attn::KernelOp kernel,
                                    std::vector<int64_t> qLens,
                                    std::vector<int64_t> kvLens,
                                    uint64_t seed) {
  RandomInputSpec spec;
  spec.qLens = std::move(qLens);
  spec.kvLens = std::move(kvLens);
  spec.seed = seed;
  std::string error;
  mlir::FailureOr<AttentionInputs> in = makeRandomInputs(kernel, spec, error);
  INFO(error);
  REQUIRE(mlir::succeeded(in));
  return std::move(*in);
}

//===----------------------------------------------------------------------===//
// Variants
//===----------------------------------------------------------------------===//

inline const std::string kIdentityScore = "    attn.yield %score : f32\n";
inline const std::string kCausalMask =
    "    %causal = arith.cmpi sle, %kv, %q : i32\n"
    "    attn.yield %causal : i1\n";

inline double identityScore(const AttentionInputs &, double s, int64_t, int64_t,
                            int64_t, int64_t) {
  return s;
}
inline bool causal(const AttentionInputs &, int64_t, int64_t, int64_t q,
                   int64_t kv) {
  return kv <= q;
}

inline Variant causalVariant() {
  return {"causal", "", kIdentityScore, kCausalMask, identityScore, causal};
}

inline Variant noMaskVariant() {
  return {"none",
          "",
          kIdentityScore,
          "    %t = arith.constant true\n    attn.yield %t : i1\n",
          identityScore,
          [](const AttentionInputs &, int64_t, int64_t, int64_t, int64_t) {
            return true;
          }};
}

/// Causal within a window of 17 keys: kv <= q && q - kv < 17.
inline Variant slidingWindowVariant() {
  return {"sliding-window",
          "",
          kIdentityScore,
          "    %causal = arith.cmpi sle, %kv, %q : i32\n"
          "    %dist = arith.subi %q, %kv : i32\n"
          "    %w = arith.constant 17 : i32\n"
          "    %near = arith.cmpi slt, %dist, %w : i32\n"
          "    %both = arith.andi %causal, %near : i1\n"
          "    attn.yield %both : i1\n",
          identityScore,
          [](const AttentionInputs &, int64_t, int64_t, int64_t q, int64_t kv) {
            return kv <= q && q - kv < 17;
          }};
}

/// score' = cap * tanh(score / cap) with a runtime f32 scalar cap.
inline Variant softcapVariant() {
  return {"softcap",
          "  attn.param @cap : f32\n",
          "    %cap = attn.param_load @cap : f32\n"
          "    %x = arith.divf %score, %cap : f32\n"
          "    %t = math.tanh %x : f32\n"
          "    %r = arith.mulf %cap, %t : f32\n"
          "    attn.yield %r : f32\n",
          kCausalMask,
          [](const AttentionInputs &in, double s, int64_t, int64_t, int64_t,
             int64_t) {
            double cap = in.params.at("cap").f[0];
            return cap * std::tanh(s / cap);
          },
          causal};
}

/// score' = score - slope[h] * (q - kv), causal.
inline Variant alibiVariant() {
  return {"alibi",
          "  attn.param @slope : f32 [q_heads]\n",
          "    %slope = attn.param_load @slope[%h] : f32\n"
          "    %d = arith.subi %q, %kv : i32\n"
          "    %df = arith.sitofp %d : i32 to f32\n"
          "    %pen = arith.mulf %slope, %df : f32\n"
          "    %r = arith.subf %score, %pen : f32\n"
          "    attn.yield %r : f32\n",
          kCausalMask,
          [](const AttentionInputs &in, double s, int64_t, int64_t h, int64_t q,
             int64_t kv) {
            return s - in.params.at("slope").f[h] * double(q - kv);
          },
          causal};
}

/// mask = kv <= q || kv < prefix[b].
inline Variant prefixLMVariant() {
  return {
      "prefix-lm",
      "  attn.param @prefix : i32 [batch]\n",
      kIdentityScore,
      "    %causal = arith.cmpi sle, %kv, %q : i32\n"
      "    %p = attn.param_load @prefix[%b] : i32\n"
      "    %in = arith.cmpi slt, %kv, %p : i32\n"
      "    %any = arith.ori %causal, %in : i1\n"
      "    attn.yield %any : i1\n",
      identityScore,
      [](const AttentionInputs &in, int64_t b, int64_t, int64_t q, int64_t kv) {
        return kv <= q || kv < in.params.at("prefix").i[b];
      }};
}

/// mask = kv <= q && doc[b, q] == doc[b, kv].
inline Variant documentVariant() {
  Variant v{
      "document",
      "  attn.param @doc : i32 [batch, ?]\n",
      kIdentityScore,
      "    %causal = arith.cmpi sle, %kv, %q : i32\n"
      "    %dq = attn.param_load @doc[%b, %q] : i32\n"
      "    %dk = attn.param_load @doc[%b, %kv] : i32\n"
      "    %same = arith.cmpi eq, %dq, %dk : i32\n"
      "    %both = arith.andi %causal, %same : i1\n"
      "    attn.yield %both : i1\n",
      identityScore,
      [](const AttentionInputs &in, int64_t b, int64_t, int64_t q, int64_t kv) {
        const HostTensor &doc = in.params.at("doc");
        int64_t n = doc.shape[1];
        return kv <= q && doc.i[b * n + q] == doc.i[b * n + kv];
      }};
  v.needsQLenAtMostKvLen = true;
  return v;
}

/// Integer corner cases: i32 wraparound, floor/ceil division and remainder
/// of negative values, shifts. Positions are shifted by 2^31 (wrapping), so
/// the rows of a query block longer than its keys (negative q) see every
/// key, where unwrapped arithmetic would hide them all.
inline Variant integerVariant() {
  return {"integer",
          "",
          kIdentityScore,
          "    %big = arith.constant 2147483647 : i32\n"
          "    %one = arith.constant 1 : i32\n"
          "    %qb = arith.addi %q, %big : i32\n"
          "    %qw = arith.addi %qb, %one : i32\n"
          "    %kb = arith.addi %kv, %big : i32\n"
          "    %kw = arith.addi %kb, %one : i32\n"
          "    %causal = arith.cmpi sle, %kw, %qw : i32\n"
          "    %c8 = arith.constant 8 : i32\n"
          "    %c5 = arith.constant 5 : i32\n"
          "    %c3 = arith.constant 3 : i32\n"
          "    %m1 = arith.constant -1 : i32\n"
          "    %fq = arith.floordivsi %q, %c8 : i32\n"
          "    %fk = arith.floordivsi %kv, %c8 : i32\n"
          "    %blk = arith.cmpi sge, %fq, %fk : i32\n"
          "    %d = arith.subi %q, %kv : i32\n"
          "    %r = arith.remsi %d, %c3 : i32\n"
          "    %notm1 = arith.cmpi ne, %r, %m1 : i32\n"
          "    %cq = arith.ceildivsi %q, %c5 : i32\n"
          "    %sh = arith.shli %cq, %one : i32\n"
          "    %ck = arith.ceildivsi %kv, %c5 : i32\n"
          "    %sk = arith.shli %ck, %one : i32\n"
          "    %cle = arith.cmpi sle, %sk, %sh : i32\n"
          "    %a = arith.ori %causal, %blk : i1\n"
          "    %b2 = arith.andi %a, %notm1 : i1\n"
          "    %c = arith.xori %b2, %cle : i1\n"
          "    %t = arith.constant true\n"
          "    %nc = arith.xori %c, %t : i1\n"
          "    %keep = arith.ori %nc, %causal : i1\n"
          "    attn.yield %keep : i1\n",
          identityScore,
          [](const AttentionInputs &, int64_t, int64_t, int64_t q, int64_t kv) {
            auto wrap = [](int64_t x) { return int64_t(int32_t(uint32_t(x))); };
            bool causalW = wrap(wrap(kv + 2147483647) + 1) <=
                           wrap(wrap(q + 2147483647) + 1);
            auto floorDiv = [](int64_t a, int64_t b) {
              return int64_t(std::floor(double(a) / double(b)));
            };
            auto ceilDiv = [](int64_t a, int64_t b) {
              return int64_t(std::ceil(double(a) / double(b)));
            };
            bool blk = floorDiv(q, 8) >= floorDiv(kv, 8);
            bool notm1 = (q - kv) % 3 != -1;
            bool cle = ceilDiv(kv, 5) * 2 <= ceilDiv(q, 5) * 2;
            bool c = ((causalW || blk) && notm1) != cle;
            return !c || causalW;
          }};
}

/// A score exercising f32 ops and scf.if: s' = select(|q-kv| even, s, s/2)
/// - 0.1 sqrt|q-kv|, then squashed above 0.5 by 0.5 + log(2 s')/2.
inline Variant mixedScoreVariant() {
  return {
      "mixed-score",
      "",
      "    %d = arith.subi %q, %kv : i32\n"
      "    %ad = math.absi %d : i32\n"
      "    %c2 = arith.constant 2 : i32\n"
      "    %r = arith.remsi %ad, %c2 : i32\n"
      "    %c0 = arith.constant 0 : i32\n"
      "    %even = arith.cmpi eq, %r, %c0 : i32\n"
      "    %half = arith.constant 5.000000e-01 : f32\n"
      "    %sh = arith.mulf %score, %half : f32\n"
      "    %sel = arith.select %even, %score, %sh : f32\n"
      "    %df = arith.sitofp %ad : i32 to f32\n"
      "    %sq = math.sqrt %df : f32\n"
      "    %tenth = arith.constant 1.000000e-01 : f32\n"
      "    %pen = arith.mulf %sq, %tenth : f32\n"
      "    %res = arith.subf %sel, %pen : f32\n"
      "    %big = arith.cmpf ogt, %res, %half : f32\n"
      "    %out = scf.if %big -> (f32) {\n"
      "      %two = arith.constant 2.000000e+00 : f32\n"
      "      %x2 = arith.mulf %res, %two : f32\n"
      "      %lg = math.log %x2 : f32\n"
      "      %lh = arith.mulf %lg, %half : f32\n"
      "      %y = arith.addf %lh, %half : f32\n"
      "      scf.yield %y : f32\n"
      "    } else {\n"
      "      %lo = arith.constant -4.000000e+00 : f32\n"
      "      %y = arith.maximumf %res, %lo : f32\n"
      "      scf.yield %y : f32\n"
      "    }\n"
      "    attn.yield %out : f32\n",
      kCausalMask,
      [](const AttentionInputs &, double s, int64_t, int64_t, int64_t q,
         int64_t kv) {
        int64_t ad = std::abs(q - kv);
        double res = (ad % 2 == 0 ? s : s * 0.5) - 0.1 * std::sqrt(double(ad));
        return res > 0.5 ? 0.5 + 0.5 * std::log(2 * res) : std::max(res, -4.0);
      },
      causal};
}

} // namespace attnc::test

#endif // ATTNC_TESTS_UNIT_INTERP_INTERPTESTSUPPORT_H
