// RUN: attnc-opt %S/Inputs/sink.mlir --attn-online-softmax | FileCheck %s
// RUN: attnc-opt %S/Inputs/sink.mlir --attn-online-softmax --attn-tile --attn-fold-scale | FileCheck %s --check-prefix=FOLD
// RUN: attnc-opt %S/Inputs/sink.mlir --attn-online-softmax --attn-pack-gqa --attn-tile --attn-mask-analysis --attn-split-kv | FileCheck %s --check-prefix=SPLIT
// RUN: attnc-opt %S/Inputs/sink.mlir --attn-online-softmax --attn-pack-gqa --attn-tile --attn-mask-analysis --attn-split-kv --attn-prefetch-kv --attn-fold-scale | attnc-opt | FileCheck %s --check-prefix=ALL

// The sink is a key with a zero value row that enters the state (m, l)
// before the KV loop, so the loop and attn.finalize count it like any key.
// CHECK-LABEL: attn.kernel @sink
// CHECK:         %[[Q:.*]] = attn.load_q
// CHECK:         %[[M0:.*]] = attn.fill 0xFF800000 rows %{{.*}} : tensor<?xf32>
// CHECK:         %[[L0:.*]] = attn.fill 0.000000e+00 rows %{{.*}} : tensor<?xf32>
// CHECK:         %[[ST:.*]]:2 = attn.sink %[[M0]], %[[L0]], %b, %h, %{{.*}} : tensor<?xf32> {
// CHECK-NEXT:    ^bb0(%score: f32, %b_0: i32, %[[H:.*]]: i32, %q: i32, %kv: i32):
// CHECK-NEXT:      %[[S:.*]] = attn.param_load @sinks[%[[H]]] : f32
// CHECK-NEXT:      attn.yield %[[S]] : f32
// CHECK-NEXT:    }
// CHECK:         %[[LOOP:.*]]:3 = scf.for {{.*}} iter_args(%{{.*}} = %[[ST]]#0, %{{.*}} = %[[ST]]#1, %{{.*}} = %{{.*}})
// CHECK:         attn.finalize %[[LOOP]]#2, %[[LOOP]]#0, %[[LOOP]]#1

// Tiled, the state is one entry per tile row; attn-fold-scale gives the sink
// the scale it gives the exponents (its logit joins unscaled maxima).
// FOLD:         attn.sink {{.*}} {scale = 0.1803368{{[0-9]*}} : f64} : tensor<64xf32>
// FOLD:         attn.exp2_diff {{.*}} {scale = 0.1803368{{[0-9]*}} : f64}

// Split-KV: partial sums are added by the merge, so split 0 alone counts
// the sink.
// SPLIT:         %[[SPLIT:.*]] = attn.split_index
// SPLIT-NEXT:    %[[ZERO:.*]] = arith.constant 0 : i32
// SPLIT-NEXT:    %[[FIRST:.*]] = arith.cmpi eq, %[[SPLIT]], %[[ZERO]] : i32
// SPLIT-NEXT:    attn.sink {{.*}} if %[[FIRST]] : tensor<64xf32>
// SPLIT:         attn.merge_splits

// ALL: attn.sink {{.*}} if %{{.*}} {scale = 0.1803368{{[0-9]*}} : f64} : tensor<64xf32>
