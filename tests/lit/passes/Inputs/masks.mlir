// One kernel per mask family the analysis must bound.

// Sliding window: kv <= q && q - kv < 4096
attn.kernel @window dtype(bf16) head_dim(128) heads(32, 8) kv_cache(dense) scale(0.088388347648318447) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %causal = arith.cmpi sle, %kv, %q : i32
    %d = arith.subi %q, %kv : i32
    %w = arith.constant 4096 : i32
    %near = arith.cmpi slt, %d, %w : i32
    %m = arith.andi %causal, %near : i1
    attn.yield %m : i1
  }
}

// Prefix-LM: kv <= q || kv < prefix[b]  (prefix is a runtime tensor)
attn.kernel @prefix_lm dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.param @prefix : i32 [batch]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %causal = arith.cmpi sle, %kv, %q : i32
    %p = attn.param_load @prefix[%b] : i32
    %inprefix = arith.cmpi slt, %kv, %p : i32
    %m = arith.ori %causal, %inprefix : i1
    attn.yield %m : i1
  }
}

// Chunked: q / 128 == kv / 128
attn.kernel @chunked dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.constant 128 : i32
    %qc = arith.divsi %q, %c : i32
    %kc = arith.divsi %kv, %c : i32
    %m = arith.cmpi eq, %qc, %kc : i32
    attn.yield %m : i1
  }
}

// Document mask: doc[b, q] == doc[b, kv]  (reads tensor data at q and kv)
attn.kernel @document dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.param @doc : i32 [batch, ?]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %dq = attn.param_load @doc[%b, %q] : i32
    %dk = attn.param_load @doc[%b, %kv] : i32
    %m = arith.cmpi eq, %dq, %dk : i32
    attn.yield %m : i1
  }
}

// No mask: only the tail tile (past kv_len) needs masking.
attn.kernel @none dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
