// A score modifier (softcap 30 tanh(score / 30)) reads the scaled score.
attn.kernel @softcap dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.constant 30.0 : f32
    %d = arith.divf %score, %c : f32
    %t = math.tanh %d : f32
    %s = arith.mulf %c, %t : f32
    attn.yield %s : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  }
}
