// Masks for the runtime block mask form.

// A pairwise mask read from a 2-D param at full resolution: interval
// arithmetic would have to scan a 64 x 64 box per tile, so the mask gets a
// pre-pass (block-mask=auto).
attn.kernel @pairwise dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.param @allow : i32 [?, ?]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c2 = arith.constant 2 : i32
    %a = attn.param_load @allow[%q, %kv] : i32
    %keep = arith.cmpi sge, %a, %c2 : i32
    attn.yield %keep : i1
  }
}

// Per-head windows over GQA: the mask reads h, so the lists are per head
// group; with block-mask=auto it stays a static range.
attn.kernel @head_windows dtype(bf16) head_dim(64) heads(8, 2) kv_cache(dense) scale(0.125) {
  attn.param @win : i32 [q_heads]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %w = attn.param_load @win[%h] : i32
    %causal = arith.cmpi sle, %kv, %q : i32
    %d = arith.subi %q, %kv : i32
    %near = arith.cmpi slt, %d, %w : i32
    %m = arith.andi %causal, %near : i1
    attn.yield %m : i1
  }
}
