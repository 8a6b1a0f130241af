// A learned attention sink per query head (gpt-oss), a sliding window and
// 4 query heads per KV head.
attn.kernel @sink dtype(bf16) head_dim(64) heads(8, 2) kv_cache(dense) scale(0.125) {
  attn.param @sinks : f32 [q_heads]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  } sink {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %s = attn.param_load @sinks[%h] : f32
    attn.yield %s : f32
  }
}
