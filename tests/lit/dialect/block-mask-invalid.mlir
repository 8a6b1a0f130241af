// RUN: attnc-opt %s -split-input-file -verify-diagnostics

attn.kernel @no_mask dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
    // expected-error @below {{needs an attn.block_mask in its kernel}}
    %n = attn.block_count %b, %h, %qt
  }
}

// -----

attn.kernel @head_unread dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  // expected-error @below {{is per_head but its mask does not read h}}
  attn.block_mask attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 1 : i64, per_head} {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %m = arith.cmpi sle, %kv, %q : i32
    attn.yield %m : i1
  }
  attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}

// -----

attn.kernel @score_read dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  // expected-error @below {{the mask must not depend on the score}}
  attn.block_mask attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 1 : i64} {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %z = arith.constant 0.0 : f32
    %m = arith.cmpf ogt, %score, %z : f32
    attn.yield %m : i1
  }
  attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}

// -----

attn.kernel @bad_tiling dtype(f16) head_dim(64) heads(8, 2) kv_cache(dense) scale(0.125) {
  // expected-error @below {{needs positive block_q, block_kv and gqa_pack, block_q a multiple of gqa_pack}}
  attn.block_mask attributes {block_kv = 64 : i64, block_q = 62 : i64, gqa_pack = 4 : i64} {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %m = arith.cmpi sle, %kv, %q : i32
    attn.yield %m : i1
  }
  attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}

// -----

attn.kernel @bad_classify dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  // expected-error @below {{classify region must yield an i32}}
  attn.block_mask attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 1 : i64} {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %m = arith.cmpi sle, %kv, %q : i32
    attn.yield %m : i1
  } classify {
  ^bb0(%b: i32, %hf: i32, %hl: i32, %qf: i32, %ql: i32, %kf: i32, %kl: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
  attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}
