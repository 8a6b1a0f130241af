// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile="block-q=64 block-kv=32" | FileCheck %s
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile | FileCheck %s --check-prefix=DEFAULT
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile="block-q=128 warps=4" | FileCheck %s --check-prefix=WARPS
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile="block-q=64 warps=4" | FileCheck %s --check-prefix=WARPS-DEFAULT
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile=split-kv=true | FileCheck %s --check-prefix=SPLIT
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile="split-kv=true block-kv=32" | FileCheck %s --check-prefix=SPLIT-GIVEN

// A warp count other than one per 16 rows is recorded on the program (here
// 32 rows per warp); the default is left implicit. A warp of 32 rows keeps
// its Q rows in shared memory (`shared` on attn.load_q); one of 16 keeps
// them in registers.
// WARPS: attn.program attributes {block_kv = 64 : i64, block_q = 128 : i64, warps = 4 : i64}
// WARPS: attn.load_q %b, %h, %{{.*}} {shared} : tensor<128x128xbf16>
// WARPS-DEFAULT: attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64} {
// WARPS-DEFAULT: attn.load_q %b, %h, %{{.*}} : tensor<64x128xbf16>

// A program split over KV next (decode) defaults to 128-key tiles at
// head_dim 128; a block-kv given still wins.
// SPLIT: attn.program attributes {block_kv = 128 : i64, block_q = 64 : i64} {
// SPLIT: attn.load_k {{.*}} : tensor<128x128xbf16>
// SPLIT: attn.qk {{.*}} -> tensor<64x128xf32>
// SPLIT-GIVEN: attn.program attributes {block_kv = 32 : i64, block_q = 64 : i64} {

// Tiling fixes Br = 64 query rows per program and Bc = 32 KV rows per loop
// iteration; every tile type becomes static and `rows` operands disappear.
//   grid: ceildiv(q_len, 64) programs per (sequence, head)
//   loop: j in [0, ceildiv(kv_len, 32)),  KV rows [32 j, 32 j + 32)

// CHECK-LABEL: attn.kernel @causal
// CHECK:         attn.program attributes {block_kv = 32 : i64, block_q = 64 : i64} {
// CHECK:           %[[QROW0:.*]] = attn.tile_start q %qt {tile = 64 : i64}
// CHECK:           attn.load_q %b, %h, %[[QROW0]] : tensor<64x128xbf16>
// CHECK:           attn.fill 0xFF800000 : tensor<64xf32>
// CHECK:           attn.fill 0.000000e+00 : tensor<64xf32>
// CHECK:           attn.fill 0.000000e+00 : tensor<64x128xf32>
// CHECK:           %[[NKV:.*]] = attn.num_tiles kv %{{.*}} {tile = 32 : i64}
// CHECK:           scf.for %[[J:.*]] = %{{.*}} to %[[NKV]] {{.*}} -> (tensor<64xf32>, tensor<64xf32>, tensor<64x128xf32>)
// CHECK:             attn.tile_start kv %[[J]] {tile = 32 : i64}
// CHECK:             attn.load_k {{.*}} : tensor<32x128xbf16>
// CHECK:             attn.load_v {{.*}} : tensor<32x128xbf16>
// CHECK:             attn.qk {{.*}} : tensor<64x128xbf16>, tensor<32x128xbf16> -> tensor<64x32xf32>
// CHECK:             attn.mask {{.*}} : tensor<64x32xf32>
// CHECK:             attn.row_max {{.*}} : tensor<64x32xf32>, tensor<64xf32>
// CHECK:             attn.exp2_diff {{.*}} : tensor<64x32xf32>, tensor<64xf32>
// CHECK:             attn.exp2_diff {{.*}} : tensor<64xf32>, tensor<64xf32>
// CHECK:             attn.row_sum {{.*}} : tensor<64x32xf32>, tensor<64xf32>
// CHECK:             attn.rescale {{.*}} : tensor<64x128xf32>, tensor<64xf32>
// CHECK:             attn.pv {{.*}} : tensor<64x32xf32>, tensor<32x128xbf16>, tensor<64x128xf32>
// CHECK:             scf.yield {{.*}} : tensor<64xf32>, tensor<64xf32>, tensor<64x128xf32>
// CHECK:           attn.finalize {{.*}} : tensor<64x128xf32>, tensor<64xf32>
// CHECK:           attn.store {{.*}} : tensor<64x128xf32>
// CHECK:           attn.store {{.*}} : tensor<64xf32>

// DEFAULT: attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64}
// DEFAULT: attn.load_q %b, %h, %{{.*}} : tensor<64x128xbf16>
// DEFAULT: attn.qk {{.*}} -> tensor<64x64xf32>
