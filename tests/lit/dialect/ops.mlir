// RUN: attnc-opt %s | FileCheck %s
// RUN: attnc-opt %s | attnc-opt | FileCheck %s
// RUN: attnc-opt %s --mlir-print-op-generic | attnc-opt | FileCheck %s

// ALiBi with causal masking:  s' = s - slope[h] * (q - kv),  mask = kv <= q

// CHECK-LABEL: attn.kernel @alibi dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(1.250000e-01) {
// CHECK-NEXT:    attn.param @slope : f32 [q_heads]
// CHECK-NEXT:    attn.param @doc : i32 [batch, ?]
// CHECK-NEXT:    attn.param @cap : f32{{$}}
// CHECK-NEXT:    attn.param @table : i32 [4, kv_heads]
// CHECK-NEXT:    attn.sdpa score {
// CHECK-NEXT:    ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
// CHECK-NEXT:      %[[S:.*]] = attn.param_load @slope[%h] : f32
// CHECK-NEXT:      %[[D:.*]] = arith.subi %q, %kv : i32
// CHECK-NEXT:      %[[DF:.*]] = arith.sitofp %[[D]] : i32 to f32
// CHECK-NEXT:      %[[M:.*]] = arith.mulf %[[S]], %[[DF]] : f32
// CHECK-NEXT:      %[[R:.*]] = arith.subf %score, %[[M]] : f32
// CHECK-NEXT:      attn.yield %[[R]] : f32
// CHECK-NEXT:    } mask {
// CHECK-NEXT:    ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
// CHECK-NEXT:      %[[C:.*]] = arith.cmpi sle, %kv, %q : i32
// CHECK-NEXT:      attn.yield %[[C]] : i1
// CHECK-NEXT:    }
attn.kernel @alibi dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.param @slope : f32 [q_heads]
  attn.param @doc : i32 [batch, ?]
  attn.param @cap : f32
  attn.param @table : i32 [4, kv_heads]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %s = attn.param_load @slope[%h] : f32
    %d = arith.subi %q, %kv : i32
    %df = arith.sitofp %d : i32 to f32
    %m = arith.mulf %s, %df : f32
    %r = arith.subf %score, %m : f32
    attn.yield %r : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  }
}

// A paged GQA kernel with the identity score and no mask.

// CHECK-LABEL: attn.kernel @paged dtype(bf16) head_dim(128) heads(32, 8) kv_cache(paged, page_size = 16)
// CHECK:         attn.sdpa score
// CHECK:           attn.yield %score : f32
// CHECK:         } mask {
// CHECK:           %[[T:.*]] = arith.constant true
// CHECK:           attn.yield %[[T]] : i1
attn.kernel @paged dtype(bf16) head_dim(128) heads(32, 8) kv_cache(paged, page_size = 16) scale(0.088388347648318447) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
