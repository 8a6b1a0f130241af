//===- AttnLoweredOps.td - Online-softmax and tile-level attn ops -*- tablegen -*-===//
//
// The form `attn.sdpa` is lowered to. An `attn.program` is the work of one
// CTA: one query tile of one query head of one sequence. Inside it, values
// are tiles (builtin ranked tensors): Q as [rows x head_dim], S and P as
// [rows x cols], the online-softmax state as m [rows] (running max, log2
// domain), l [rows] (running sum) and acc [rows x head_dim]. Before
// `attn-tile`, row and column extents are dynamic (`?`): one tile spans the
// whole sequence; after it they are the tile sizes Br and Bc.
//
// Positions: query row i of a sequence with q_len queries and kv_len keys
// sits at absolute position kv_len - q_len + i (bottom-right aligned); KV
// row j sits at position j.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LOWERED_OPS_TD
#define ATTN_LOWERED_OPS_TD

include "dialect/AttnDialect.td"
include "mlir/IR/BuiltinTypes.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def Attn_F32Rows : RankedTensorOf<[F32], [HasAnyRankOfPred<[1]>]>;
def Attn_F32Tile : RankedTensorOf<[F32], [HasAnyRankOfPred<[2]>]>;
def Attn_InTile : RankedTensorOf<[F16, BF16], [HasAnyRankOfPred<[2]>]>;

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Attn_ProgramOp : Attn_Op<"program", [
    HasParent<"KernelOp">, IsolatedFromAbove, SingleBlock, NoTerminator,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "The work of one CTA: one query tile of one head of one sequence";
  let description = [{
    The grid runs the body once per (query tile %qt, query head %h,
    sequence %b). `block_q` and `block_kv` are the tile sizes chosen by
    `attn-tile` (absent before it: then one tile covers every row).
    `warps` is how many warps share the block_q rows (block_q / warps rows
    each, a multiple of 16: the mma's M); absent, one warp per 16 rows.
    With `column_warps` (head dims past 256), every warp holds all block_q
    rows and the warps split the columns instead: warp w owns keys
    [w block_kv / warps, (w + 1) block_kv / warps) of each score tile and
    the matching share of the O columns.
    The kernel's score and mask live on in the tile ops that apply them.

    With `gqa_pack = P` (`attn-pack-gqa`), %h is a group of P query heads
    sharing one KV head (P divides the group size G; P = G: %h is the KV
    head), packed into the rows of every tile: row r stands for query row
    r / P of the tile and query head %h * P + r % P. Q loads, stores, and
    the positions and heads the score and mask regions see follow that
    mapping; `attn.tile_start q` then counts query rows (block_q / P per
    tile). Each K/V tile is read once for all P heads.

    With `kv_split` (`attn-split-kv`), the grid also runs over splits
    (`attn.split_index` of `attn.num_splits`, a launch argument): each
    instance covers a chunk of the KV loop, and its `attn.store`s write that
    split's partial O (f32) and LSE; the kernel's `attn.merge_splits`
    combines them.

    With `q_positions` (a cascade-attention kernel, see attn-cascade), the
    query positions the score and mask regions see are read from the
    `q_positions` launch argument (`attn.q_position`), one per query row,
    instead of following bottom-right alignment; the mask analysis bounds a
    query tile by their minimum and maximum (`attn.q_span`).
  }];
  let arguments = (ins OptionalAttr<I64Attr>:$block_q,
                       OptionalAttr<I64Attr>:$block_kv,
                       OptionalAttr<I64Attr>:$warps,
                       OptionalAttr<I64Attr>:$gqa_pack,
                       UnitAttr:$kv_split,
                       UnitAttr:$q_positions,
                       UnitAttr:$column_warps);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    enum RegionArg : unsigned { kBatch = 0, kHead, kQTile };
    ::mlir::Value getBatch() { return getBody().getArgument(kBatch); }
    ::mlir::Value getHead() { return getBody().getArgument(kHead); }
    ::mlir::Value getQTile() { return getBody().getArgument(kQTile); }
    /// Query heads packed into the rows of each tile (1: none).
    int64_t getPackFactor() { return getGqaPack().value_or(1); }
    /// Warps sharing the query rows of a tile (default: one per 16 rows).
    int64_t getWarpCount() {
      return getWarps().value_or(getBlockQ().value_or(16) / 16);
    }
  }];
}

