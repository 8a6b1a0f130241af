// Causal GQA 32:8 over a dense or paged cache (the RUN lines pick).
attn.kernel @causal dtype(bf16) head_dim(128) heads(32, 8) kv_cache(paged, page_size = 16) scale(0.088388347648318447) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  }
}
