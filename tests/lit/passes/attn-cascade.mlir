// RUN: attnc-opt %S/Inputs/cascade.mlir --attn-cascade | FileCheck %s
// RUN: attnc-opt %S/Inputs/cascade.mlir --attn-cascade --attn-cascade | FileCheck %s --check-prefix=ONCE
// RUN: attnc-opt %S/Inputs/cascade.mlir --attn-cascade --attn-online-softmax | FileCheck %s --check-prefix=ONLINE
// RUN: attnc-opt %S/Inputs/cascade.mlir --attn-cascade --attn-online-softmax --attn-pack-gqa --attn-tile --attn-mask-analysis --attn-split-kv | FileCheck %s --check-prefix=TILED
// RUN: attnc-opt %S/Inputs/cascade.mlir --attn-online-softmax --attn-tile --attn-mask-analysis | FileCheck %s --check-prefix=PLAIN

// attn-cascade adds the first key of each batch entry as a parameter and
// masks the keys before it, and marks the positions as given at launch.
// CHECK-LABEL: attn.kernel @cascade
// CHECK:         attn.param @sinks : f32 [q_heads]
// CHECK-NEXT:    attn.param @cascade_kv_start : i32 [batch]
// CHECK:         } mask {
// CHECK-NEXT:    ^bb0(%score: f32, %[[B:.*]]: i32, %h: i32, %q: i32, %[[KV:.*]]: i32):
// CHECK-NEXT:      %[[CAUSAL:.*]] = arith.cmpi sle, %[[KV]], %q : i32
// CHECK-NEXT:      %[[START:.*]] = attn.param_load @cascade_kv_start[%[[B]]] : i32
// CHECK-NEXT:      %[[AFTER:.*]] = arith.cmpi sge, %[[KV]], %[[START]] : i32
// CHECK-NEXT:      %[[KEEP:.*]] = arith.andi %[[CAUSAL]], %[[AFTER]] : i1
// CHECK-NEXT:      attn.yield %[[KEEP]] : i1
// CHECK-NEXT:    } sink {
// CHECK:         } {q_positions}

// ONCE-COUNT-1: attn.param @cascade_kv_start
// ONCE-COUNT-1: attn.param_load @cascade_kv_start

// Online: row positions come from q_positions (attn.q_position), and the
// sink enters only where the first key is not negative (the suffix
// launch; the prefix launch passes -1).
// ONLINE:        attn.program attributes {q_positions} {
// ONLINE:          %[[QLEN:.*]] = attn.q_len %b
// ONLINE:          %[[ROW0:.*]] = attn.tile_start q %qt
// ONLINE-NEXT:     %[[POS:.*]] = attn.q_position %b, %[[ROW0]], %[[QLEN]]
// ONLINE:          %[[FIRST:.*]] = attn.param_load @cascade_kv_start[%b] : i32
// ONLINE-NEXT:     %[[SUFFIX:.*]] = arith.cmpi sge, %[[FIRST]], %{{.*}} : i32
// ONLINE-NEXT:     attn.sink %{{.*}}, %{{.*}}, %b, %h, %[[POS]] if %[[SUFFIX]]
// ONLINE:          attn.mask %{{.*}}, %b, %h, %[[POS]], %{{.*}}, %{{.*}}

// Tiled: the mask analysis bounds the tile by the smallest and largest
// given position (attn.q_span), skips the tiles before the first key, and
// split-KV keeps the sink to split 0 of the suffix launch.
// TILED:         attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 4 : i64, kv_split, q_positions} {
// TILED:           %[[FIRST:.*]] = attn.param_load @cascade_kv_start[%b] : i32
// TILED-NEXT:      %[[SUFFIX:.*]] = arith.cmpi sge, %[[FIRST]], %{{.*}} : i32
// TILED-NEXT:      %[[SPLIT:.*]] = attn.split_index
// TILED-NEXT:      %{{.*}} = arith.constant 0 : i32
// TILED-NEXT:      %[[SPLIT0:.*]] = arith.cmpi eq, %[[SPLIT]], %{{.*}} : i32
// TILED-NEXT:      %[[ON:.*]] = arith.andi %[[SUFFIX]], %[[SPLIT0]] : i1
// TILED-NEXT:      attn.sink {{.*}} if %[[ON]]
// TILED:           %[[ROWS:.*]] = arith.minsi
// TILED-NEXT:      %{{.*}} = arith.constant 1 : i32
// TILED-NEXT:      %[[MIN:.*]], %[[MAX:.*]] = attn.q_span %b, %{{.*}}, %[[ROWS]]
// TILED:           scf.for
// TILED:             %[[LAST:.*]] = arith.subi
// TILED-NEXT:        arith.cmpi sgt, %[[LAST]], %[[MIN]] : i32
// TILED-NEXT:        %[[SEES:.*]] = arith.cmpi sle, %{{.*}}, %[[MAX]] : i32
// TILED-NEXT:        %[[START:.*]] = attn.param_load @cascade_kv_start[%b] : i32
// TILED-NEXT:        arith.cmpi slt
// TILED-NEXT:        %[[AFTER:.*]] = arith.cmpi sge, %[[LAST]], %[[START]] : i32
// TILED-NEXT:        arith.ori
// TILED-NEXT:        arith.andi %[[SEES]], %[[AFTER]] : i1

// Without attn-cascade nothing of this appears.
// PLAIN-NOT:     q_positions
// PLAIN-NOT:     attn.q_position
// PLAIN-NOT:     attn.q_span
// PLAIN-NOT:     cascade_kv_start
