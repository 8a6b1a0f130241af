// RUN: attnc-opt %S/Inputs/fp8-kv.mlir --attn-online-softmax | FileCheck %s
// RUN: attnc-opt %S/Inputs/fp8-kv.mlir --attn-online-softmax --attn-pack-gqa --attn-tile --attn-mask-analysis --attn-split-kv --attn-block-table --attn-prefetch-kv --attn-fold-scale | attnc-opt | FileCheck %s --check-prefix=ALL

// An fp8 cache's scales are one factor per tile row, computed once before
// the KV loop: k_scale multiplies S right after QKᵀ (in f32), v_scale
// multiplies O after finalize. The loads stay 16-bit tiles: the kernel's
// kv_dtype tells the code generator to widen fp8 bytes into them.
// CHECK-LABEL: attn.kernel @fp8 {{.*}} kv_dtype(f8E4M3FN)
// CHECK:         %[[Q:.*]] = attn.load_q {{.*}} : tensor<?x64xbf16>
// CHECK:         %[[KF:.*]] = attn.row_factor %b, %h rows %{{.*}} : tensor<?xf32> {
// CHECK-NEXT:    ^bb0(%score: f32, %b_0: i32, %[[H:.*]]: i32, %q: i32, %kv: i32):
// CHECK:           attn.param_load @ks
// CHECK:         }
// CHECK:         %[[VF:.*]] = attn.row_factor %b, %h rows %{{.*}} : tensor<?xf32> {
// CHECK:           attn.param_load @vs : f32
// CHECK:         scf.for
// CHECK:           %[[K:.*]] = attn.load_k {{.*}} : tensor<?x64xbf16>
// CHECK:           %[[S:.*]] = attn.qk %[[Q]], %[[K]]
// CHECK-NEXT:      %[[SK:.*]] = attn.rescale %[[S]], %[[KF]]
// CHECK-NEXT:      attn.mask %[[SK]]
// CHECK:         %[[O:.*]], %{{.*}} = attn.finalize
// CHECK-NEXT:    %[[OV:.*]] = attn.rescale %[[O]], %[[VF]]
// CHECK-NEXT:    attn.store %[[OV]]

// Through the whole pipeline: the factors have the tile's rows, and the
// fold of the softmax scale into the exponent still applies (k_scale S is
// still scaled uniformly by the softmax scale).
// ALL:         attn.row_factor %{{.*}}, %{{.*}} : tensor<64xf32>
// ALL:         attn.qk {{.*}} {scale = 1.000000e+00 : f64}
// ALL:         attn.rescale %{{.*}}, %{{.*}} : tensor<64x64xf32>
// ALL:         attn.exp2_diff {{.*}} {scale = 0.1803368{{[0-9]*}} : f64}
