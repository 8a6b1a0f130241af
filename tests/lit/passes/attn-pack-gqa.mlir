// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-pack-gqa | FileCheck %s
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-pack-gqa --attn-tile | FileCheck %s --check-prefix=TILED
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-pack-gqa --attn-pack-gqa | FileCheck %s
// RUN: sed 's/heads(32, 8)/heads(8, 8)/' %S/Inputs/causal-gqa.mlir | attnc-opt --attn-online-softmax --attn-pack-gqa | FileCheck %s --check-prefix=MHA

// GQA 32:8 (G = 4): a program per KV head %h; tile row r is query row r / 4
// of query head 4 %h + r % 4. The K/V head is %h itself (no %h / 4), and the
// untiled state has q_len * 4 rows.

// CHECK-LABEL: attn.kernel @causal
// CHECK:         attn.program attributes {gqa_pack = 4 : i64} {
// CHECK:           %[[QLEN:.*]] = attn.q_len %b
// CHECK-NOT:       arith.divsi %h
// CHECK:           attn.load_q %b, %h, %{{.*}} : tensor<?x128xbf16>
// CHECK:           %[[G:.*]] = arith.constant 4 : i32
// CHECK:           %[[ROWS:.*]] = arith.muli %[[QLEN]], %[[G]] overflow<nsw> : i32
// CHECK:           attn.fill 0xFF800000 rows %[[ROWS]] : tensor<?xf32>
// CHECK:           attn.load_k %b, %h, %{{.*}} : tensor<?x128xbf16>
// CHECK:           attn.load_v %b, %h, %{{.*}} : tensor<?x128xbf16>
// CHECK:           attn.store %{{.*}}, %b, %h, %{{.*}} : tensor<?x128xf32>

// A 64-row tile holds 16 query rows of 4 heads.
// TILED: attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 4 : i64}
// TILED: attn.tile_start q %qt {tile = 16 : i64}
// TILED: attn.load_q {{.*}} : tensor<64x128xbf16>

// With MHA there is nothing to pack.
// MHA-NOT: gqa_pack

// Every group size packs. 24:8 (G = 3) with the default tile: 3 heads per
// tile and block-q 96 (the least multiple of 48 from 64 up), 32 query rows.
// RUN: sed 's/heads(32, 8)/heads(24, 8)/' %S/Inputs/causal-gqa.mlir | attnc-opt --attn-online-softmax --attn-pack-gqa --attn-tile | FileCheck %s --check-prefix=G3
// G3: attn.program attributes {block_kv = 64 : i64, block_q = 96 : i64, gqa_pack = 3 : i64}
// G3: attn.tile_start q %qt {tile = 32 : i64}

// 48:8 (G = 6) under a 64-row tile: 2 of the 6 heads share a tile, the grid
// runs over 24 head pairs, and the KV head is %h / 3.
// RUN: sed 's/heads(32, 8)/heads(48, 8)/' %S/Inputs/causal-gqa.mlir | attnc-opt --attn-online-softmax --attn-pack-gqa="block-q=64" --attn-tile="block-q=64" | FileCheck %s --check-prefix=G6
// G6: attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 2 : i64}
// G6: %[[THREE:.*]] = arith.constant 3 : i32
// G6: %[[KVH:.*]] = arith.divsi %h, %[[THREE]] : i32
// G6: attn.load_k %b, %[[KVH]]

// Falcon's 71:1 has no divisor but 1 and 71, and 71 heads fit no tile of
// at most 256 rows: nothing is packed.
// RUN: sed 's/heads(32, 8)/heads(71, 1)/' %S/Inputs/causal-gqa.mlir | attnc-opt --attn-online-softmax --attn-pack-gqa | FileCheck %s --check-prefix=MHA

// heads=N asks for N heads per tile.
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-pack-gqa="heads=2" | FileCheck %s --check-prefix=HEADS2
// HEADS2: attn.program attributes {gqa_pack = 2 : i64}
// HEADS2: arith.divsi %h, %{{.*}} : i32
