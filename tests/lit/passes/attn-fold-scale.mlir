// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-fold-scale | FileCheck %s
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-fold-scale --attn-fold-scale | FileCheck %s
// RUN: attnc-opt %S/Inputs/softcap.mlir --attn-online-softmax --attn-fold-scale | FileCheck %s --check-prefix=MOD

// The scale (0.0883883 log2 e = 0.127517...) leaves Q K^T for the two
// exponents and the LSE; the row max is taken over unscaled scores. Running
// the pass twice changes nothing more.
// CHECK-LABEL: attn.kernel @causal
// CHECK:         scf.for
// CHECK:           %[[S:.*]] = attn.qk %{{.*}}, %{{.*}} {scale = 1.000000e+00 : f64}
// CHECK:           %[[SM:.*]] = attn.mask %[[S]]
// CHECK:           %[[M:.*]] = attn.row_max %[[SM]], %[[MOLD:[^ ]*]]
// CHECK:           attn.exp2_diff %[[SM]], %[[M]] {scale = 0.1275174{{[0-9]*}} : f64}
// CHECK:           attn.exp2_diff %[[MOLD]], %[[M]] {scale = 0.1275174{{[0-9]*}} : f64}
// CHECK:         attn.finalize {{.*}} {scale = 0.1275174{{[0-9]*}} : f64}

// With a score modifier the scores must be scaled first: the softmax scale
// stays in attn.qk; the modifier's final multiply by 30 takes attn.scale's
// log2(e) instead (30 log2 e = 43.28...), and its `/ 30` keeps its 30.
// MOD-LABEL: attn.kernel @softcap
// MOD:         attn.qk %{{.*}}, %{{.*}} {scale = 1.250000e-01 : f64}
// MOD:         attn.score_mod
// MOD:           %[[C30:.*]] = arith.constant 3.000000e+01 : f32
// MOD-NEXT:      arith.divf %score, %[[C30]] : f32
// MOD:           %[[C:.*]] = arith.constant 43.28084{{[0-9]*}} : f32
// MOD-NEXT:      arith.mulf %[[C]], %{{.*}} : f32
// MOD-NOT:     attn.scale
// MOD-NOT:     scale = 1.250000e-01
// MOD:         attn.exp2_diff
// MOD-NOT:     {scale
// MOD:         attn.finalize
// MOD-NOT:     {scale
