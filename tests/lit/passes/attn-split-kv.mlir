// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile --attn-mask-analysis --attn-split-kv | FileCheck %s
// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile --attn-mask-analysis --attn-split-kv --attn-split-kv | FileCheck %s --check-prefix=ONCE

// Flash-decoding: instance s of S covers a chunk of the visible KV tiles
// [lo, hi) found by the mask analysis:
//   chunk = ceil(max(hi - lo, 0) / S),  [min(lo + s chunk, hi), min(lo + s chunk + chunk, hi))
// and the kernel merges the splits' partial O and LSE.

// CHECK-LABEL: attn.kernel @causal
// CHECK:         attn.program attributes {block_kv = 64 : i64, block_q = 64 : i64, kv_split} {
// CHECK:           %[[RANGE:.*]]:2 = scf.for
// CHECK:           %[[S:.*]] = attn.split_index
// CHECK-NEXT:      %[[N:.*]] = attn.num_splits
// CHECK-NEXT:      %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-NEXT:      %[[DIFF:.*]] = arith.subi %[[RANGE]]#1, %[[RANGE]]#0 overflow<nsw> : i32
// CHECK-NEXT:      %[[COUNT:.*]] = arith.maxsi %[[DIFF]], %[[ZERO]] : i32
// CHECK-NEXT:      %[[CHUNK:.*]] = arith.ceildivsi %[[COUNT]], %[[N]] : i32
// CHECK-NEXT:      %[[OFF:.*]] = arith.muli %[[S]], %[[CHUNK]] overflow<nsw> : i32
// CHECK-NEXT:      %[[START:.*]] = arith.addi %[[RANGE]]#0, %[[OFF]] overflow<nsw> : i32
// CHECK-NEXT:      %[[LO:.*]] = arith.minsi %[[START]], %[[RANGE]]#1 : i32
// CHECK-NEXT:      %[[END:.*]] = arith.addi %[[LO]], %[[CHUNK]] overflow<nsw> : i32
// CHECK-NEXT:      %[[HI:.*]] = arith.minsi %[[END]], %[[RANGE]]#1 : i32
// CHECK-NEXT:      scf.for %{{.*}} = %[[LO]] to %[[HI]]
// CHECK:           attn.finalize
// CHECK:         }
// CHECK-NEXT:    attn.merge_splits
// CHECK-NEXT:  }

// ONCE-COUNT-1: attn.merge_splits
