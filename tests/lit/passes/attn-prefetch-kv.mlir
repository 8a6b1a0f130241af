// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile --attn-block-table --attn-mask-analysis --attn-prefetch-kv | FileCheck %s
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile --attn-block-table --attn-prefetch-kv --attn-prefetch-kv | FileCheck %s --check-prefix=TWICE
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-pack-gqa --attn-tile --attn-block-table --attn-split-kv --attn-prefetch-kv | FileCheck %s --check-prefix=SPLIT

// The K tile of iteration j + 1 is loaded during iteration j, once V(j) has
// landed (every warp is then past QKᵀ(j)); the first one before the loop.
// Two attn.wait an iteration, each also the barrier that frees the other
// buffer (buffer_free loads need none of their own):
//   K(lo); for j in [lo, hi):
//     { wait K(j); V(j); S = Q K(j)ᵀ; ...; wait V(j); K(j+1); O += P V(j) }

// CHECK-LABEL: attn.kernel @causal
// CHECK:         %[[RANGE:.*]]:2 = scf.for
// CHECK:         %[[ROW0:.*]] = attn.tile_start kv %[[RANGE]]#0 {tile = 64 : i64}
// CHECK:         %[[K0:.*]] = attn.load_k %b, %{{.*}}, %[[ROW0]] : tensor<64x128xbf16> addr {
// CHECK:           attn.block_table %b
// CHECK:         }
// CHECK:         %[[R:.*]]:4 = scf.for %[[J:.*]] = %[[RANGE]]#0 to %[[RANGE]]#1 step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %[[K:.*]] = %[[K0]]) -> ({{.*}}, tensor<64x128xbf16>)
// CHECK:           attn.wait %[[K]] : tensor<64x128xbf16>
// CHECK-NEXT:      %[[V:.*]] = attn.load_v {{.*}} {buffer_free}
// CHECK:           %[[S:.*]] = attn.qk %{{.*}}, %[[K]]
// CHECK:           attn.wait %[[V]] : tensor<64x128xbf16>
// CHECK-NEXT:      %[[ONE:.*]] = arith.constant 1 : i32
// CHECK-NEXT:      %[[NEXT:.*]] = arith.addi %[[J]], %[[ONE]] overflow<nsw> : i32
// CHECK-NEXT:      %[[NROW0:.*]] = attn.tile_start kv %[[NEXT]] {tile = 64 : i64}
// CHECK-NEXT:      %[[KN:.*]] = attn.load_k %b, %{{.*}}, %[[NROW0]] {buffer_free} : tensor<64x128xbf16> addr {
// CHECK:           attn.pv %{{.*}}, %[[V]],
// CHECK:           scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %[[KN]]
// CHECK-NOT:     attn.load_k

// Idempotent: a loop that already carries its K tile is left alone.
// TWICE-COUNT-2: attn.load_k
// TWICE-NOT:     attn.load_k

// Split-KV: a split's loop ends inside the sequence, so its last prefetch
// (the next split's first K tile) starts at kv_len instead and reads no row.
// SPLIT:         %[[KVLEN:.*]] = attn.kv_len %b
// SPLIT:         scf.for %[[J:.*]] = %{{.*}} to %[[HI:.*]] step
// SPLIT:           %[[NEXT:.*]] = arith.addi %[[J]], %{{.*}} overflow<nsw> : i32
// SPLIT:           %[[NROW0:.*]] = attn.tile_start kv
// SPLIT-NEXT:      %[[IN:.*]] = arith.cmpi slt, %[[NEXT]], %[[HI]] : i32
// SPLIT-NEXT:      %[[FROM:.*]] = arith.select %[[IN]], %[[NROW0]], %[[KVLEN]] : i32
// SPLIT-NEXT:      attn.load_k %b, %{{.*}}, %[[FROM]]
