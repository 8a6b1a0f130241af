// RUN: attnc-opt %s -split-input-file -verify-diagnostics --attn-latent-kv

// A latent cache's V tile is read out of the K tile of its rows; a V load
// with no K load of the same rows in its block has nothing to view.
attn.kernel @k dtype(bf16) head_dim(576) v_head_dim(512) heads(16, 1) kv_cache(dense) latent_kv scale(0.125) {
  attn.program attributes {block_kv = 32 : i64, block_q = 16 : i64, column_warps, warps = 4 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
    %c0 = arith.constant 0 : i32
    %c32 = arith.constant 32 : i32
    %k = attn.load_k %b, %c0, %c0 : tensor<32x576xbf16>
    // expected-error @below {{of a latent cache has no K load of its rows in its block to read V from}}
    %v = attn.load_v %b, %c0, %c32 : tensor<32x512xbf16>
  }
}
