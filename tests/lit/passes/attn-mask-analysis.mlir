// RUN: attnc-opt %S/Inputs/masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis -verify-diagnostics 2>&1 | FileCheck %s

// Per (Q tile, KV tile) the mask is bounded with interval arithmetic over
// q in [qFirst, qLast] and kv in [kvFirst, kvLast]:
//   canTrue  = some element visible  -> the scan keeps the tile in [lo, hi)
//   canFalse = some element masked   -> attn.mask runs under scf.if
// with qFirst = kv_len - q_len + 64 qt, qLast = qFirst + min(q_len - 64 qt, 64) - 1,
// kvFirst = 64 j, kvLast = min(kvFirst + 64, kv_len) - 1.

// Sliding window  kv <= q && q - kv < 4096:
//   canTrue  = kvFirst <= qLast && qFirst - kvLast < 4096
//   canFalse = kvLast > qFirst || qLast - kvFirst >= 4096
// CHECK-LABEL: attn.kernel @window
// CHECK:         %[[KVLEN:.*]] = attn.kv_len %b
// CHECK:         %[[QROW0:.*]] = attn.tile_start q %qt {tile = 64 : i64}
// CHECK:         %[[QFIRST:.*]] = arith.addi %{{.*}}, %[[QROW0]] overflow<nsw> : i32
// CHECK:         %[[NKV:.*]] = attn.num_tiles kv %[[KVLEN]] {tile = 64 : i64}
// CHECK:         %[[LEFT:.*]] = arith.subi %{{.*}}, %[[QROW0]] overflow<nsw> : i32
// CHECK:         %[[ROWS:.*]] = arith.minsi %[[LEFT]], %{{.*}} : i32
// CHECK:         %[[QEND:.*]] = arith.addi %[[QFIRST]], %[[ROWS]] overflow<nsw> : i32
// CHECK:         %[[QLAST:.*]] = arith.subi %[[QEND]], %{{.*}} overflow<nsw> : i32
// The scan: first and last visible KV tile.
// CHECK:         %[[RANGE:.*]]:2 = scf.for %[[J:.*]] = %{{.*}} to %[[NKV]] {{.*}} iter_args(%[[LO:.*]] = %[[NKV]], %[[HI:.*]] = %{{.*}}) -> (i32, i32)
// CHECK:           %[[KVFIRST:.*]] = attn.tile_start kv %[[J]] {tile = 64 : i64}
// CHECK:           %[[KVEND:.*]] = arith.minsi %{{.*}}, %[[KVLEN]] : i32
// CHECK:           %[[KVLAST:.*]] = arith.subi %[[KVEND]], %{{.*}} overflow<nsw> : i32
// CHECK-DAG:       %[[T1:.*]] = arith.cmpi sle, %[[KVFIRST]], %[[QLAST]] : i32
// CHECK-DAG:       %[[D1:.*]] = arith.subi %[[QFIRST]], %[[KVLAST]] overflow<nsw> : i32
// CHECK-DAG:       %[[T2:.*]] = arith.cmpi slt, %[[D1]], %{{.*}} : i32
// CHECK:           %[[CANTRUE:.*]] = arith.andi %[[T1]], %[[T2]] : i1
// CHECK:           %[[MIN:.*]] = arith.minsi %[[LO]], %[[J]] : i32
// CHECK:           arith.select %[[CANTRUE]], %[[MIN]], %[[LO]] : i32
// CHECK:           scf.yield
// The KV loop runs over the visible tiles only.
// CHECK:         scf.for %[[J2:.*]] = %[[RANGE]]#0 to %[[RANGE]]#1
// CHECK:           %[[KVFIRST2:.*]] = attn.tile_start kv %[[J2]]
// CHECK:           %[[PASTEND:.*]] = arith.cmpi sgt, %{{.*}}, %[[KVLEN]] : i32
// CHECK-DAG:       %[[F1:.*]] = arith.cmpi sgt, %{{.*}}, %[[QFIRST]] : i32
// CHECK-DAG:       %[[F2:.*]] = arith.cmpi sge, %{{.*}}, %{{.*}} : i32
// CHECK:           %[[CANFALSE:.*]] = arith.ori %[[F1]], %[[F2]] : i1
// CHECK:           %[[NEEDS:.*]] = arith.ori %[[PASTEND]], %[[CANFALSE]] : i1
// CHECK:           %[[S:.*]] = scf.if %[[NEEDS]] -> (tensor<64x64xf32>) {
// CHECK:             attn.mask
// CHECK:           } else {
// CHECK:           attn.row_max %[[S]]

// Prefix-LM  kv <= q || kv < prefix[b]: prefix[b] is the same on the whole
// tile, so it is loaded once per tile and the bound stays exact.
//   canTrue  = kvFirst <= qLast || kvFirst < prefix[b]
//   canFalse = kvLast > qFirst && kvLast >= prefix[b]
// CHECK-LABEL: attn.kernel @prefix_lm
// CHECK:         scf.for
// CHECK:           %[[P:.*]] = attn.param_load @prefix[%b] : i32
// CHECK:           arith.cmpi sge, %{{.*}}, %[[P]] : i32
// CHECK:           arith.cmpi slt, %{{.*}}, %[[P]] : i32
// CHECK:           arith.ori
// CHECK:           arith.select
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK:             attn.mask

// Chunked  q / 128 == kv / 128: division by a constant is monotone.
// CHECK-LABEL: attn.kernel @chunked
// CHECK:         scf.for
// CHECK-COUNT-4:   arith.divsi %{{.*}}, %{{.*}} : i32
// CHECK:           arith.select
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK:             attn.mask

// Document ids read tensor data at q and kv: doc[b, q] over the tile lies
// between the smallest and largest id of its positions, read at run time
// (attn.param_range), and the same for kv; equality can hold where the two
// ranges meet, and fail unless both are one and the same id.
// CHECK-LABEL: attn.kernel @document
// CHECK:         %[[NKV:.*]] = attn.num_tiles kv
// CHECK:         %[[RANGE:.*]]:2 = scf.for %[[J:.*]] = %{{.*}} to %[[NKV]]
// CHECK-DAG:       %[[QMIN:.*]], %[[QMAX:.*]] = attn.param_range @doc[%b, %{{.*}}] to %{{.*}} along 1 : i32
// CHECK-DAG:       %[[KMIN:.*]], %[[KMAX:.*]] = attn.param_range @doc[%b, %{{.*}}] to %{{.*}} along 1 : i32
// CHECK-DAG:       arith.cmpi sle, %[[QMIN]], %[[KMAX]] : i32
// CHECK-DAG:       arith.cmpi sle, %[[KMIN]], %[[QMAX]] : i32
// CHECK:           scf.yield
// CHECK:         scf.for %{{.*}} = %[[RANGE]]#0 to %[[RANGE]]#1
// CHECK:           attn.param_range @doc
// CHECK:           scf.if
// CHECK:             attn.mask

// No mask: no scan; only the tile that runs past kv_len is masked.
// CHECK-LABEL: attn.kernel @none
// CHECK:         %[[KVLEN:.*]] = attn.kv_len %b
// CHECK:         %[[NKV:.*]] = attn.num_tiles kv
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[NKV]]
// CHECK:           %[[PASTEND:.*]] = arith.cmpi sgt, %{{.*}}, %[[KVLEN]] : i32
// CHECK:           scf.if %[[PASTEND]]
// CHECK:             attn.mask {{.*}} : tensor<64x64xf32>{{$}}
