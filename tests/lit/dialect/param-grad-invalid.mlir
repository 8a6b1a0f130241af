// RUN: attnc-opt %s -split-input-file -verify-diagnostics

// attn.param_grad is for f32 params marked requires_grad.
attn.kernel @not_marked dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.param @w : f32 [q_heads]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
  // expected-error @below {{parameter @w is not an f32 parameter marked requires_grad}}
  attn.param_grad @w {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %w = attn.param_load @w[%h] : f32
    attn.yield_param_grad %w for %w
  }
}

// -----

// The yield must name a read of the op's own param.
attn.kernel @wrong_read dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.param @w : f32 [q_heads] {requires_grad}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
  attn.param_grad @w {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %one = arith.constant 1.0 : f32
    // expected-error @below {{must name a read of @w in the region (an attn.param_load of it)}}
    attn.yield_param_grad %one for %score
  }
}

// -----

// The region ends with attn.yield_param_grad (attn.yield's parents do not
// include attn.param_grad).
attn.kernel @plain_yield dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.param @w : f32 [q_heads] {requires_grad}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
  attn.param_grad @w {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %one = arith.constant 1.0 : f32
    // expected-error @below {{expects parent op to be one of}}
    attn.yield %one : f32
  }
}
