// RUN: attnc-opt %s -split-input-file -verify-diagnostics --attn-tile
// RUN: not attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile="block-q=40" 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile="block-kv=272" 2>&1 | FileCheck %s --check-prefix=SIZE-KV
// RUN: not attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile --attn-tile 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile="block-q=64 warps=3" 2>&1 | FileCheck %s --check-prefix=WARPS
// RUN: not attnc-opt %S/Inputs/causal-gqa.mlir --attn-online-softmax --attn-tile="block-q=64 warps=8" 2>&1 | FileCheck %s --check-prefix=WARPS8

// SIZE: error: 'attn.program' op tile size block-q = 40 must be a multiple of 16 in 16..256
// SIZE-KV: error: 'attn.program' op tile size block-kv = 272 must be a multiple of 16 in 16..256
// TWICE: error: 'attn.program' op is already tiled (block_q = 64, block_kv = 64)
// WARPS: error: 'attn.program' op warps = 3 must divide block-q = 64 into row slices of a multiple of 16 (the mma's M)
// WARPS8: error: 'attn.program' op warps = 8 must divide block-q = 64 into row slices of a multiple of 16 (the mma's M)
attn.kernel @k dtype(f16) head_dim(64) heads(8, 8) kv_cache(dense) scale(0.125) {
  // expected-error @below {{cannot be tiled before it is in online-softmax form; run --attn-online-softmax first}}
  attn.sdpa score {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    attn.yield %score : f32
  } mask {
  ^bb0(%score: f32, %b: i32, %h: i32, %q: i32, %kv: i32):
    %t = arith.constant true
    attn.yield %t : i1
  }
}
