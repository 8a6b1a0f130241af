// RUN: attnc-opt %s -split-input-file -verify-diagnostics

// The sink is one logit per query row: no key position.
attn.kernel @k dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) scale(0.125) {
  // expected-error @below {{the sink must depend on neither the score nor the key position}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  } sink {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %f = arith.sitofp %kv : i32 to f32
    attn.yield %f : f32
  }
}

// -----

// Nor the score.
attn.kernel @k dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) scale(0.125) {
  // expected-error @below {{the sink must depend on neither the score nor the key position}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  } sink {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  }
}

// -----

// A logit is a float.
attn.kernel @k dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  } sink {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    // expected-error @below {{the sink region must yield 'f32', found 'i32'}}
    attn.yield %q : i32
  }
}

// -----

// The lowered op checks its region the same way.
attn.kernel @k dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) scale(0.125) {
  attn.program {
  ^bb0(%b: i32, %h: i32, %qt: i32):
    %m = attn.fill 0xFF800000 : tensor<64xf32>
    %l = attn.fill 0.0 : tensor<64xf32>
    %c0 = arith.constant 0 : i32
    // expected-error @below {{the sink must depend on neither the score nor the key position}}
    %m1, %l1 = attn.sink %m, %l, %b, %h, %c0 : tensor<64xf32> {
    ^bb0(%score: f32, %b2: i32, %h2: i32, %q: i32, %kv: i32):
      %f = arith.sitofp %kv : i32 to f32
      attn.yield %f : f32
    }
  }
}
