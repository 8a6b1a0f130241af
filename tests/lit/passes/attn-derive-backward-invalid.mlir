// RUN: attnc-opt %s -split-input-file -verify-diagnostics --attn-derive-backward

// An op with no derivative rule that reads the score.
attn.kernel @no_rule dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    // expected-error @below {{has no derivative rule; attn-derive-backward cannot differentiate the score through it}}
    %e = math.erf %score : f32
    attn.yield %e : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}

// -----

// expected-error @below {{has no attn.sdpa to derive the backward pass of; run attn-derive-backward before lowering}}
attn.kernel @lowered dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}

// -----

// A requires_grad param that the score never reads (only the mask does).
attn.kernel @unread dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  // expected-error @below {{requires_grad, but the score region does not read it: only the score is differentiated}}
  attn.param @w : f32 [q_heads] {requires_grad}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %w = attn.param_load @w[%h] : f32
    %z = arith.constant 0.0 : f32
    %c = arith.cmpf ogt, %w, %z : f32
    attn.yield %c : i1
  }
}