def Attn_NumTilesOp : Attn_Op<"num_tiles", [Pure]> {
  let summary = "How many tiles cover %len rows of dimension q or kv";
  let description = [{
    ceildiv(len, tile) with the tile size that `attn-tile` chose for the
    dimension; before tiling (no `tile`), one tile spans every row: 1, or 0
    when len is 0.
  }];
  let arguments = (ins Attn_TileDimAttr:$dim, I32:$len, OptionalAttr<I64Attr>:$tile);
  let results = (outs I32:$count);
  let assemblyFormat = "$dim $len attr-dict";
}

def Attn_TileStartOp : Attn_Op<"tile_start", [Pure]> {
  let summary = "First row of tile %index of dimension q or kv";
  let description = [{
    index * tile; before tiling (no `tile`) only tile 0 exists and starts at 0.
  }];
  let arguments = (ins Attn_TileDimAttr:$dim, I32:$index, OptionalAttr<I64Attr>:$tile);
  let results = (outs I32:$row);
  let assemblyFormat = "$dim $index attr-dict";
}

def Attn_TileOfRangesOp : Attn_Op<"tile_of_ranges", [Pure]> {
  let summary = "The %t-th tile of a union of tile ranges";
  let description = [{
    The KV loop of a mask whose visible tiles form several runs (sinks plus
    a window, prefix-LM plus a window) iterates over t in [0, total) and
    maps t to a tile index here. `bounds` holds pairs lo0, hi0, lo1, hi1,
    ...: the half-open ranges [lo_r, hi_r) in increasing order, a range with
    hi_r <= lo_r being empty; total is the sum of their lengths. With
    p_r the length of the ranges before r, the result is lo_r + (t - p_r)
    for the last non-empty range r with p_r <= t (range 0 when none is
    non-empty), so a t at or past the total continues the last range, as
    the prefetch of the tile after the last one expects.
  }];
  let arguments = (ins I32:$t, Variadic<I32>:$bounds);
  let results = (outs I32:$tile);
  let assemblyFormat = "$t `in` `(` $bounds `)` attr-dict";
  let hasVerifier = 1;
}

def Attn_ParamRangeOp : Attn_Op<"param_range", [Pure]> {
  let summary = "Smallest and largest value of an i32 parameter over a range of one index";
  let description = [{
    ```mlir
    %min, %max = attn.param_range @doc[%b, %first] to %last along 1 : i32
    ```
    The minimum and maximum of `@doc[..., i, ...]` for index `dim` running
    over [first, last] (inclusive) and the other indices as given. An
    element whose indices fall outside the parameter's extent reads 0, as
    a `param_load` of it would; an empty range (first > last) gives 0, 0.
    The mask analysis bounds a data-dependent mask with it: `doc[b, q]` over
    a query tile lies in [min, max] of the tile's positions, so tiles whose
    document ranges do not meet are skipped at run time.
  }];
  let arguments = (ins FlatSymbolRefAttr:$param, Variadic<I32>:$indices,
                       I32:$last, I64Attr:$dim);
  let results = (outs I32:$min, I32:$max);
  let assemblyFormat = [{
    $param `[` $indices `]` `to` $last `along` $dim attr-dict `:` type($min)
  }];
  let hasVerifier = 1;
}

def Attn_QPositionOp : Attn_Op<"q_position", [Pure]> {
  let summary = "Position of query row %row of sequence %b, read from q_positions";
  let description = [{
    ```mlir
    %pos = attn.q_position %b, %row, %q_len
    ```
    q_positions[qo_indptr[b] + min(row, q_len - 1)]: the position a
    cascade kernel's caller gave the row. A row at or past q_len (the
    padding of a last query tile) reads the last row's position, so the
    score and mask regions only ever see positions of real rows. Used as
    the `q_pos0` of the elementwise tile ops of a `q_positions` program,
    it makes row i's position that of row %row + i (through the same
    clamp) rather than %pos + i.
  }];
  let arguments = (ins I32:$batch, I32:$row, I32:$q_len);
  let results = (outs I32:$position);
  let assemblyFormat = "$batch `,` $row `,` $q_len attr-dict";
}

