// RUN: attnc-opt %s -split-input-file -verify-diagnostics --attn-split-kv
// RUN: not attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-split-kv 2>&1 | FileCheck %s

// CHECK: error: 'attn.program' op must be tiled before its KV loop is split; run --attn-tile first

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{must be lowered and tiled before its KV loop is split; run --attn-online-softmax --attn-tile first}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
