// RUN: attnc-opt %s -split-input-file -verify-diagnostics --attn-block-table
attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(paged, page_size = 16) scale(0.125) {
  // expected-error @below {{has no K/V loads to address yet; run --attn-online-softmax first}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
