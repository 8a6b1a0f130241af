// RUN: attnc-opt %s -split-input-file -verify-diagnostics --attn-cascade

// The shared prefix is a run of shared pages.
// expected-error @below {{cascade attention needs a paged KV cache}}
attn.kernel @dense dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  }
}

// -----

// In the prefix launch b numbers groups: a region reading b (here through
// a per-sequence parameter) would see the wrong sequence.
attn.kernel @reads_b dtype(f16) head_dim(64) heads(8, 8) kv_cache(paged, page_size = 16) scale(0.125) {
  attn.param @prefix : i32 [batch]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    // expected-error @below {{reads the sequence index b, which cascade attention's prefix launch cannot give}}
    %p = attn.param_load @prefix[%b] : i32
    %in = arith.cmpi slt, %kv, %p : i32
    %m = arith.ori %c, %in : i1
    attn.yield %m : i1
  }
}

// -----

// expected-error @below {{already has a parameter named 'cascade_kv_start', which attn-cascade adds}}
attn.kernel @taken dtype(f16) head_dim(64) heads(8, 8) kv_cache(paged, page_size = 16) scale(0.125) {
  attn.param @cascade_kv_start : f32
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %s = attn.param_load @cascade_kv_start : f32
    %t = arith.addf %score, %s : f32
    attn.yield %t : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.cmpi sle, %kv, %q : i32
    attn.yield %c : i1
  }
}

// -----

// expected-error @below {{attn-cascade runs on attn.sdpa, before attn-online-softmax}}
attn.kernel @lowered dtype(f16) head_dim(64) heads(8, 8) kv_cache(paged, page_size = 16) scale(0.125) {
  attn.program {
  ^bb0(%b: i32, %h: i32, %qt: i32):
  }
}