def Attn_QSpanOp : Attn_Op<"q_span", [Pure]> {
  let summary = "Smallest and largest q_positions entry of a query tile's rows";
  let description = [{
    ```mlir
    %first, %last = attn.q_span %b, %row0, %rows
    ```
    The minimum and maximum of q_positions[qo_indptr[b] + i] over i in
    [row0, row0 + rows); rows >= 1. The mask analysis of a `q_positions`
    program bounds its query tile with them, as it bounds an ordinary one
    with its first and last row's positions.
  }];
  let arguments = (ins I32:$batch, I32:$row0, I32:$rows);
  let results = (outs I32:$min, I32:$max);
  let assemblyFormat = "$batch `,` $row0 `,` $rows attr-dict";
}

def Attn_SplitIndexOp : Attn_Op<"split_index", [Pure]> {
  let summary = "Which KV split this program instance computes";
  let results = (outs I32:$index);
  let assemblyFormat = "attr-dict";
}

def Attn_NumSplitsOp : Attn_Op<"num_splits", [Pure]> {
  let summary = "How many splits the KV range is cut into (set at launch)";
  let results = (outs I32:$count);
  let assemblyFormat = "attr-dict";
}

def Attn_MergeSplitsOp : Attn_Op<"merge_splits", [HasParent<"KernelOp">]> {
  let summary = "Combine the splits' partial O and LSE into O and LSE";
  let description = [{
    For every query row and head, over the splits s with partial (O_s,
    LSE_s) written by the kernel's split program:
      LSE = m + log sum_s exp(LSE_s - m),  m = max_s LSE_s
      O   = sum_s exp(LSE_s - LSE) O_s
    A row no split saw gets O = 0 and LSE = -inf (all LSE_s are -inf).
  }];
  let assemblyFormat = "attr-dict";
}

def Attn_BlockMaskOp : Attn_Op<"block_mask", [HasParent<"KernelOp">,
    IsolatedFromAbove, SingleBlock,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "The kernel's runtime block mask: visible KV tiles per query tile";
  let description = [{
    A pre-pass, run before the kernel's program, evaluates the mask region
    (the program's `attn.mask` body: score, b, h, q, kv -> i1; the score is
    never read) on every element of every (query tile, KV tile) pair of
    every sequence, with the program's tiling: `block_q` tile rows of which
    `gqa_pack` share a query row, `block_kv` keys per tile. Positions are
    the program's (query row i at kv_len - q_len + i); rows past q_len and
    keys past kv_len are not evaluated. It writes, per (sequence, head
    group when `per_head`, else one, query tile), the list of KV tiles with
    at least one visible element, in increasing order, each marked full
    when no element of it is masked. The list depends on the mask, the
    sequence lengths and the parameters only, so one build serves every
    layer that shares them; the program reads it with `attn.block_count`
    and `attn.block_entry`.

    The optional `classify` region bounds the mask over a whole tile first
    (the mask analysis' interval arithmetic): it takes (b, head_first,
    head_last, q_first, q_last, kv_first, kv_last), inclusive i32 bounds,
    and yields an i32 with bit 0 set where some element can be visible and
    bit 1 where some can be masked. A tile with bit 0 clear is skipped and
    one with bit 1 clear listed as full, neither evaluated element by
    element; the result is the same, only cheaper.
  }];
  let arguments = (ins I64Attr:$block_q, I64Attr:$block_kv, I64Attr:$gqa_pack,
                       UnitAttr:$per_head);
  let regions = (region SizedRegion<1>:$body, AnyRegion:$classify);
  let assemblyFormat = "attr-dict-with-keyword $body (`classify` $classify^)?";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    static constexpr unsigned kNumClassifyArgs = 7;
  }];
}

