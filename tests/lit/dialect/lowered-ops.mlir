// RUN: attnc-opt %s | FileCheck %s
// RUN: attnc-opt %s | attnc-opt | FileCheck %s

// The untiled online-softmax form of a paged GQA kernel with an explicit
// address region; it round-trips through the printer and parser.
//   m' = max(m, rowmax(S)),  P = exp2(S - m'),  alpha = exp2(m - m')
//   l' = alpha l + rowsum(P),  acc' = alpha acc + P V

// CHECK-LABEL: attn.kernel @k
// CHECK:         attn.program {
// CHECK-NEXT:    ^bb0(%b: i32, %h: i32, %qt: i32):
// CHECK:           %[[QROW0:.*]] = attn.tile_start q %qt
// CHECK:           %[[NKV:.*]] = attn.num_tiles kv
// CHECK:           scf.for %[[J:.*]] = %{{.*}} to %[[NKV]]
// CHECK:             attn.load_k {{.*}} : tensor<?x128xbf16> addr {
// CHECK-NEXT:        ^bb0(%row: i32):
// CHECK:               attn.block_table %b
// CHECK:               attn.yield_row
// CHECK:             attn.qk {{.*}} -> tensor<?x?xf32>
// CHECK:             attn.score_mod
// CHECK:             attn.mask
// CHECK:             attn.row_max
// CHECK:             attn.exp2_diff
// CHECK:             attn.row_sum
// CHECK:             attn.rescale
// CHECK:             attn.pv
// CHECK:             scf.yield
// CHECK:           attn.finalize
// CHECK:           attn.store %{{.*}} : tensor<?x128xf32>
// CHECK:           attn.store %{{.*}} : tensor<?xf32>
attn.kernel @k dtype(bf16) head_dim(128) heads(32, 8) kv_cache(paged, page_size = 16) scale(0.088388347648318447) {
  attn.program {
  ^bb0(%b: i32, %h: i32, %qt: i32):
    %c0 = arith.constant 0 : i32
    %c1 = arith.constant 1 : i32
    %c4 = arith.constant 4 : i32
    %qlen = attn.q_len %b
    %kvlen = attn.kv_len %b
    %hkv = arith.divsi %h, %c4 : i32
    %qrow0 = attn.tile_start q %qt
    %d = arith.subi %kvlen, %qlen : i32
    %qpos0 = arith.addi %d, %qrow0 : i32
    %q = attn.load_q %b, %h, %qrow0 : tensor<?x128xbf16>
    %m0 = attn.fill 0xFF800000 rows %qlen : tensor<?xf32>
    %l0 = attn.fill 0.0 rows %qlen : tensor<?xf32>
    %acc0 = attn.fill 0.0 rows %qlen : tensor<?x128xf32>
    %nkv = attn.num_tiles kv %kvlen
    %r:3 = scf.for %j = %c0 to %nkv step %c1 iter_args(%m = %m0, %l = %l0, %acc = %acc0) -> (tensor<?xf32>, tensor<?xf32>, tensor<?x128xf32>) : i32 {
      %kvrow0 = attn.tile_start kv %j
      %k = attn.load_k %b, %hkv, %kvrow0 : tensor<?x128xbf16> addr {
      ^bb0(%row: i32):
        %c16 = arith.constant 16 : i32
        %pi = arith.divsi %row, %c16 : i32
        %page = attn.block_table %b, %pi
        %slot = arith.remsi %row, %c16 : i32
        %base = arith.muli %page, %c16 : i32
        %phys = arith.addi %base, %slot : i32
        attn.yield_row %phys
      }
      %v = attn.load_v %b, %hkv, %kvrow0 : tensor<?x128xbf16>
      %s = attn.qk %q, %k {scale = 0.1275174} : tensor<?x128xbf16>, tensor<?x128xbf16> -> tensor<?x?xf32>
      %s1 = attn.score_mod %s, %b, %h, %qpos0, %kvrow0 : tensor<?x?xf32> {
      ^bb0(%score: f32, %bb: i32, %hh: i32, %qq: i32, %kv: i32):
        attn.yield %score : f32
      }
      %s2 = attn.scale %s1 {factor = 1.4426950408889634} : tensor<?x?xf32>
      %s3 = attn.mask %s2, %b, %h, %qpos0, %kvrow0, %kvlen : tensor<?x?xf32> {
      ^bb0(%score: f32, %bb: i32, %hh: i32, %qq: i32, %kv: i32):
        %c = arith.cmpi sle, %kv, %qq : i32
        attn.yield %c : i1
      }
      %s4 = attn.mask %s3, %b, %h, %qpos0, %kvrow0, %kvlen : tensor<?x?xf32>
      %mn = attn.row_max %s4, %m : tensor<?x?xf32>, tensor<?xf32>
      %p = attn.exp2_diff %s4, %mn : tensor<?x?xf32>, tensor<?xf32>
      %alpha = attn.exp2_diff %m, %mn : tensor<?xf32>, tensor<?xf32>
      %ln = attn.row_sum %p, %l, %alpha : tensor<?x?xf32>, tensor<?xf32>
      %accs = attn.rescale %acc, %alpha : tensor<?x128xf32>, tensor<?xf32>
      %accn = attn.pv %p, %v, %accs : tensor<?x?xf32>, tensor<?x128xbf16>, tensor<?x128xf32>
      scf.yield %mn, %ln, %accn : tensor<?xf32>, tensor<?xf32>, tensor<?x128xf32>
    }
    %o, %lse = attn.finalize %r#2, %r#0, %r#1 : tensor<?x128xf32>, tensor<?xf32>
    attn.store %o, %b, %h, %qrow0 : tensor<?x128xf32>
    attn.store %lse, %b, %h, %qrow0 : tensor<?xf32>
  }
}
