//===- AttnDialect.td - The attn dialect -------------------*- tablegen -*-===//
#ifndef ATTN_DIALECT_TD
#define ATTN_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::attnc::attn";
  let summary = "Attention kernels as written in the attnc DSL, and their lowering";
  let description = [{
    The `attn` dialect holds an attention variant faithfully: an `attn.kernel`
    carries the spec's shape attributes (dtype, head_dim, heads, KV-cache
    layout, scale) and its runtime parameters; an `attn.sdpa` inside it holds
    the score modifier and the mask as regions of `arith`/`math` code over the
    block arguments (score, b, h, q, kv). Later passes rewrite `attn.sdpa` into
    online-softmax, tiled and paged form.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect"
  ];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Attn_KVCacheDense : I32EnumAttrCase<"dense", 0>;
def Attn_KVCachePaged : I32EnumAttrCase<"paged", 1>;
def Attn_KVCacheKindAttr : I32EnumAttr<"KVCacheKind",
    "layout of the key/value cache", [Attn_KVCacheDense, Attn_KVCachePaged]> {
  let cppNamespace = "::attnc::attn";
}

def Attn_TileDimQ : I32EnumAttrCase<"q", 0>;
def Attn_TileDimKV : I32EnumAttrCase<"kv", 1>;
def Attn_TileDimAttr : I32EnumAttr<"TileDim",
    "which dimension a tile index runs over", [Attn_TileDimQ, Attn_TileDimKV]> {
  let cppNamespace = "::attnc::attn";
}

#endif // ATTN_DIALECT_TD