def Attn_BlockCountOp : Attn_Op<"block_count", [Pure]> {
  let summary = "How many KV tiles the block mask lists for this program";
  let description = [{
    The length of the list the kernel's `attn.block_mask` wrote for
    sequence %b, head group %h (ignored when the mask does not depend on
    the head) and query tile %qt.
  }];
  let arguments = (ins I32:$batch, I32:$head, I32:$q_tile);
  let results = (outs I32:$count);
  let assemblyFormat = "$batch `,` $head `,` $q_tile attr-dict";
  let hasVerifier = 1;
}

def Attn_BlockEntryOp : Attn_Op<"block_entry", [Pure]> {
  let summary = "The %t-th KV tile the block mask lists, and whether it is full";
  let description = [{
    Entry %t of the list of %count tiles `attn.block_count` gave: a KV
    tile index and whether every element of it (inside the sequence) is
    visible. A %t at or past %count gives a tile past every sequence (its
    rows are all at or past kv_len, so a load of it reads nothing) and
    full = false: the prefetch of the tile after the last one.
  }];
  let arguments = (ins I32:$batch, I32:$head, I32:$q_tile, I32:$t,
                       I32:$count);
  let results = (outs I32:$tile, I1:$full);
  let assemblyFormat = [{
    $batch `,` $head `,` $q_tile `[` $t `]` `of` $count attr-dict
  }];
  let hasVerifier = 1;
}

class Attn_SeqLenOp<string mnemonic, string what> : Attn_Op<mnemonic, [Pure]> {
  let summary = "Number of " # what # " rows of sequence %b";
  let arguments = (ins I32:$batch);
  let results = (outs I32:$len);
  let assemblyFormat = "$batch attr-dict";
}
def Attn_QLenOp : Attn_SeqLenOp<"q_len", "query">;
def Attn_KVLenOp : Attn_SeqLenOp<"kv_len", "key/value">;

