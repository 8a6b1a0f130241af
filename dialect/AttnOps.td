//===- AttnOps.td - Operations of the attn dialect ---------*- tablegen -*-===//
#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "dialect/AttnDialect.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

//===----------------------------------------------------------------------===//
// attn.kernel
//===----------------------------------------------------------------------===//

def Attn_KernelOp : Attn_Op<"kernel", [
    Symbol, SymbolTable, IsolatedFromAbove, SingleBlock, NoTerminator,
    NoRegionArguments]> {
  let summary = "One attention variant: its shape, KV layout, scale and parameters";
  let description = [{
    The body declares the runtime parameters (`attn.param`) and holds exactly
    one attention computation (`attn.sdpa`, or its lowered forms).

    ```mlir
    attn.kernel @gemma2_local dtype(bf16) head_dim(128) heads(16, 8)
        kv_cache(paged, page_size = 16) scale(0.088388347648318447) {
      attn.sdpa score { ... } mask { ... }
    }
    ```

    `heads(Hq, Hkv)`: Hkv divides Hq; query head h reads KV head
    h / (Hq / Hkv) (MHA when equal, MQA when Hkv = 1). `scale` multiplies
    q·k before the score modifier runs.

    `v_head_dim(Dv)`: V and O have Dv columns (a multiple of 16 in
    16..512), Q and K head_dim (8..576); absent, Dv = head_dim.

    `latent_kv`: there is no V tensor; V is the first Dv columns of each K
    row (DeepSeek's MLA caches one latent vector per token), so Dv must
    not exceed head_dim.

    `kv_dtype(f8E4M3FN)` or `kv_dtype(f8E5M2)`: K and V are stored in that
    float8 format and widened to `dtype` as they are loaded (exactly: both
    formats' values are f16 and bf16 values); the sdpa's `k_scale` and
    `v_scale` regions dequantize them. Absent: K and V have `dtype`.
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttr:$dtype,
    I64Attr:$head_dim,
    I64Attr:$q_heads,
    I64Attr:$kv_heads,
    Attn_KVCacheKindAttr:$kv_cache,
    OptionalAttr<I64Attr>:$page_size,
    F64Attr:$scale,
    OptionalAttr<TypeAttr>:$kv_dtype,
    OptionalAttr<I64Attr>:$v_head_dim,
    UnitAttr:$latent_kv
  );
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name `dtype` `(` $dtype `)` `head_dim` `(` $head_dim `)`
    (`v_head_dim` `(` $v_head_dim^ `)`)?
    `heads` `(` $q_heads `,` $kv_heads `)`
    `kv_cache` `(` $kv_cache (`,` `page_size` `=` $page_size^)? `)`
    (`kv_dtype` `(` $kv_dtype^ `)`)?
    (`latent_kv` $latent_kv^)?
    `scale` `(` $scale `)` attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// Query heads that share one KV head.
    int64_t getGroupSize() { return getQHeads() / getKvHeads(); }
    /// Columns of V and O: v_head_dim, or head_dim when absent.
    int64_t getValueHeadDim() {
      return getVHeadDim() ? int64_t(*getVHeadDim()) : int64_t(getHeadDim());
    }
    /// The parameter named `name`, or null.
    ParamOp lookupParam(::llvm::StringRef name);
  }];
}

//===----------------------------------------------------------------------===//
// attn.param
//===----------------------------------------------------------------------===//

def Attn_ParamOp : Attn_Op<"param", [Symbol, HasParent<"KernelOp">]> {
  let summary = "A runtime parameter: a scalar, or a tensor indexed in expressions";
  let description = [{
    `dims` lists the tensor's extents: a positive number is a fixed extent;
    `batch`, `q_heads`, `kv_heads` take the problem's value at launch; `?` is
    set by the tensor passed at run time. No dims: a scalar.

    ```mlir
    attn.param @slope : f32 [q_heads]
    attn.param @doc : i32 [batch, ?]
    attn.param @cap : f32
    attn.param @slope : f32 [q_heads] {requires_grad}
    ```
    `requires_grad` (f32 only) asks the backward pass for dL/d(param):
    attn-derive-backward gives every read of it in the score region an
    `attn.param_grad`.
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttr:$element_type,
    DenseI64ArrayAttr:$dims,
    UnitAttr:$requires_grad
  );
  let assemblyFormat = [{
    $sym_name `:` $element_type `` custom<ParamDims>($dims) attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getRank() { return getDims().size(); }
  }];
}

//===----------------------------------------------------------------------===//
// attn.param_load
//===----------------------------------------------------------------------===//

def Attn_ParamLoadOp : Attn_Op<"param_load", [
    Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Reads a runtime parameter (one element of it, for a tensor)";
  let description = [{
    ```mlir
    %s = attn.param_load @slope[%h] : f32
    %d = attn.param_load @doc[%b, %q] : i32
    ```
    Indices are i32, one per dimension of the parameter; the result type is
    the parameter's element type.
  }];
  let arguments = (ins FlatSymbolRefAttr:$param, Variadic<I32>:$indices);
  let results = (outs AnyTypeOf<[I32, F32]>:$result);
  let assemblyFormat = [{
    $param (`[` $indices^ `]`)? attr-dict `:` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// attn.sdpa
//===----------------------------------------------------------------------===//

def Attn_SdpaOp : Attn_Op<"sdpa", [
    HasParent<"KernelOp">,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "Scaled dot-product attention over the whole problem";
  let description = [{
    For every sequence b, query head h, query position q and key position kv:

      s      = scale * dot(Q[b, q, h], K[b, kv, h / group])
      s'     = score_mod(s, b, h, q, kv)
      p      = mask(s, b, h, q, kv) ? exp(s' - max) : 0
      O[q,h] = sum_kv p * V[b, kv, h / group] / sum_kv p
      LSE    = log(sum_kv exp(s'))           (-inf when every key is masked)

    With a `sink` region (a learned attention sink, as in gpt-oss), its
    value σ(b, h, q) is one more logit in the softmax with no value row:
      O[q,h] = sum_kv p * V[b, kv, h / group] / (sum_kv p + exp(σ - max))
      LSE    = log(sum_kv exp(s') + exp(σ))
    where max also takes σ. The sink region must read neither `score` nor
    `kv`.

    With an fp8 K/V cache (the kernel's `kv_dtype`), `k_scale` and
    `v_scale` regions give the dequantization factors of (b, h): attention
    runs over K = k_scale * K8 and V = v_scale * V8. They read neither
    `score`, `q` nor `kv`; absent, a factor is 1.

    Positions are absolute and bottom-right aligned: a query block of length
    M at the end of a KV sequence of length N has positions N-M .. N-1.
    With `q_positions` (set by attn-cascade) each query row's position is
    given at launch instead (cascade attention's prefix launch runs the
    queries of several sequences over one shared prefix).

    Both regions take (score: f32, b: i32, h: i32, q: i32, kv: i32). The
    score region yields the modified f32 score; the mask region yields i1 and
    must not read `score` (so masks can be analysed per tile before any
    score is computed).
  }];
  let regions = (region SizedRegion<1>:$score_mod, SizedRegion<1>:$mask,
                        AnyRegion:$sink, AnyRegion:$k_scale,
                        AnyRegion:$v_scale);
  let arguments = (ins UnitAttr:$q_positions);
  let assemblyFormat = [{
    `score` $score_mod `mask` $mask (`sink` $sink^)?
    (`k_scale` $k_scale^)? (`v_scale` $v_scale^)? attr-dict
  }];
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// Number and types of the block arguments of both regions.
    static constexpr unsigned kNumRegionArgs = 5;
    enum RegionArg : unsigned { kScore = 0, kBatch, kHead, kQ, kKV };
  }];
}

//===----------------------------------------------------------------------===//
// attn.score_grad
//===----------------------------------------------------------------------===//

def Attn_ScoreGradOp : Attn_Op<"score_grad", [
    HasParent<"KernelOp">, IsolatedFromAbove, SingleBlock,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "The derivative of the kernel's score modifier by the score";
  let description = [{
    The backward pass's view of `attn.sdpa`'s score region f: the region
    yields df/ds at (s, b, h, q, kv), so that dL/ds = dL/ds' * df/ds for
    s' = f(s, b, h, q, kv). Derived symbolically by `attn-derive-backward`
    (chain rule over the region's ops, forward mode); an identity score
    region gives 1. Piecewise-constant ops (floor, ceil, comparisons,
    int(x)) have derivative 0 almost everywhere; |x| has 0 at 0, as in
    PyTorch; min and max split a tie evenly. The mask has no gradient.
  }];
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$body attr-dict";
  let hasRegionVerifier = 1;
}

def Attn_ParamGradOp : Attn_Op<"param_grad", [
    HasParent<"KernelOp">, IsolatedFromAbove, SingleBlock,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "The score modifier's derivative by one read of a parameter";
  let description = [{
    For a `requires_grad` parameter θ read in `attn.sdpa`'s score region f,
    one op per read (in the order f reads them): the region is f's with
    that `attn.param_load` of θ as the variable, and ends with
    `attn.yield_param_grad %d for %read`: %d = ∂f/∂θ[i] at
    (s, b, h, q, kv), %read the load, whose indices are i. Then
    dL/dθ[i] = Σ over (b, h, q, kv) of dL/ds' · ∂f/∂θ[i], summed over every
    read. Derived by `attn-derive-backward` with the rules of
    `attn.score_grad`.

    ```mlir
    attn.param_grad @slope {
    ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
      %0 = attn.param_load @slope[%h] : f32
      %1 = arith.subi %kv, %q : i32
      %2 = arith.sitofp %1 : i32 to f32
      attn.yield_param_grad %2 for %0
    }
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$param $body attr-dict";
  let hasRegionVerifier = 1;
}

def Attn_YieldParamGradOp : Attn_Op<"yield_param_grad", [
    Pure, Terminator, ReturnLike, HasParent<"ParamGradOp">]> {
  let summary = "Yields a parameter gradient's partial and the read it is for";
  let arguments = (ins F32:$grad, F32:$read);
  let assemblyFormat = "$grad `for` $read attr-dict";
}

//===----------------------------------------------------------------------===//
// attn.yield
//===----------------------------------------------------------------------===//

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator, ReturnLike,
    ParentOneOf<["SdpaOp", "ScoreModOp", "MaskOp", "SinkOp",
                 "RowFactorOp", "BlockMaskOp", "ScoreGradOp"]>]> {
  let summary = "Yields the value of a score-modifier or mask region";
  let arguments = (ins AnyType:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

include "dialect/AttnLoweredOps.td"

#endif // ATTN_OPS_TD
