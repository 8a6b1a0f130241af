// RUN: attnc-opt %S/Inputs/mla.mlir --attn-online-softmax --attn-tile --attn-block-table --attn-latent-kv | FileCheck %s
// RUN: attnc-opt %S/Inputs/mla.mlir --attn-online-softmax --attn-tile --attn-block-table --attn-latent-kv --attn-prefetch-kv | FileCheck %s --check-prefix=PREFETCH
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile --attn-block-table --attn-latent-kv | FileCheck %s --check-prefix=SEPARATE
// RUN: attnc-opt %s -split-input-file -verify-diagnostics

// latent_kv: V is the first 512 columns of each K row, so the V load of a
// tile becomes a view of the K tile of the same rows (no second copy).
// CHECK:       scf.for
// CHECK:         %[[ROW0:.*]] = attn.tile_start kv
// CHECK:         %[[K:.*]] = attn.load_k %b, %{{.*}}, %[[ROW0]] : tensor<32x576xbf16> addr
// CHECK-NOT:     attn.load_v
// CHECK:         %[[V:.*]] = attn.k_prefix %[[K]] : tensor<32x576xbf16> -> tensor<32x512xbf16>
// CHECK:         attn.qk %{{.*}}, %[[K]]
// CHECK:         attn.pv %{{.*}}, %[[V]], %{{.*}} : tensor<16x32xf32>, tensor<32x512xbf16>, tensor<16x512xf32>

// attn-prefetch-kv then double-buffers the K tile: the loop carries it, the
// wait for it opens the iteration (every warp is past the previous P·V,
// the last read of the other buffer), and the next tile's copy starts
// right after, into the other buffer (double_buffer), overlapping the
// whole iteration.
// PREFETCH:      %[[K0:.*]] = attn.load_k {{.*}} : tensor<32x576xbf16> addr
// PREFETCH:      scf.for {{.*}} iter_args({{.*}}, %[[K:.*]] = %[[K0]])
// PREFETCH-NEXT:   attn.wait %[[K]] : tensor<32x576xbf16>
// PREFETCH:        %[[NEXT:.*]] = attn.load_k {{.*}} {buffer_free, double_buffer} : tensor<32x576xbf16>
// PREFETCH:        %[[V:.*]] = attn.k_prefix %[[K]]
// PREFETCH:        attn.qk %{{.*}}, %[[K]]
// PREFETCH:        attn.pv %{{.*}}, %[[V]],
// PREFETCH:        scf.yield {{.*}}, %[[NEXT]]

// Separate K and V caches keep their V loads.
// SEPARATE: attn.load_v
// SEPARATE-NOT: attn.k_prefix

attn.kernel @k dtype(bf16) head_dim(576) v_head_dim(512) heads(16, 1) kv_cache(dense) latent_kv scale(0.125) {
  attn.program attributes {block_kv = 32 : i64, block_q = 16 : i64, column_warps, warps = 4 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
    %c0 = arith.constant 0 : i32
    %k = attn.load_k %b, %c0, %c0 : tensor<32x512xbf16>
    // expected-error @below {{takes at most the K tile's 512 columns, not 576}}
    %v = attn.k_prefix %k : tensor<32x512xbf16> -> tensor<32x576xbf16>
  }
}

// -----

attn.kernel @k dtype(bf16) head_dim(576) v_head_dim(512) heads(16, 1) kv_cache(dense) latent_kv scale(0.125) {
  attn.program attributes {block_kv = 32 : i64, block_q = 16 : i64, column_warps, warps = 4 : i64} {
  ^bb0(%b: i32, %h: i32, %qt: i32):
    %c0 = arith.constant 0 : i32
    %k = attn.load_k %b, %c0, %c0 : tensor<32x576xbf16>
    // expected-error @below {{keeps the K tile's rows (32), not 16}}
    %v = attn.k_prefix %k : tensor<32x576xbf16> -> tensor<16x512xbf16>
  }
}
