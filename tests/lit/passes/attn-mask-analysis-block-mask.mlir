// RUN: attnc-opt %S/Inputs/block-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis | FileCheck %s
// RUN: attnc-opt %S/Inputs/block-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis="block-mask=always" | FileCheck %s --check-prefix=ALWAYS
// RUN: attnc-opt %S/Inputs/block-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis="block-mask=never" | FileCheck %s --check-prefix=NEVER
// RUN: attnc-opt %S/Inputs/block-masks.mlir --attn-online-softmax --attn-pack-gqa --attn-tile --attn-mask-analysis="block-mask=always" --attn-split-kv --attn-prefetch-kv | FileCheck %s --check-prefix=PIPE
// RUN: attnc-opt %S/Inputs/block-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis="remarks=1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: not attnc-opt %S/Inputs/block-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis="block-mask=sometimes" 2>&1 | FileCheck %s --check-prefix=BADOPT

// The kernel gains the pre-pass: the mask region with the program's tiling;
// the KV loop runs t over the list's count, maps t to a tile, and runs the
// mask where the tile is partial or crosses kv_len.
// CHECK-LABEL: attn.kernel @pairwise
// CHECK:         attn.block_mask attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 1 : i64} {
// CHECK-NEXT:    ^bb0(%[[S:.*]]: f32, %[[B:.*]]: i32, %[[H:.*]]: i32, %[[Q:.*]]: i32, %[[KV:.*]]: i32):
// CHECK:           attn.param_load @allow[%[[Q]], %[[KV]]] : i32
// CHECK:           attn.yield %{{.*}} : i1
// CHECK:         attn.program
// CHECK-NOT:       attn.param_range
// CHECK:           %[[N:.*]] = attn.block_count %b, %h, %qt
// CHECK:           scf.for %[[T:.*]] = %{{.*}} to %[[N]]
// CHECK-NEXT:        %[[TILE:.*]], %[[FULL:.*]] = attn.block_entry %b, %h, %qt[%[[T]]] of %[[N]]
// CHECK:             %[[KV0:.*]] = attn.tile_start kv %[[TILE]]
// CHECK:             %[[PAST:.*]] = arith.cmpi sgt
// CHECK:             %[[PARTIAL:.*]] = arith.xori %[[FULL]], %true
// CHECK:             %[[NEEDS:.*]] = arith.ori %[[PAST]], %[[PARTIAL]]
// CHECK:             scf.if %[[NEEDS]]
// CHECK-NEXT:          attn.mask %{{.*}}, %b, %h, %{{.*}}, %[[KV0]]
// A mask interval arithmetic bounds keeps its static range.
// CHECK-LABEL: attn.kernel @head_windows
// CHECK-NOT:     attn.block_mask
// CHECK:         attn.program
// CHECK-NOT:       attn.block_count
// CHECK:           attn.param_load @win

// block-mask=always: every mask; a mask that reads h gets per-head lists.
// The classify region bounds a whole tile first with the same interval
// arithmetic as the in-kernel scan: bit 0 where an element can be visible,
// bit 1 where one can be masked; with one head per row, win[h] is exact.
// ALWAYS-LABEL: attn.kernel @head_windows
// ALWAYS:         attn.block_mask attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 1 : i64, per_head} {
// ALWAYS:           attn.param_load @win[%{{.*}}]
// ALWAYS:         } classify {
// ALWAYS-NEXT:    ^bb0(%b: i32, %head_first: i32, %head_last: i32, %q_first: i32, %q_last: i32, %kv_first: i32, %kv_last: i32):
// ALWAYS-NEXT:      %[[W:.*]] = attn.param_load @win[%head_first] : i32
// ALWAYS:           %[[CAN_TRUE:.*]] = arith.andi
// ALWAYS:           %[[BIT0:.*]] = arith.select %[[CAN_TRUE]], %c1_i32, %c0_i32 : i32
// ALWAYS:           %[[BIT1:.*]] = arith.select %{{.*}}, %c2_i32, %{{.*}} : i32
// ALWAYS:           %[[CODE:.*]] = arith.ori %[[BIT0]], %[[BIT1]] : i32
// ALWAYS-NEXT:      attn.yield %[[CODE]] : i32
// ALWAYS:         attn.block_count
// NEVER-LABEL: attn.kernel @pairwise
// NEVER-NOT:     attn.block_mask
// NEVER:         attn.param_range @allow

// Packed GQA, split-KV and the prefetch over the list: the pre-pass has the
// packed tiling; the splits divide [0, count); the first K tile is entry
// lo, the prefetch maps t + 1 through the list.
// PIPE-LABEL: attn.kernel @head_windows
// PIPE:         attn.block_mask attributes {block_kv = 64 : i64, block_q = 64 : i64, gqa_pack = 4 : i64, per_head}
// PIPE:         attn.program attributes {{{.*}}gqa_pack = 4 : i64{{.*}}kv_split
// PIPE:           %[[N:.*]] = attn.block_count %b, %h, %qt
// PIPE:           %[[LO:.*]] = arith.minsi
// PIPE:           %[[HI:.*]] = arith.minsi
// PIPE:           %[[FIRST:.*]], %{{.*}} = attn.block_entry %b, %h, %qt[%[[LO]]] of %[[N]]
// PIPE:           attn.tile_start kv %[[FIRST]]
// PIPE:           scf.for %[[T:.*]] = %[[LO]] to %[[HI]]
// PIPE:             attn.block_entry %b, %h, %qt[%[[T]]] of %[[N]]
// PIPE:             %[[NEXT:.*]] = arith.addi %[[T]], %{{.*}} overflow<nsw> : i32
// PIPE:             %[[NT:.*]], %{{.*}} = attn.block_entry %b, %h, %qt[%[[NEXT]]] of %[[N]]
// PIPE:             attn.tile_start kv %[[NT]]
// PIPE:             attn.load_k
// PIPE:         attn.merge_splits

// REMARK: block-masks.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: tile skipping: a runtime block mask (a pre-pass lists each query tile's KV tiles with a visible element, full or partial)
// REMARK: remark: tile skipping: one contiguous range of KV tiles per query tile

// BADOPT: error: 'attn.kernel' op block-mask must be auto, always or never, got 'sometimes'
