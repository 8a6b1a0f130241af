// DeepSeek's MLA decode shape: Q and K of 576 columns, V and O of 512, one
// KV head for 16 query heads, paged, one latent cache (V is K's first 512 columns).
attn.kernel @mla dtype(bf16) head_dim(576) v_head_dim(512) heads(16, 1) kv_cache(paged, page_size = 64) latent_kv scale(0.072168783648703216) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  }
}
