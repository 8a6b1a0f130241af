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
// CHECK:           %[[ROWS:.*]] = arith.muli %[[QLEN]], %[[G]] : i32
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
