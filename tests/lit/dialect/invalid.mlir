// RUN: attnc-opt %s -split-input-file -verify-diagnostics

// expected-error @below {{dtype must be f16 or bf16, got 'f32'}}
attn.kernel @k dtype(f32) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
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

// expected-error @below {{head_dim must be a multiple of 8 in 8..576, got 76}}
attn.kernel @k dtype(f16) head_dim(76) heads(8, 8) kv_cache(dense) scale(0.125) {
}

// -----

// expected-error @below {{head_dim must be a multiple of 8 in 8..576, got 584}}
attn.kernel @k dtype(f16) head_dim(584) heads(8, 8) kv_cache(dense) scale(0.125) {
}

// -----

// expected-error @below {{kv_heads (3) must divide q_heads (8)}}
attn.kernel @k dtype(f16) head_dim(64) heads(8, 3) kv_cache(dense) scale(0.125) {
}

// -----

// expected-error @below {{q_heads and kv_heads must be positive}}
attn.kernel @k dtype(f16) head_dim(64) heads(0, 8) kv_cache(dense) scale(0.125) {
}

// -----

// expected-error @below {{a paged KV cache needs a page_size}}
attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(paged) scale(0.125) {
}

// -----

// expected-error @below {{page_size must be in 1..256, got 257}}
attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(paged, page_size = 257) scale(0.125) {
}

// -----

// expected-error @below {{page_size is only meaningful for a paged KV cache}}
attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense, page_size = 16) scale(0.125) {
}

// -----

// expected-error @below {{scale must be finite and positive, got -1}}
attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(-1.0) {
}

// -----

// expected-error @below {{must hold exactly one attention computation, found 0}}
attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.param @cap : f32
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{is not allowed in an attn.kernel body}}
  %c = arith.constant 1 : i32
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

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{element type must be f32 or i32, got 'f16'}}
  attn.param @p : f16
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{a fixed extent must be positive}}
  attn.param @p : f32 [0]
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{expected 'batch', 'q_heads', 'kv_heads', '?' or a positive extent}}
  attn.param @p : f32 [heads]
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    // expected-error @below {{references unknown parameter @slope}}
    %s = attn.param_load @slope[%h] : f32
    attn.yield %s : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.param @slope : f32 [q_heads]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    // expected-error @below {{parameter @slope has 1 dimension(s), but 2 index(es) were given}}
    %s = attn.param_load @slope[%h, %b] : f32
    attn.yield %s : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.param @prefix : i32 [batch]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    // expected-error @below {{result type 'f32' does not match parameter @prefix of element type 'i32'}}
    %p = attn.param_load @prefix[%b] : f32
    %t = arith.constant true
    attn.yield %t : i1
  }
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{score region must take 5 arguments (score: f32, b, h, q, kv: i32), found 1}}
  attn.sdpa score {
  ^bb0(%score: f32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{mask region argument #3 must be 'i32', found 'index'}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: index, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    // expected-error @below {{the mask region must yield 'i1', found 'f32'}}
    attn.yield %score : f32
  }
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    // expected-error @below {{the score region must yield 'f32', found 'i32'}}
    attn.yield %q : i32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{the mask must not depend on the score}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %z = arith.constant 0.0 : f32
    %c = arith.cmpf ogt, %score, %z : f32
    attn.yield %c : i1
  }
}

// -----

// expected-error @below {{'attn.sdpa' op expects parent op 'attn.kernel'}}
attn.sdpa score {
^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
  attn.yield %score : f32
} mask {
^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
  %t = arith.constant true
  attn.yield %t : i1
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{warps = 3 must divide block_q = 64 into row slices of a multiple of 16 (the mma's M)}}
  attn.program attributes {block_q = 64 : i64, block_kv = 64 : i64, warps = 3 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}

// -----

attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{sets warps before tile sizes (block_q)}}
  attn.program attributes {warps = 2 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}

// -----

// expected-error @below {{v_head_dim must be a multiple of 16 in 16..512, got 72}}
attn.kernel @bad_v_head_dim dtype(f16) head_dim(64) v_head_dim(72) heads(1, 1) kv_cache(dense) scale(0.125) {
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

attn.kernel @k dtype(bf16) head_dim(576) v_head_dim(512) heads(16, 1) kv_cache(dense) scale(0.125) {
  // expected-error @below {{column_warps: warps = 8 must split block_kv = 32 into whole 8-key n-tiles}}
  attn.program attributes {block_kv = 32 : i64, block_q = 16 : i64, column_warps, warps = 8 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}

// -----

attn.kernel @k dtype(bf16) head_dim(576) v_head_dim(512) heads(16, 1) kv_cache(dense) scale(0.125) {
  // expected-error @below {{column_warps needs warps}}
  attn.program attributes {block_kv = 32 : i64, block_q = 16 : i64, column_warps} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}
