// RUN: attnc-opt %s --attn-derive-backward | FileCheck %s

// A learnable ALiBi slope and a learnable bias read twice, under a softcap:
//   f = 30 tanh((s - slope[h] (q - kv) + bias[h, kv] - bias[h, q]) / 30)
// One attn.param_grad per read, in the order the score reads them, each the
// chain rule with that read as the variable; the yield names the read, so
// its indices say which element the partial belongs to.
//   df/dslope[h]    = (1 - t^2) (-(q - kv) / 30) 30
//   df/dbias[h, kv] = (1 - t^2) (1 / 30) 30
//   df/dbias[h, q]  = (1 - t^2) (-1 / 30) 30
// A param without requires_grad gets no gradient op.

// CHECK-LABEL: attn.kernel @learnable
// CHECK:         attn.score_grad {
// CHECK:         attn.param_grad @slope {
// CHECK-NEXT:    ^bb0(%{{.*}}: f32, %{{.*}}: i32, %[[H:.*]]: i32, %[[Q:.*]]: i32, %[[KV:.*]]: i32):
// CHECK-DAG:       %[[C30:.*]] = arith.constant 3.000000e+01 : f32
// CHECK-DAG:       %[[SLOPE:.*]] = attn.param_load @slope[%[[H]]] : f32
// CHECK:           %[[D:.*]] = arith.subi %[[Q]], %[[KV]] : i32
// CHECK-NEXT:      %[[DF:.*]] = arith.sitofp %[[D]] : i32 to f32
// CHECK:           %[[NEG:.*]] = arith.negf %[[DF]] : f32
// CHECK:           %[[INNER:.*]] = arith.divf %[[NEG]], %[[C30]] : f32
// CHECK:           %[[T:.*]] = math.tanh
// CHECK-NEXT:      %[[T2:.*]] = arith.mulf %[[T]], %[[T]] : f32
// CHECK-NEXT:      %[[SECH2:.*]] = arith.subf %{{.*}}, %[[T2]] : f32
// CHECK-NEXT:      %[[P:.*]] = arith.mulf %[[SECH2]], %[[INNER]] : f32
// CHECK-NEXT:      %[[R:.*]] = arith.mulf %[[P]], %[[C30]] : f32
// CHECK-NEXT:      attn.yield_param_grad %[[R]] for %[[SLOPE]]
// CHECK:         attn.param_grad @bias {
// CHECK-DAG:       %[[PLUS:.*]] = arith.constant 0.0333333351 : f32
// CHECK-DAG:       %[[BKV:.*]] = attn.param_load @bias[%h, %kv] : f32
// CHECK:           arith.mulf %{{.*}}, %[[PLUS]] : f32
// CHECK:           attn.yield_param_grad %{{.*}} for %[[BKV]]
// CHECK:         attn.param_grad @bias {
// CHECK-DAG:       %[[MINUS:.*]] = arith.constant -0.0333333351 : f32
// CHECK-DAG:       %[[BQ:.*]] = attn.param_load @bias[%h, %q] : f32
// CHECK:           arith.mulf %{{.*}}, %[[MINUS]] : f32
// CHECK:           attn.yield_param_grad %{{.*}} for %[[BQ]]
// CHECK-NOT:     attn.param_grad @fixed
attn.kernel @learnable dtype(f16) head_dim(64) heads(4, 2) kv_cache(dense) scale(0.125) {
  attn.param @slope : f32 [q_heads] {requires_grad}
  attn.param @bias : f32 [q_heads, ?] {requires_grad}
  attn.param @fixed : f32 [q_heads]
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %c30 = arith.constant 3.000000e+01 : f32
    %0 = attn.param_load @slope[%h] : f32
    %1 = arith.subi %q, %kv : i32
    %2 = arith.sitofp %1 : i32 to f32
    %3 = arith.mulf %0, %2 : f32
    %4 = arith.subf %score, %3 : f32
    %5 = attn.param_load @bias[%h, %kv] : f32
    %6 = arith.addf %4, %5 : f32
    %7 = attn.param_load @bias[%h, %q] : f32
    %8 = arith.subf %6, %7 : f32
    %f = attn.param_load @fixed[%h] : f32
    %9 = arith.addf %8, %f : f32
    %10 = arith.divf %9, %c30 : f32
    %11 = math.tanh %10 : f32
    %12 = arith.mulf %c30, %11 : f32
    attn.yield %12 : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %0 = arith.cmpi sle, %kv, %q : i32
    attn.yield %0 : i1
  }
}