def Attn_YieldRowOp : Attn_Op<"yield_row", [Pure, Terminator, ReturnLike,
    ParentOneOf<["LoadKOp", "LoadVOp"]>]> {
  let summary = "Yields the physical row index from an address region";
  let arguments = (ins I32:$row);
  let assemblyFormat = "$row attr-dict";
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

def Attn_LoadQOp : Attn_Op<"load_q", [Pure]> {
  let summary = "Q rows [row0, row0 + rows) of sequence %b, head %h";
  let description = [{
    Rows at or past the sequence's q_len read as zero. The result's row
    extent is the tile size (dynamic before tiling: then it is q_len).

    `shared` places the tile in shared memory, each warp's rows written and
    read by that warp alone, and `attn.qk` reads its A fragments from there
    at every KV tile, where without it they stay in registers for the whole
    loop. It is a placement, set by attn-tile where a warp owns 32 or more
    rows: their Q fragments in registers would leave the O and S
    accumulators too few (ptxas spills at d = 128).
  }];
  let arguments = (ins I32:$batch, I32:$head, I32:$row0, UnitAttr:$shared);
  let results = (outs Attn_InTile:$tile);
  let assemblyFormat = "$batch `,` $head `,` $row0 attr-dict `:` type($tile)";
}

class Attn_LoadKVOp<string mnemonic, string which>
    : Attn_Op<mnemonic, [Pure, SingleBlock,
        DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = which # " rows [row0, row0 + rows) of sequence %b, KV head %hkv";
  let description = [{
    Logical KV row r (0 <= r < kv_len) of the sequence is read from the
    physical row the `addr` region yields for it: an index into the
    [rows, kv_heads, head_dim] view of the dense `k`/`v` tensors, or of the
    paged caches, where page p starts at row p * `attn.page_rows`.
    An empty region means logical addressing, which `attn-block-table`
    replaces. Rows at or past kv_len read as zero.

    The copy overwrites a shared-memory buffer other warps may still be
    reading; the generated code puts a barrier before it, unless
    `buffer_free` says the schedule already did (an `attn.wait` after every
    read of that buffer, on every path to the load).

    `double_buffer` (attn-prefetch-kv, a loop whose K tile is also its V
    tile): the loop carries the tile this load fills, and the load writes
    the other of two K buffers than the tile it replaces, which the loop
    body still reads.
  }];
  let arguments = (ins I32:$batch, I32:$kv_head, I32:$row0,
                       UnitAttr:$buffer_free, UnitAttr:$double_buffer);
  let results = (outs Attn_InTile:$tile);
  let regions = (region AnyRegion:$addr);
  let assemblyFormat = [{
    $batch `,` $kv_head `,` $row0 attr-dict `:` type($tile) (`addr` $addr^)?
  }];
  let hasRegionVerifier = 1;
}
def Attn_LoadKOp : Attn_LoadKVOp<"load_k", "K">;
def Attn_LoadVOp : Attn_LoadKVOp<"load_v", "V">;

def Attn_KPrefixOp : Attn_Op<"k_prefix", [Pure]> {
  let summary = "A latent cache's V tile: the first columns of its K tile";
  let description = [{
    With `latent_kv` V is the first v_head_dim columns of each K row, so
    attn-latent-kv replaces the V load of a K tile's rows by this view of
    the K tile (no copy): the result has the K tile's rows and the
    result type's columns.
  }];
  let arguments = (ins Attn_InTile:$k);
  let results = (outs Attn_InTile:$v);
  let assemblyFormat = "$k attr-dict `:` type($k) `->` type($v)";
  let hasVerifier = 1;
}

def Attn_WaitOp : Attn_Op<"wait", []> {
  let summary = "Makes a loaded K/V tile visible to the whole CTA";
  let description = [{
    Waits for the tile's asynchronous copy, then for every thread of the CTA
    (a barrier). After it the tile may be read, and every shared-memory read
    any thread made before it has completed, so a copy into that memory may
    start without a barrier of its own (`buffer_free`). attn-prefetch-kv
    places them; a tile with no attn.wait is waited for at its first use.
  }];
  let arguments = (ins Attn_InTile:$tile);
  let assemblyFormat = "$tile attr-dict `:` type($tile)";
}

def Attn_BlockTableOp : Attn_Op<"block_table", [Pure]> {
  let summary = "block_table[%b][%index]: the physical page of a logical page";
  let arguments = (ins I32:$batch, I32:$index);
  let results = (outs I32:$page);
  let assemblyFormat = "$batch `,` $index attr-dict";
}

def Attn_PageRowsOp : Attn_Op<"page_rows", [Pure]> {
  let summary = "Rows of the paged caches' row view from one page to the next";
  let description = [{
    The caches are read as a [rows, kv_heads, head_dim] view whose page p
    starts at row p * page_rows. A contiguous cache has page_rows =
    page_size; one whose pages are interleaved with others' (K and V in one
    tensor, a layer dimension inside the page dimension) has more. A launch
    argument: the generated code does not assume the layout.
  }];
  let results = (outs I32:$rows);
  let assemblyFormat = "attr-dict";
}

def Attn_KVStartOp : Attn_Op<"kv_start", [Pure]> {
  let summary = "kv_indptr[%b]: first row of sequence %b in the dense K/V";
  let arguments = (ins I32:$batch);
  let results = (outs I32:$row);
  let assemblyFormat = "$batch attr-dict";
}

def Attn_StoreOp : Attn_Op<"store", []> {
  let summary = "Writes O rows (rank 2) or LSE rows (rank 1) of a query tile";
  let description = [{
    Rows at or past q_len are not written. O is converted to the kernel's
    dtype; LSE stays f32.
  }];
  let arguments = (ins AnyRankedTensor:$tile, I32:$batch, I32:$head,
                       I32:$row0);
  let assemblyFormat = [{
    $tile `,` $batch `,` $head `,` $row0 attr-dict `:` type($tile)
  }];
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Attn_FillOp : Attn_Op<"fill", [Pure]> {
  let summary = "A tile whose every element is `value`";
  let description = [{ With a dynamic extent, `rows` gives it. }];
  let arguments = (ins F32Attr:$value, Optional<I32>:$rows);
  let results = (outs RankedTensorOf<[F32]>:$tile);
  let assemblyFormat = "$value (`rows` $rows^)? attr-dict `:` type($tile)";
}

def Attn_QKOp : Attn_Op<"qk", [Pure]> {
  let summary = "S = scale * Q Kᵀ, accumulated in f32";
  let arguments = (ins Attn_InTile:$q, Attn_InTile:$k, F64Attr:$scale);
  let results = (outs Attn_F32Tile:$s);
  let assemblyFormat = "$q `,` $k attr-dict `:` type($q) `,` type($k) `->` type($s)";
}

def Attn_ScoreModOp : Attn_Op<"score_mod", [Pure, IsolatedFromAbove, AllTypesMatch<["s", "result"]>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "Applies the score modifier to every element of S";
  let description = [{
    Element (i, j) is passed to the region as (score, b, h, q, kv) with
    q = q_pos0 + i and kv = kv_pos0 + j.
  }];
  let arguments = (ins Attn_F32Tile:$s, I32:$batch, I32:$head, I32:$q_pos0,
                       I32:$kv_pos0);
  let results = (outs Attn_F32Tile:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $s `,` $batch `,` $head `,` $q_pos0 `,` $kv_pos0 attr-dict `:` type($s)
    $body
  }];
  let hasRegionVerifier = 1;
}

