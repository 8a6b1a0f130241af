// RUN: attnc-opt %s -split-input-file -verify-diagnostics

// kv_dtype is an fp8 format.
// expected-error @below {{kv_dtype must be f8E4M3FN or f8E5M2, got 'f32'}}
attn.kernel @k dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) kv_dtype(f32) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}

// -----

// Scales need an fp8 cache.
attn.kernel @k dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) scale(0.125) {
  // expected-error @below {{k_scale and v_scale dequantize an fp8 K/V cache; the kernel has no kv_dtype}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  } v_scale {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %s = arith.constant 2.0 : f32
    attn.yield %s : f32
  }
}

// -----

// A scale is one factor per (b, h): no query position.
attn.kernel @k dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) kv_dtype(f8E5M2) scale(0.125) {
  // expected-error @below {{a K/V scale depends on the sequence and head only, not on the score or a position}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  } k_scale {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %f = arith.sitofp %q : i32 to f32
    attn.yield %f : f32
  }
}

// -----

// Nor in the lowered op.
attn.kernel @k dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) kv_dtype(f8E5M2) scale(0.125) {
  attn.program {
  ^bb0(%b: i32, %h: i32, %t: i32):
    // expected-error @below {{a K/V scale depends on the sequence and head only, not on the score or a position}}
    %f = attn.row_factor %b, %h : tensor<64xf32> {
    ^bb0(%score: f32, %b1: i32, %h1: i32, %q: i32, %kv: i32):
      attn.yield %score : f32
    }
  }
}
