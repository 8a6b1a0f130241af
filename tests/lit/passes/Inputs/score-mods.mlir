// Score modifiers for attn-derive-backward.

// ALiBi: a bias of params and positions; its derivative by the score is 1.
attn.kernel @alibi dtype(f16) head_dim(64) heads(4, 4) kv_cache(dense) scale(0.125) {
  attn.param @slope : f32 [q_heads]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %s = attn.param_load @slope[%h] : f32
    %d = arith.subi %kv, %q : i32
    %f = arith.sitofp %d : i32 to f32
    %bias = arith.mulf %s, %f : f32
    %r = arith.addf %score, %bias : f32
    attn.yield %r : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  }
}

// A select, a power of |s|, a floor and an exp2: every rule at once.
attn.kernel @mixed dtype(bf16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %zero = arith.constant 0.0 : f32
    %k = arith.constant 1.5 : f32
    %pos = arith.cmpf ogt, %score, %zero : f32
    %a = math.absf %score : f32
    %p = math.powf %a, %k : f32
    %e = math.exp2 %score : f32
    %fl = math.floor %e : f32
    %sum = arith.addf %p, %fl : f32
    %r = arith.select %pos, %sum, %score : f32
    attn.yield %r : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
