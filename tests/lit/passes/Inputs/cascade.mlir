// Paged, causal, 4 query heads per KV head, and a sink whose logit reads
// the query position: what cascade attention runs as two launches.
attn.kernel @cascade dtype(bf16) head_dim(64) heads(8, 2) kv_cache(paged, page_size = 16) scale(0.125) {
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
    %c3 = arith.constant 3 : i32
    %r = arith.remsi %q, %c3 : i32
    %f = arith.sitofp %r : i32 to f32
    %t = arith.addf %s, %f : f32
    attn.yield %t : f32
  }
}
