// An e4m3 K/V cache with a scale per KV head for K and a scalar for V,
// 4 query heads per KV head.
attn.kernel @fp8 dtype(bf16) head_dim(64) heads(8, 2) kv_cache(paged, page_size = 16) kv_dtype(f8E4M3FN) scale(0.125) {
  attn.param @ks : f32 [kv_heads]
  attn.param @vs : f32
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  } k_scale {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c4 = arith.constant 4 : i32
    %hkv = arith.divsi %h, %c4 : i32
    %s = attn.param_load @ks[%hkv] : f32
    attn.yield %s : f32
  } v_scale {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %s = attn.param_load @vs : f32
    attn.yield %s : f32
  }
}