def Attn_MaskOp : Attn_Op<"mask", [Pure, IsolatedFromAbove, AllTypesMatch<["s", "result"]>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "Sets masked elements of S to -inf";
  let description = [{
    Element (i, j), at q = q_pos0 + i and kv = kv_pos0 + j, becomes -inf when
    kv >= kv_len (past the sequence) or when the region yields false for it.
    An empty region checks the bounds only.
  }];
  let arguments = (ins Attn_F32Tile:$s, I32:$batch, I32:$head, I32:$q_pos0,
                       I32:$kv_pos0, I32:$kv_len);
  let results = (outs Attn_F32Tile:$result);
  let regions = (region AnyRegion:$body);
  let assemblyFormat = [{
    $s `,` $batch `,` $head `,` $q_pos0 `,` $kv_pos0 `,` $kv_len attr-dict
    `:` type($s) ($body^)?
  }];
  let hasRegionVerifier = 1;
}

def Attn_SinkOp : Attn_Op<"sink", [Pure, IsolatedFromAbove,
    AllTypesMatch<["m", "l", "m_new", "l_new"]>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "Folds an attention sink into the softmax state (m, l)";
  let description = [{
    Row i, at q = q_pos0 + i, gets one more key: score σ (the region's
    value at (b, h, q), in natural-log units like a modified score) and a
    zero value row. In the state's units, s = σ log2(e) / scale (`scale` is
    1 when absent, the softmax scale once attn-fold-scale moved it):
      m_new = max(m, s)
      l_new = l exp2(scale (m - m_new)) + exp2(scale (s - m_new))
    (0 for each term whose exponent has a -inf max). `enabled` (true when
    absent) leaves (m, l) as they are where false: split-KV counts the
    sink in split 0 only. The region reads neither `score` nor `kv`.
  }];
  let arguments = (ins Attn_F32Rows:$m, Attn_F32Rows:$l, I32:$batch,
                       I32:$head, I32:$q_pos0, Optional<I1>:$enabled,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs Attn_F32Rows:$m_new, Attn_F32Rows:$l_new);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $m `,` $l `,` $batch `,` $head `,` $q_pos0 (`if` $enabled^)? attr-dict
    `:` type($m) $body
  }];
  let hasRegionVerifier = 1;
}

def Attn_RowFactorOp : Attn_Op<"row_factor", [Pure, IsolatedFromAbove,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "One factor per tile row: the region's value at the row's (b, h)";
  let description = [{
    Entry i, for query head h_i (h, or one of the packed heads), is the
    region's value at (b, h_i). How an fp8 K/V cache's scales enter:
    `attn.rescale` by k_scale's factors turns Q K8ᵀ into Q (k K8)ᵀ right
    after attn.qk, by v_scale's O after finalize (O is linear in V). The
    region reads neither `score`, `q` nor `kv`. `rows` is the dynamic
    extent before attn-tile.
  }];
  let arguments = (ins I32:$batch, I32:$head, Optional<I32>:$rows);
  let results = (outs Attn_F32Rows:$factors);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $batch `,` $head (`rows` $rows^)? attr-dict `:` type($factors) $body
  }];
  let hasRegionVerifier = 1;
}

