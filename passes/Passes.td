//===- Passes.td - attn transformation passes --------------*- tablegen -*-===//
#ifndef ATTNC_PASSES_TD
#define ATTNC_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnCascade : Pass<"attn-cascade", "::attnc::attn::KernelOp"> {
  let summary = "Make the kernel the per-launch half of cascade attention";
  let description = [{
    Cascade attention serves sequences that share a prefix (parallel
    samples, beams, a common system prompt) in two launches of one kernel,
    merged by LSE: a prefix launch in which each group of sequences is one
    batch entry holding all of the group's queries over the shared pages,
    read once for the group, and a suffix launch over each sequence's own
    keys. Both need the same two changes, which this pass makes on
    `attn.sdpa`:

      * query positions come from the launch (`q_positions`, one per query
        row) instead of bottom-right alignment: a group's queries sit at
        their own sequences' positions, past the prefix;
      * keys before `cascade_kv_start[b]` (a new i32 [batch] parameter) are
        masked: the suffix launch starts after the shared prefix, the prefix
        launch passes -1. The mask analysis skips those tiles like any
        other. An attention sink enters only where cascade_kv_start >= 0
        (the suffix launch), so the merge counts it once.

    The spec must be paged and must not read the sequence index `b` in any
    region (in the prefix launch b numbers groups, not sequences); each is
    a located error. Run before attn-online-softmax.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnOnlineSoftmax : Pass<"attn-online-softmax", "::attnc::attn::KernelOp"> {
  let summary = "Rewrite attn.sdpa into the online-softmax recurrence";
  let description = [{
    Replaces the whole-row softmax of `attn.sdpa` with an `attn.program`
    that carries the running max m, running sum l and accumulator acc
    through an `scf.for` over KV blocks (one block spanning every key until
    `attn-tile` chooses a size), so the KV dimension can be split:

      m' = max(m, rowmax(S)), P = exp2(S - m'), alpha = exp2(m - m')
      l' = alpha * l + rowsum(P),  acc' = alpha * acc + P V
      O = acc / l, LSE = ln2 * (m + log2 l)   (O = 0, LSE = -inf if l = 0)

    Scores live in the log2 domain: with no score modifier, log2(e) is folded
    into the QKᵀ scale; with one, the modifier sees the natural score and an
    `attn.scale` by log2(e) follows it.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnPackGQA : Pass<"attn-pack-gqa", "::attnc::attn::KernelOp"> {
  let summary = "Pack the query heads of a KV head into the rows of one tile";
  let description = [{
    For decode-shaped problems (a few query rows per sequence), one program
    per query head wastes most of each 16-row MMA tile and reads every K/V
    tile once per query head. This pass makes one program per KV head whose
    tile rows are (query row, query head) pairs (`gqa_pack = G` on the
    program; see attn.program): K/V are read once per KV head, and G query
    heads fill the M dimension. Runs on the untiled online form; a no-op for
    MHA (G = 1) or a program already packed.

    Every group size packs: when the G heads of a group cannot share a tile
    of `block-q` rows (block-q not a multiple of G, or no 16-row multiple of
    G within 256 rows, e.g. G = 71), the pass packs P heads, P the largest
    divisor of G that fits, and the grid runs over q_heads / P head groups
    (%h / (G / P) is the KV head). P = 1 leaves the program unpacked.
  }];
  let options = [
    Option<"heads", "heads", "int64_t", /*default=*/"0",
           "Query heads per tile (a divisor of the group size); 0: the "
           "most that fit block-q">,
    Option<"blockQ", "block-q", "int64_t", /*default=*/"0",
           "The tile rows attn-tile will use (0: its default, a multiple "
           "of the packed heads); the packed heads must divide it">,
  ];
}

def AttnTile : Pass<"attn-tile", "::attnc::attn::KernelOp"> {
  let summary = "Split queries into CTA tiles of Br rows and KV into tiles of Bc rows";
  let description = [{
    Sets the tile sizes of an online-softmax `attn.program`: each program
    instance handles Br query rows, and the KV loop steps over tiles of Bc
    rows with m, l and acc loop-carried. Tile types become static
    (Br x head_dim, Bc x head_dim, Br x Bc). Rejects an `attn.sdpa` that is
    not yet in online form. Unset sizes default to Br = 64 and Bc = 64 for
    head_dim <= 128, Bc = 32 above (64 x 64 tiles of d = 256 spill
    registers and need more than 48 KiB of shared memory). With `split-kv`
    (the program is split over its KV range next: decode), Bc defaults to
    128 for head_dim <= 128: a decode tile's few query rows leave registers
    for a wider S, and each 16-row warp's O rescale and K/V page lookup are
    paid once per 128 keys instead of 64. `warps` sets how many warps
    share the Br rows (default Br / 16, 16 rows each).
  }];
  let options = [
    Option<"blockQ", "block-q", "int64_t", /*default=*/"0",
           "Query rows per CTA (Br): a multiple of 16; 0 chooses from "
           "head_dim">,
    Option<"blockKV", "block-kv", "int64_t", /*default=*/"0",
           "KV rows per loop iteration (Bc): a multiple of 16; 0 chooses "
           "from head_dim">,
    Option<"warps", "warps", "int64_t", /*default=*/"0",
           "Warps per CTA, sharing the Br rows in slices of a multiple of "
           "16 (more rows per warp reuse each K/V fragment); 0: Br / 16">,
    Option<"splitKV", "split-kv", "bool", /*default=*/"false",
           "The program will be split over its KV range (attn-split-kv): "
           "the default Bc is 128 for head_dim <= 128">,
  ];
}

def AttnBlockTable : Pass<"attn-block-table", "::attnc::attn::KernelOp"> {
  let summary = "Make K/V addressing explicit: paged block-table lookups or dense offsets";
  let description = [{
    Gives every `attn.load_k` / `attn.load_v` an address region mapping a
    logical KV row to a physical row. Paged (page size P):
      page = block_table[b][row / P], physical row = page * P + row % P
    which holds for any P in 1..256 whether a KV tile spans many pages or a
    page spans many tiles. Dense: physical row = kv_indptr[b] + row.
  }];
}

def AttnMaskAnalysis : Pass<"attn-mask-analysis", "::attnc::attn::KernelOp"> {
  let summary = "Classify KV tiles per Q tile: skip, full (no mask code) or partial";
  let description = [{
    Evaluates the mask over a whole (Q tile x KV tile) rectangle with
    interval arithmetic: q and kv range over the tile, everything that does
    not depend on them (b, h, constants, parameters indexed by b or h) is
    exact. A tile whose mask is false everywhere is skipped: the KV loop
    bounds shrink to the first and last tile that is not. A tile whose mask
    is true everywhere, and lies inside the sequence, runs without mask
    code. An i32 parameter read at one index that ranges over the tile
    (doc[b, q]) is bounded by its smallest and largest value over that
    range, read at run time (attn.param_range); what cannot be bounded
    (a read at two ranging indices, an f32 parameter) makes every tile
    partial, and a remark says so.

    A mask that is a union (`||`, after distributing `&&`) of constraints,
    such as attention sinks plus a window, can leave its visible tiles in
    several runs: the scan then records up to `max-ranges` runs and the loop
    iterates over their union (`attn.tile_of_ranges`), so the tiles between
    two runs are skipped too. Runs beyond the last slot merge into it (their
    gaps run masked).

    A mask interval arithmetic cannot bound (a parameter read at q and kv
    over more elements than the scan reads, such as a full-resolution
    `allow[q, kv]`) gets a runtime block mask instead: the kernel gains an
    `attn.block_mask` pre-pass that evaluates the mask on every element and
    lists, per query tile, the KV tiles with a visible element and which
    of them are full; the KV loop iterates over that list
    (`attn.block_count`, `attn.block_entry`) and runs the mask on the
    partial tiles only. `block-mask=always` gives every mask this form,
    `never` none.
  }];
  let options = [
    Option<"maxRanges", "max-ranges", "int64_t", /*default=*/"4",
           "Most runs of visible KV tiles a Q tile iterates over (1: one "
           "contiguous range)">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Say, as a remark at each mask, which form its tile skipping took">,
    Option<"blockMask", "block-mask", "std::string", /*default=*/"\"auto\"",
           "When the KV loop iterates over a runtime block mask built by a "
           "pre-pass (attn.block_mask): auto (masks interval arithmetic "
           "cannot bound), always (every mask), never">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnDeriveBackward : Pass<"attn-derive-backward", "::attnc::attn::KernelOp"> {
  let summary = "Derive the backward form of attn.sdpa's score modifier";
  let description = [{
    The backward pass recomputes P from Q, K and the saved LSE and needs
    dL/ds for the raw score s = scale * q.k: dL/ds = dL/ds' * f'(s) for the
    modified score s' = f(s, b, h, q, kv). This pass differentiates the
    score region symbolically, op by op with the chain rule (forward mode:
    each float value is paired with its derivative by s, a derivative that
    is zero is never materialised), and adds the result to the kernel as
    `attn.score_grad`, next to the `attn.sdpa` it derives from. The mask
    region has no gradient. An op with no rule is an error naming it.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def AttnSplitKV : Pass<"attn-split-kv", "::attnc::attn::KernelOp"> {
  let summary = "Split each sequence's KV loop across program instances (flash-decoding)";
  let description = [{
    With few query rows (decode), one program per (query tile, head,
    sequence) leaves most of a GPU idle. This pass adds a split dimension:
    instance s of S (`attn.split_index`, `attn.num_splits`, S chosen at
    launch) runs the KV loop over its chunk of the visible tiles,
      chunk = ceil((hi - lo) / S),  [lo + s chunk, min(lo + (s + 1) chunk, hi)),
    and writes a partial O and LSE; `attn.merge_splits` then combines them
    weighted by exp(LSE_s - LSE). An empty chunk leaves l = 0: O_s = 0,
    LSE_s = -inf, weight 0. Runs after attn-mask-analysis (it splits the
    narrowed range).
  }];
}

def AttnLatentKV : Pass<"attn-latent-kv", "::attnc::attn::KernelOp"> {
  let summary = "Read a latent cache's V tile out of its K tile";
  let description = [{
    With `latent_kv` (kv_layout = latent) V is the first v_head_dim columns
    of each K row. Each attn.load_v of the rows an attn.load_k of the same
    block loads (same sequence, KV head and first row) becomes an
    attn.k_prefix of that K tile: the V tile is a view of the K tile in
    shared memory, copied once. A kernel without latent_kv is left alone.
    Runs before attn-prefetch-kv, which then double-buffers the K tile
    (the tile is read until P·V, after the next one must start loading).
  }];
}

def AttnPrefetchKV : Pass<"attn-prefetch-kv", "::attnc::attn::KernelOp"> {
  let summary = "Load the next K tile while the current one is used";
  let description = [{
    Software-pipelines the KV loop: the K tile of the first iteration is
    loaded before the loop, and each iteration, right after its QKᵀ, starts
    loading the K tile of the next one, carried to it as a loop value. The
    copy then overlaps the softmax and P·V (V's copy already overlaps QKᵀ),
    so the kernel's K and V buffers are double-buffered across the two
    halves of an iteration. The last iteration's prefetch reads rows at or
    past the loop's end; rows past kv_len are zero-filled, never addressed.
    A K tile that is also the V tile (attn.k_prefix, attn-latent-kv) is
    read until P·V: the next one's load then opens the iteration, right
    after the wait for the current one, into a second buffer
    (`double_buffer`).
  }];
}

def AttnFoldScale : Pass<"attn-fold-scale", "::attnc::attn::KernelOp"> {
  let summary = "Move the softmax scale from Q Kᵀ into the exponent";
  let description = [{
    Without a score modifier the scaled scores are only compared (row max,
    masks see positions, not scores) and exponentiated, and scale > 0 keeps
    the max where it was. So attn.qk computes raw Q Kᵀ (no multiply per
    score) and the scale moves into attn.exp2_diff, exp2(scale * s -
    scale * m) as one fused multiply-add per score, and into
    attn.finalize's LSE (m is then unscaled). A program with a score
    modifier, which needs the scaled score, keeps its scale; when the
    modifier ends in a multiply by a constant (a softcap), the attn.scale
    by log2(e) after it folds into that constant.
  }];
}

#endif // ATTNC_PASSES_TD
