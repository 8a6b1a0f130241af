// RUN: attnc-opt %s -split-input-file -verify-diagnostics --attn-fold-scale

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{must be lowered before its scale is folded; run --attn-online-softmax first}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
