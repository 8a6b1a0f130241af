// RUN: attnc-opt %S/Inputs/mla.mlir --attn-online-softmax --attn-tile | FileCheck %s
// RUN: attnc-opt %S/Inputs/mla.mlir --attn-online-softmax --attn-tile="block-kv=64 warps=8" | FileCheck %s --check-prefix=GIVEN
// RUN: attnc-opt %S/Inputs/mla.mlir --attn-online-softmax --attn-pack-gqa --attn-tile | FileCheck %s --check-prefix=PACKED
// RUN: not attnc-opt %S/Inputs/mla.mlir --attn-online-softmax --attn-tile="block-kv=32 warps=8" 2>&1 | FileCheck %s --check-prefix=BAD-WARPS

// Past 256 columns a warp cannot hold a 16-row slice of O (16 x 512 f32
// is 256 registers a lane): the warps share the rows and split the
// columns (`column_warps`), 4 of them over one 16-row block and 32 keys by
// default, with Q in shared memory (every warp reads every row). The tile
// types are the CTA's; the code generator gives each warp its share.
// CHECK:       attn.program attributes {block_kv = 32 : i64, block_q = 16 : i64, column_warps, warps = 4 : i64} {
// CHECK:         attn.load_q %b, %h, %{{.*}} {shared} : tensor<16x576xbf16>
// CHECK:         attn.fill {{.*}} : tensor<16x512xf32>
// CHECK:         attn.load_k {{.*}} : tensor<32x576xbf16>
// CHECK:         attn.load_v {{.*}} : tensor<32x512xbf16>
// CHECK:         attn.qk {{.*}} -> tensor<16x32xf32>
// CHECK:         attn.pv {{.*}} : tensor<16x32xf32>, tensor<32x512xbf16>, tensor<16x512xf32>

// A warp count and block-kv given: 8 warps of 8 keys each.
// GIVEN: attn.program attributes {block_kv = 64 : i64, block_q = 16 : i64, column_warps, warps = 8 : i64} {

// Packed query heads fill the 16 rows (16 of the group of 16), not the 64
// rows a row-warp program would take.
// PACKED: attn.program attributes {block_kv = 32 : i64, block_q = 16 : i64, column_warps, gqa_pack = 16 : i64, warps = 4 : i64} {

// BAD-WARPS: error: 'attn.program' op warps = 8 must split block-kv = 32 into whole 8-key n-tiles (head_dim 576 / v_head_dim 512 > 256: the warps share the rows and split the columns)
