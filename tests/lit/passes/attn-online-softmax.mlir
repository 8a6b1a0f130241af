// RUN: attnc-opt %s --attn-online-softmax | FileCheck %s
// RUN: attnc-opt %s --attn-online-softmax --attn-online-softmax | FileCheck %s

// Softcap (a score modifier) with a causal mask, GQA 16:8.
//   s = scale * q.k;  s' = 50 tanh(s / 50);  s2 = log2(e) * s'   (log2 domain)
//   m' = max(m, rowmax(s2));  p = exp2(s2 - m');  alpha = exp2(m - m')
//   l' = alpha l + rowsum(p);  acc' = alpha acc + p V
//   o = acc / l;  lse = ln2 (m + log2 l)

// CHECK-LABEL: attn.kernel @softcap
// CHECK-NOT:     attn.sdpa
// CHECK:         attn.program {
// CHECK-NEXT:    ^bb0(%b: i32, %h: i32, %qt: i32):
// CHECK-DAG:       %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG:       %[[C1:.*]] = arith.constant 1 : i32
// CHECK-DAG:       %[[QLEN:.*]] = attn.q_len %b
// CHECK-DAG:       %[[KVLEN:.*]] = attn.kv_len %b
// CHECK-DAG:       %[[GROUP:.*]] = arith.constant 2 : i32
// CHECK:           %[[HKV:.*]] = arith.divsi %h, %[[GROUP]] : i32
// CHECK:           %[[QROW0:.*]] = attn.tile_start q %qt{{$}}
// CHECK:           %[[D:.*]] = arith.subi %[[KVLEN]], %[[QLEN]] overflow<nsw> : i32
// CHECK:           %[[QPOS0:.*]] = arith.addi %[[D]], %[[QROW0]] overflow<nsw> : i32
// CHECK:           %[[Q:.*]] = attn.load_q %b, %h, %[[QROW0]] : tensor<?x128xbf16>
// CHECK:           %[[M0:.*]] = attn.fill 0xFF800000 rows %[[QLEN]] : tensor<?xf32>
// CHECK:           %[[L0:.*]] = attn.fill 0.000000e+00 rows %[[QLEN]] : tensor<?xf32>
// CHECK:           %[[ACC0:.*]] = attn.fill 0.000000e+00 rows %[[QLEN]] : tensor<?x128xf32>
// CHECK:           %[[NKV:.*]] = attn.num_tiles kv %[[KVLEN]]{{$}}
// CHECK:           %[[R:.*]]:3 = scf.for %[[J:.*]] = %[[C0]] to %[[NKV]] step %[[C1]] iter_args(%[[M:.*]] = %[[M0]], %[[L:.*]] = %[[L0]], %[[ACC:.*]] = %[[ACC0]])
// CHECK:             %[[KVROW0:.*]] = attn.tile_start kv %[[J]]{{$}}
// CHECK:             %[[K:.*]] = attn.load_k %b, %[[HKV]], %[[KVROW0]] : tensor<?x128xbf16>{{$}}
// CHECK:             %[[V:.*]] = attn.load_v %b, %[[HKV]], %[[KVROW0]] : tensor<?x128xbf16>{{$}}
// The natural scale: the modifier must see the real score.
// CHECK:             %[[S:.*]] = attn.qk %[[Q]], %[[K]] {scale = 0.088388347648318447 : f64}
// CHECK:             %[[SM:.*]] = attn.score_mod %[[S]], %b, %h, %[[QPOS0]], %[[KVROW0]] : tensor<?x?xf32> {
// CHECK:               math.tanh
// CHECK:             }
// CHECK:             %[[S2:.*]] = attn.scale %[[SM]] {factor = 1.4426950408889634 : f64}
// CHECK:             %[[SMASK:.*]] = attn.mask %[[S2]], %b, %h, %[[QPOS0]], %[[KVROW0]], %[[KVLEN]] : tensor<?x?xf32> {
// CHECK:               arith.cmpi sle, %kv, %q
// CHECK:             }
// CHECK:             %[[MN:.*]] = attn.row_max %[[SMASK]], %[[M]]
// CHECK:             %[[P:.*]] = attn.exp2_diff %[[SMASK]], %[[MN]] : tensor<?x?xf32>
// CHECK:             %[[ALPHA:.*]] = attn.exp2_diff %[[M]], %[[MN]] : tensor<?xf32>
// CHECK:             %[[LN:.*]] = attn.row_sum %[[P]], %[[L]], %[[ALPHA]]
// CHECK:             %[[ACCS:.*]] = attn.rescale %[[ACC]], %[[ALPHA]]
// CHECK:             %[[ACCN:.*]] = attn.pv %[[P]], %[[V]], %[[ACCS]]
// CHECK:             scf.yield %[[MN]], %[[LN]], %[[ACCN]]
// CHECK:           %[[O:.*]], %[[LSE:.*]] = attn.finalize %[[R]]#2, %[[R]]#0, %[[R]]#1
// CHECK:           attn.store %[[O]], %b, %h, %[[QROW0]] : tensor<?x128xf32>
// CHECK:           attn.store %[[LSE]], %b, %h, %[[QROW0]] : tensor<?xf32>
attn.kernel @softcap dtype(bf16) head_dim(128) heads(16, 8) kv_cache(dense) scale(0.088388347648318447) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c = arith.constant 50.0 : f32
    %d = arith.divf %score, %c : f32
    %t = math.tanh %d : f32
    %r = arith.mulf %c, %t : f32
    attn.yield %r : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %m = arith.cmpi sle, %kv, %q : i32
    attn.yield %m : i1
  }
}

// Identity score, no mask, MHA: log2(e) folds into the QK scale, there is no
// score_mod or scale op, and the mask keeps only its bounds check (no region).
//   0.125 * log2(e) = 0.18033688011112042

// CHECK-LABEL: attn.kernel @plain
// CHECK:         %[[KVLEN:.*]] = attn.kv_len %b
// CHECK-NOT:     arith.divsi %h
// CHECK:         attn.load_k %b, %h,
// CHECK:         %[[S:.*]] = attn.qk {{.*}} {scale = 0.18033688011112042 : f64}
// CHECK-NOT:     attn.score_mod
// CHECK-NOT:     attn.scale
// CHECK:         attn.mask %[[S]], %b, %h, %{{.*}}, %{{.*}}, %[[KVLEN]] : tensor<?x?xf32>{{$}}
// CHECK-NEXT:    attn.row_max
attn.kernel @plain dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
