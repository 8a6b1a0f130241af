// RUN: attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-block-table | FileCheck %s --check-prefix=PAGED
// RUN: sed 's/kv_cache(paged, page_size = 16)/kv_cache(paged, page_size = 1)/' %S/Inputs/causal-gqa.mlir | attnc-opt --attn-online-softmax --attn-block-table | FileCheck %s --check-prefix=PAGE1
// RUN: sed 's/kv_cache(paged, page_size = 16)/kv_cache(paged, page_size = 5)/' %S/Inputs/causal-gqa.mlir | attnc-opt --attn-online-softmax --attn-tile --attn-block-table | FileCheck %s --check-prefix=PAGE5
// RUN: sed 's/kv_cache(paged, page_size = 16)/kv_cache(dense)/' %S/Inputs/causal-gqa.mlir | attnc-opt --attn-online-softmax --attn-block-table | FileCheck %s --check-prefix=DENSE

// Paged, P = 16:  page = block_table[b][row / 16];
//                 phys = page * page_rows + row % 16
// (unsigned / and %: a logical row is never negative)
// (page_rows: a launch argument, 16 for a contiguous cache)
// PAGED:       attn.load_k %b, %[[HKV:.*]], %[[ROW0:.*]] : tensor<?x128xbf16> addr {
// PAGED-NEXT:  ^bb0(%row: i32):
// PAGED-NEXT:    %[[P:.*]] = arith.constant 16 : i32
// PAGED-NEXT:    %[[LP:.*]] = arith.divui %row, %[[P]] : i32
// PAGED-NEXT:    %[[PAGE:.*]] = attn.block_table %b, %[[LP]]
// PAGED-NEXT:    %[[SLOT:.*]] = arith.remui %row, %[[P]] : i32
// PAGED-NEXT:    %[[ROWS:.*]] = attn.page_rows
// PAGED-NEXT:    %[[BASE:.*]] = arith.muli %[[PAGE]], %[[ROWS]] overflow<nsw> : i32
// PAGED-NEXT:    %[[PHYS:.*]] = arith.addi %[[BASE]], %[[SLOT]] overflow<nsw> : i32
// PAGED-NEXT:    attn.yield_row %[[PHYS]]
// PAGED-NEXT:  }
// PAGED:       attn.load_v %b, %[[HKV]], %[[ROW0]] : tensor<?x128xbf16> addr {
// PAGED:         attn.block_table %b
// PAGED:         attn.yield_row

// P = 1: every row is its own page; the division and remainder fold away.
// PAGE1:       attn.load_k {{.*}} addr {
// PAGE1-NEXT:  ^bb0(%row: i32):
// PAGE1-NOT:     arith.divui
// PAGE1:         %[[PAGE:.*]] = attn.block_table %b, %row
// PAGE1-NOT:     arith.remui
// PAGE1:         %[[ROWS:.*]] = attn.page_rows
// PAGE1-NEXT:    %[[PHYS:.*]] = arith.muli %[[PAGE]], %[[ROWS]] overflow<nsw> : i32
// PAGE1-NEXT:    attn.yield_row %[[PHYS]]

// P = 5 with Bc = 64: a tile spans 13 pages; the lookup is per row, so it
// holds whatever the ratio.
// PAGE5:       attn.load_k {{.*}} : tensor<64x128xbf16> addr {
// PAGE5:         arith.constant 5 : i32
// PAGE5:         arith.divui %row
// PAGE5:         attn.block_table %b
// PAGE5:         arith.remui %row

// Dense: phys = kv_indptr[b] + row
// DENSE:       attn.load_k {{.*}} addr {
// DENSE-NEXT:  ^bb0(%row: i32):
// DENSE-NEXT:    %[[START:.*]] = attn.kv_start %b
// DENSE-NEXT:    %[[PHYS:.*]] = arith.addi %[[START]], %row overflow<nsw> : i32
// DENSE-NEXT:    attn.yield_row %[[PHYS]]
// DENSE-NOT:   attn.block_table