def Attn_ScaleOp : Attn_Op<"scale", [Pure, AllTypesMatch<["s", "result"]>]> {
  let summary = "Multiplies every element by `factor` (moves S into the log2 domain)";
  let arguments = (ins Attn_F32Tile:$s, F64Attr:$factor);
  let results = (outs Attn_F32Tile:$result);
  let assemblyFormat = "$s attr-dict `:` type($s)";
}

def Attn_RowMaxOp : Attn_Op<"row_max", [Pure, AllTypesMatch<["m", "m_new"]>]> {
  let summary = "m_new[i] = max(m[i], max_j S[i, j])";
  let arguments = (ins Attn_F32Tile:$s, Attn_F32Rows:$m);
  let results = (outs Attn_F32Rows:$m_new);
  let assemblyFormat = "$s `,` $m attr-dict `:` type($s) `,` type($m)";
}

def Attn_Exp2DiffOp : Attn_Op<"exp2_diff", [Pure, AllTypesMatch<["x", "result"]>]> {
  let summary = "exp2(scale * (x - m)) row-wise; 0 where m is -inf";
  let description = [{
    For a tile x[i, j] (P from S) or a row vector x[i] (the rescale factor
    alpha from the old max). A row whose max is still -inf has seen only
    masked keys: its result is 0, never exp2(-inf - -inf) = NaN. `scale`
    (1 when absent) is the softmax scale that attn-fold-scale moved here
    from attn.qk: exp2(scale * x - scale * m), one fused multiply-add per
    element.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$x, Attn_F32Rows:$m,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$x `,` $m attr-dict `:` type($x) `,` type($m)";
}

def Attn_RowSumOp : Attn_Op<"row_sum", [Pure,
    AllTypesMatch<["l", "alpha", "l_new"]>]> {
  let summary = "l_new[i] = alpha[i] * l[i] + sum_j P[i, j]";
  let arguments = (ins Attn_F32Tile:$p, Attn_F32Rows:$l, Attn_F32Rows:$alpha);
  let results = (outs Attn_F32Rows:$l_new);
  let assemblyFormat = "$p `,` $l `,` $alpha attr-dict `:` type($p) `,` type($l)";
}

def Attn_RescaleOp : Attn_Op<"rescale", [Pure, AllTypesMatch<["acc", "result"]>]> {
  let summary = "acc[i, :] *= alpha[i]";
  let arguments = (ins Attn_F32Tile:$acc, Attn_F32Rows:$alpha);
  let results = (outs Attn_F32Tile:$result);
  let assemblyFormat = "$acc `,` $alpha attr-dict `:` type($acc) `,` type($alpha)";
}

def Attn_PVOp : Attn_Op<"pv", [Pure, AllTypesMatch<["acc", "result"]>]> {
  let summary = "acc + P V, with P rounded to V's element type first";
  let description = [{
    P is rounded to the input dtype (as the tensor-core product needs) and
    accumulated in f32.
  }];
  let arguments = (ins Attn_F32Tile:$p, Attn_InTile:$v, Attn_F32Tile:$acc);
  let results = (outs Attn_F32Tile:$result);
  let assemblyFormat = "$p `,` $v `,` $acc attr-dict `:` type($p) `,` type($v) `,` type($acc)";
}

def Attn_FinalizeOp : Attn_Op<"finalize", [Pure,
    AllTypesMatch<["acc", "o"]>, AllTypesMatch<["m", "l", "lse"]>]> {
  let summary = "O = acc / l and LSE = ln2 * (scale * m + log2 l); O = 0, LSE = -inf where l = 0";
  let description = [{
    `scale` (1 when absent): the row max m is in unscaled score units after
    attn-fold-scale.
  }];
  let arguments = (ins Attn_F32Tile:$acc, Attn_F32Rows:$m, Attn_F32Rows:$l,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs Attn_F32Tile:$o, Attn_F32Rows:$lse);
  let assemblyFormat = [{
    $acc `,` $m `,` $l attr-dict `:` type($acc) `,` type($m)
  }];
}

#endif // ATTN_LOWERED_OPS_TD
