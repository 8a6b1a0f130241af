// RUN: attnc-opt %S/Inputs/union-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis | FileCheck %s
// RUN: attnc-opt %S/Inputs/union-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis="max-ranges=2" | FileCheck %s --check-prefix=CAP2
// RUN: attnc-opt %S/Inputs/union-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis="max-ranges=1" | FileCheck %s --check-prefix=ONE
// RUN: attnc-opt %S/Inputs/union-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis="remarks=1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: attnc-opt %S/Inputs/union-masks.mlir --attn-online-softmax --attn-tile --attn-mask-analysis --attn-prefetch-kv | FileCheck %s --check-prefix=PREFETCH

// The scan records up to two runs (lo0, hi0, lo1, hi1) and the slot being
// filled; every slot starts empty as [num_tiles, 0).
// CHECK-LABEL: attn.kernel @sinks_window
// CHECK:         %[[NKV:.*]] = attn.num_tiles kv
// CHECK:         %[[RUNS:.*]]:5 = scf.for %[[J:.*]] = %{{.*}} to %[[NKV]] {{.*}} iter_args(%[[LO0:.*]] = %[[NKV]], %[[HI0:.*]] = %[[Z:[^,]*]], %[[LO1:.*]] = %[[NKV]], %[[HI1:.*]] = %[[Z]], %[[SLOT:.*]] = %[[Z]]) -> (i32, i32, i32, i32, i32)
// CHECK:           attn.tile_start kv %[[J]]
// A visible tile after a gap in a non-empty run opens the next slot.
// CHECK:           %[[CUR:.*]] = arith.cmpi eq, %[[SLOT]], %{{.*}} : i32
// CHECK:           %[[CURHI:.*]] = arith.select %[[CUR]], %[[HI1]], %[[HI0]] : i32
// CHECK:           arith.cmpi ne, %[[CURHI]], %[[J]] : i32
// CHECK:           scf.yield
// The loop runs t over the total length of the runs.
// CHECK:         %[[L0:.*]] = arith.subi %[[RUNS]]#1, %[[RUNS]]#0
// CHECK:         arith.maxsi %[[L0]]
// CHECK:         %[[L1:.*]] = arith.subi %[[RUNS]]#3, %[[RUNS]]#2
// CHECK:         arith.maxsi %[[L1]]
// CHECK:         %[[TOTAL:.*]] = arith.addi
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %[[TOTAL]]
// CHECK-NEXT:      %[[TILE:.*]] = attn.tile_of_ranges %[[T]] in(%[[RUNS]]#0, %[[RUNS]]#1, %[[RUNS]]#2, %[[RUNS]]#3)
// CHECK:           attn.tile_start kv %[[TILE]]
// CHECK:           scf.if
// CHECK:             attn.mask

// Three runs; max-ranges=2 caps the slots, max-ranges=1 is one range.
// CHECK-LABEL: attn.kernel @negated
// CHECK:         scf.for {{.*}} -> (i32, i32, i32, i32, i32, i32, i32)
// CHECK:         attn.tile_of_ranges %{{.*}} in(%{{.*}}#0, %{{.*}}#1, %{{.*}}#2, %{{.*}}#3, %{{.*}}#4, %{{.*}}#5)
// CAP2-LABEL: attn.kernel @negated
// CAP2:         scf.for {{.*}} -> (i32, i32, i32, i32, i32)
// CAP2:         attn.tile_of_ranges %{{.*}} in(%{{.*}}#0, %{{.*}}#1, %{{.*}}#2, %{{.*}}#3)
// ONE-LABEL: attn.kernel @sinks_window
// ONE-NOT:     attn.tile_of_ranges
// ONE:         %[[R:.*]]:2 = scf.for {{.*}} -> (i32, i32)
// ONE:         scf.for %{{.*}} = %[[R]]#0 to %[[R]]#1

// REMARK: remark: tile skipping: a union of up to 2 ranges of KV tiles per query tile
// REMARK: remark: tile skipping: a union of up to 3 ranges of KV tiles per query tile

// The prefetch of the next K tile maps t + 1 through the same ranges; the
// first K tile is t = 0's.
// PREFETCH-LABEL: attn.kernel @sinks_window
// PREFETCH:         %[[RUNS:.*]]:5 = scf.for
// PREFETCH:         %[[FIRST:.*]] = attn.tile_of_ranges %{{.*}} in(%[[RUNS]]#0, %[[RUNS]]#1, %[[RUNS]]#2, %[[RUNS]]#3)
// PREFETCH:         %[[ROW:.*]] = attn.tile_start kv %[[FIRST]]
// PREFETCH:         %[[K0:.*]] = attn.load_k %{{.*}}, %{{.*}}, %[[ROW]]
// PREFETCH:         scf.for %[[T:.*]] = {{.*}} iter_args({{.*}}%{{.*}} = %[[K0]])
// PREFETCH:           %[[NEXT:.*]] = arith.addi %[[T]], %{{.*}} overflow<nsw> : i32
// PREFETCH:           %[[NT:.*]] = attn.tile_of_ranges %[[NEXT]] in(%[[RUNS]]#0, %[[RUNS]]#1, %[[RUNS]]#2, %[[RUNS]]#3)
// PREFETCH:           attn.tile_start kv %[[NT]]
// PREFETCH:           attn.load_k
