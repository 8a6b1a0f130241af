// RUN: attnc-opt %s -split-input-file -verify-diagnostics --attn-pack-gqa
// RUN: not attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile --attn-pack-gqa 2>&1 | FileCheck %s --check-prefix=TILED
// RUN: sed "s/heads(32, 8)/heads(24, 8)/" %S/Inputs/causal-gqa.mlir | not attnc-opt --attn-online-softmax --attn-pack-gqa --attn-tile="block-q=16" 2>&1 | FileCheck %s --check-prefix=ROWS

// RUN: not attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-pack-gqa="heads=3" 2>&1 | FileCheck %s --check-prefix=HEADS

// TILED: error: 'attn.program' op must be packed before it is tiled; run --attn-pack-gqa before --attn-tile
// ROWS: error: 'attn.program' op block-q = 16 must be a multiple of the 3 query heads packed into each tile
// HEADS: error: 'attn.program' op cannot pack 3 query heads per tile: it must divide the 4 query heads of each KV head

attn.kernel @k dtype(f16) head_dim(64) heads(8, 2) kv_cache(dense) scale(0.125) {
  // expected-error @below {{must be in online-softmax form before its heads are packed; run --attn-online-softmax first}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
