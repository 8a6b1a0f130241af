// RUN: attnc-opt %S/Inputs/softcap.mlir --attn-derive-backward | FileCheck %s --check-prefix=SOFTCAP
// RUN: attnc-opt %S/Inputs/score-mods.mlir --attn-derive-backward | FileCheck %s
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-derive-backward | FileCheck %s --check-prefix=IDENTITY
// RUN: attnc-opt %S/Inputs/softcap.mlir --attn-derive-backward --attn-derive-backward | FileCheck %s --check-prefix=ONCE

// Softcap c tanh(s / c): c (1 - t^2) (1 / c) by the chain rule, folded.
// SOFTCAP-LABEL: attn.kernel @softcap
// SOFTCAP:         attn.sdpa
// SOFTCAP:         attn.score_grad {
// SOFTCAP-NEXT:    ^bb0(%[[S:.*]]: f32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32):
// SOFTCAP-DAG:       %[[INV:.*]] = arith.constant 0.0333333351 : f32
// SOFTCAP-DAG:       %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// SOFTCAP-DAG:       %[[C:.*]] = arith.constant 3.000000e+01 : f32
// SOFTCAP:           %[[X:.*]] = arith.divf %[[S]], %[[C]] : f32
// SOFTCAP-NEXT:      %[[T:.*]] = math.tanh %[[X]] : f32
// SOFTCAP-NEXT:      %[[T2:.*]] = arith.mulf %[[T]], %[[T]] : f32
// SOFTCAP-NEXT:      %[[SECH2:.*]] = arith.subf %[[ONE]], %[[T2]] : f32
// SOFTCAP-NEXT:      %[[DT:.*]] = arith.mulf %[[SECH2]], %[[INV]] : f32
// SOFTCAP-NEXT:      %[[DR:.*]] = arith.mulf %[[DT]], %[[C]] : f32
// SOFTCAP-NEXT:      attn.yield %[[DR]] : f32

// ALiBi's bias reads no score: the derivative is the score's, 1, and the
// bias itself folds away.
// CHECK-LABEL: attn.kernel @alibi
// CHECK:         attn.score_grad {
// CHECK-NEXT:    ^bb0(
// CHECK-NEXT:      %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:      attn.yield %[[ONE]] : f32

// |s|^1.5 + floor(exp2(s)) where s > 0, else s: the select picks between
// the branches' derivatives, 1.5 |s|^0.5 sign(s) and 1; the floor
// contributes nothing, so exp2 is gone.
// CHECK-LABEL: attn.kernel @mixed
// CHECK:         attn.score_grad {
// CHECK-NEXT:    ^bb0(%[[S:.*]]: f32,
// CHECK-DAG:       %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:       %[[MONE:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-DAG:       %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:       %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:       %[[K:.*]] = arith.constant 1.500000e+00 : f32
// CHECK:           %[[POS:.*]] = arith.cmpf ogt, %[[S]], %[[ZERO]]
// CHECK-NEXT:      %[[A:.*]] = math.absf %[[S]]
// CHECK-NEXT:      %[[NEG:.*]] = arith.cmpf olt, %[[S]], %[[ZERO]]
// CHECK-NEXT:      %[[SNEG:.*]] = arith.select %[[NEG]], %[[MONE]], %[[ZERO]]
// CHECK-NEXT:      %[[SIGN:.*]] = arith.select %[[POS]], %[[ONE]], %[[SNEG]]
// CHECK-NEXT:      %[[PW:.*]] = math.powf %[[A]], %[[HALF]]
// CHECK-NEXT:      %[[KPW:.*]] = arith.mulf %[[PW]], %[[K]]
// CHECK-NEXT:      %[[DP:.*]] = arith.mulf %[[KPW]], %[[SIGN]]
// CHECK-NEXT:      %[[D:.*]] = arith.select %[[POS]], %[[DP]], %[[ONE]] : f32
// CHECK-NEXT:      attn.yield %[[D]] : f32
// CHECK-NOT:       math.exp2

// An identity score: 1.
// IDENTITY:      attn.score_grad {
// IDENTITY-NEXT: ^bb0(
// IDENTITY-NEXT:   %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// IDENTITY-NEXT:   attn.yield %[[ONE]] : f32

// Running it twice derives once.
// ONCE-COUNT-1: attn.score_grad
