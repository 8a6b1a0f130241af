// Masks whose visible KV tiles can come in several runs per query tile.

// Attention sinks plus a causal window: kv <= q && (kv < 4 || q - kv < 256),
// two runs (the sinks' tile, the window's tiles).
attn.kernel @sinks_window dtype(bf16) head_dim(64) heads(4, 2) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c4 = arith.constant 4 : i32
    %c256 = arith.constant 256 : i32
    %causal = arith.cmpi sle, %kv, %q : i32
    %sink = arith.cmpi slt, %kv, %c4 : i32
    %d = arith.subi %q, %kv : i32
    %near = arith.cmpi slt, %d, %c256 : i32
    %either = arith.ori %sink, %near : i1
    %m = arith.andi %causal, %either : i1
    attn.yield %m : i1
  }
}

// Three runs, two of them under a negation:
//   (!(kv >= 8 && (kv < 512 || kv >= 640)) || q - kv < 64) && kv <= q
// i.e. (kv < 8 || (kv >= 512 && kv < 640) || q - kv < 64) && kv <= q: De
// Morgan turns the && under `!` into a union.
attn.kernel @negated dtype(f16) head_dim(64) heads(2, 2) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %true = arith.constant true
    %c8 = arith.constant 8 : i32
    %c512 = arith.constant 512 : i32
    %c640 = arith.constant 640 : i32
    %past = arith.cmpi sge, %kv, %c8 : i32
    %before = arith.cmpi slt, %kv, %c512 : i32
    %after = arith.cmpi sge, %kv, %c640 : i32
    %outside = arith.ori %before, %after : i1
    %hidden = arith.andi %past, %outside : i1
    %shown = arith.xori %hidden, %true : i1
    %c64 = arith.constant 64 : i32
    %d = arith.subi %q, %kv : i32
    %near = arith.cmpi slt, %d, %c64 : i32
    %either = arith.ori %shown, %near : i1
    %causal = arith.cmpi sle, %kv, %q : i32
    %m = arith.andi %either, %causal : i1
    attn.yield %m : i1
  }
}
