//===- KernelVariants.cpp - The kernel matrix the codegen tests run -------===//
#include "KernelVariants.h"

#include "codegen/Compile.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"

#include "mlir/IR/Diagnostics.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace mlir;
using namespace attnc;
using namespace attnc::test;

std::string KernelVariant::specText() const {
  std::ostringstream os;
  os << "attention " << name << " {\n"
     << "  dtype = " << dtype << "; head_dim = " << headDim
     << "; q_heads = " << qHeads << "; kv_heads = " << kvHeads << "\n"
     << "  kv_cache = "
     << (pageSize ? "paged(page_size = " + std::to_string(pageSize) + ")"
                  : std::string("dense"))
     << "\n"
     << params;
  if (vHeadDim)
    os << "  v_head_dim = " << vHeadDim << "\n";
  if (!score.empty())
    os << "  score = " << score << "\n";
  if (!mask.empty())
    os << "  mask = " << mask << "\n";
  if (!sink.empty())
    os << "  sink = " << sink << "\n";
  if (!kvDtype.empty())
    os << "  kv_dtype = " << kvDtype << "\n";
  if (!kScale.empty())
    os << "  k_scale = " << kScale << "\n";
  if (!vScale.empty())
    os << "  v_scale = " << vScale << "\n";
  if (latentKV)
    os << "  kv_layout = latent\n";
  os << "}\n";
  return os.str();
}

const std::vector<KernelVariant> &attnc::test::kernelVariants() {
  static const std::vector<KernelVariant> variants = [] {
    std::vector<KernelVariant> v;
    auto add = [&](KernelVariant k) { v.push_back(std::move(k)); };
    const std::string causal = "kv <= q";
    // Masks and score modifiers.
    add({"causal_mha_dense",
         "fp16",
         64,
         4,
         4,
         0,
         "",
         "",
         causal,
         64,
         64,
         {1, 7, 65},
         {1, 63, 333}});
    add({"causal_gqa4_paged16",
         "bf16",
         128,
         8,
         2,
         16,
         "",
         "",
         causal,
         64,
         64,
         {65, 7, 1},
         {65, 239, 333}});
    add({"none_gqa8_paged1",
         "fp16",
         128,
         8,
         1,
         1,
         "",
         "",
         "",
         64,
         64,
         {63, 2},
         {63, 256}});
    add({"sliding_window",
         "bf16",
         64,
         4,
         2,
         0,
         "",
         "",
         "kv <= q && q - kv < 37",
         64,
         32,
         {113, 1},
         {257, 64}});
    add({"softcap_causal_paged8",
         "bf16",
         128,
         8,
         2,
         8,
         "",
         "30.0 * tanh(score / 30.0)",
         causal,
         64,
         64,
         {65, 1},
         {65, 255}});
    add({"alibi_causal",
         "fp16",
         64,
         4,
         4,
         0,
         "  param slope : f32[q_heads]\n",
         "score - slope[h] * (q - kv)",
         causal,
         64,
         64,
         {63, 9},
         {63, 200}});
    add({"prefix_lm_paged32",
         "bf16",
         64,
         8,
         1,
         32,
         "  param prefix : i32[batch]\n",
         "",
         "kv <= q || kv < prefix[b]",
         64,
         64,
         {65, 33},
         {65, 100}});
    add({"document_mask",
         "fp16",
         64,
         4,
         2,
         0,
         "  param doc : i32[batch, ?]\n",
         "",
         "doc[b, q] == doc[b, kv] && kv <= q",
         64,
         64,
         {120, 5},
         {120, 77}});
    // Negative query positions index doc[b, q] outside the tensor: reads 0.
    add({"document_mask_q_longer",
         "bf16",
         64,
         2,
         1,
         0,
         "  param doc : i32[batch, ?]\n",
         "",
         "doc[b, q] == doc[b, kv] && kv <= q",
         16,
         16,
         {9, 40},
         {5, 40}});
    // q longer than kv: the first rows see no key (o = 0, lse = -inf).
    add({"q_longer_than_kv",
         "fp16",
         64,
         2,
         2,
         0,
         "",
         "",
         causal,
         64,
         64,
         {65, 7},
         {7, 2}});
    // Empty sequences in a ragged batch: q_len 0, kv_len 0.
    add({"empty_sequences_paged5",
         "fp16",
         64,
         2,
         1,
         5,
         "",
         "",
         causal,
         64,
         64,
         {0, 5, 3},
         {4, 0, 11}});
    // Head dims beyond powers of two, and the largest.
    add({"head_dim_48",
         "fp16",
         48,
         2,
         1,
         0,
         "",
         "",
         causal,
         64,
         64,
         {33},
         {70}});
    add({"head_dim_80",
         "bf16",
         80,
         2,
         2,
         0,
         "",
         "",
         causal,
         64,
         64,
         {17},
         {90}});
    add({"head_dim_96", "fp16", 96, 2, 1, 16, "", "", "", 64, 64, {40}, {40}});
    add({"head_dim_112",
         "bf16",
         112,
         2,
         2,
         0,
         "",
         "",
         causal,
         64,
         64,
         {70},
         {70}});
    add({"head_dim_256",
         "bf16",
         256,
         2,
         1,
         0,
         "",
         "",
         causal,
         64,
         32,
         {66},
         {100}});
    // Tile sizes: one warp, two warps, eight warps; KV tiles of 16 and 128.
    add({"tiles_16x16",
         "fp16",
         64,
         2,
         2,
         0,
         "",
         "",
         causal,
         16,
         16,
         {33},
         {47}});
    add({"tiles_32x128_paged128",
         "bf16",
         64,
         2,
         1,
         128,
         "",
         "",
         causal,
         32,
         128,
         {40, 3},
         {300, 129}});
    add({"tiles_128x32",
         "fp16",
         64,
         2,
         2,
         0,
         "",
         "",
         causal,
         128,
         32,
         {150},
         {150}});
    // A KV length exactly at and one off a page boundary.
    add({"page_boundaries",
         "fp16",
         64,
         2,
         2,
         16,
         "",
         "",
         causal,
         64,
         64,
         {16, 17, 15},
         {32, 33, 31}});
    // Lopsided head ratios; one query against a long context.
    add({"heads_6_2_q1_kv239",
         "fp16",
         32,
         6,
         2,
         0,
         "",
         "",
         causal,
         64,
         64,
         {1},
         {239}});
    add({"heads_6_1_paged8",
         "bf16",
         32,
         6,
         1,
         8,
         "",
         "",
         "",
         64,
         64,
         {17, 3},
         {40, 9}});
    add({"heads_28_4",
         "fp16",
         32,
         28,
         4,
         0,
         "",
         "",
         causal,
         64,
         64,
         {9},
         {33}});
    add({"heads_48_2_paged16",
         "bf16",
         32,
         48,
         2,
         16,
         "",
         "",
         causal,
         64,
         64,
         {3},
         {70}});
    // Exact fixture: each row sees exactly one key, so O is that key's V.
    KernelVariant oneKey{
        "one_key_per_row", "fp16", 64, 2,       1,       0, "", "",
        "kv == q",         64,     64, {20, 7}, {20, 30}};
    oneKey.exact = true;
    add(oneKey);
    // Huge logits (|s| in the thousands): no inf or NaN.
    add({"huge_logits",
         "bf16",
         64,
         2,
         2,
         0,
         "  scale = 300.0\n",
         "",
         causal,
         64,
         64,
         {40},
         {90}});
    // Decode layout: the query heads of a KV head packed into the tile rows.
    auto packed = [&](KernelVariant k) {
      k.packGQA = true;
      add(std::move(k));
    };
    packed({"packed_decode_gqa4_paged16",
            "bf16",
            128,
            8,
            2,
            16,
            "",
            "",
            causal,
            64,
            64,
            {1, 3, 1},
            {300, 17, 1}});
    packed({"packed_prefix_lm_gqa8_paged5",
            "fp16",
            64,
            8,
            1,
            5,
            "  param prefix : i32[batch]\n",
            "",
            "kv <= q || kv < prefix[b]",
            64,
            32,
            {2, 9},
            {65, 40}});
    // G = 3: 48-row tiles; ALiBi's slope[h] differs between a tile's rows.
    packed({"packed_alibi_gqa3",
            "fp16",
            64,
            6,
            2,
            0,
            "  param slope : f32[q_heads]\n",
            "score - slope[h] * (q - kv)",
            causal,
            48,
            64,
            {5, 1},
            {90, 33}});
    packed({"packed_document_q_longer",
            "bf16",
            64,
            4,
            1,
            0,
            "  param doc : i32[batch, ?]\n",
            "",
            "doc[b, q] == doc[b, kv] && kv <= q",
            64,
            16,
            {9, 20},
            {5, 70}});
    packed({"packed_window_softcap_paged1",
            "bf16",
            64,
            8,
            2,
            1,
            "",
            "20.0 * tanh(score / 20.0)",
            "kv <= q && q - kv < 21",
            64,
            64,
            {4, 1},
            {100, 50}});
    // Decode: split-KV (flash-decoding) with and without packed heads,
    // split counts 1..16, chunks left empty, long contexts.
    auto split = [&](KernelVariant k, int splits, bool pack) {
      k.splitKV = true;
      k.splits = splits;
      k.packGQA = pack;
      add(std::move(k));
    };
    split({"split1_causal_gqa4_paged16",
           "bf16",
           64,
           8,
           2,
           16,
           "",
           "",
           causal,
           64,
           64,
           {1, 4},
           {100, 37}},
          1, true);
    split({"split7_window_gqa8_paged1",
           "fp16",
           64,
           8,
           1,
           1,
           "",
           "",
           "kv <= q && q - kv < 300",
           64,
           64,
           {2, 8, 1},
           {1000, 9, 1}},
          7, true);
    split({"split16_prefix_mha_paged32",
           "bf16",
           64,
           2,
           2,
           32,
           "  param prefix : i32[batch]\n",
           "",
           "kv <= q || kv < prefix[b]",
           16,
           32,
           {3, 1},
           {5000, 40}},
          16, false);
    split({"split3_alibi_softcap_dense",
           "fp16",
           128,
           4,
           1,
           0,
           "  param slope : f32[q_heads]\n",
           "30.0 * tanh((score - slope[h] * (q - kv)) / 30.0)",
           causal,
           64,
           64,
           {5, 8},
           {2000, 3}},
          3, true);
    split({"split_auto_document",
           "bf16",
           64,
           4,
           4,
           0,
           "  param doc : i32[batch, ?]\n",
           "",
           "doc[b, q] == doc[b, kv] && kv <= q",
           64,
           32,
           {1, 6},
           {800, 2}},
          0, false);
    // One K tile in flight (attn-prefetch-kv off): the tuner's other
    // pipeline depth, on a prefill, a paged and a split-KV kernel.
    auto unprefetched = [&](KernelVariant k) {
      k.prefetchKV = false;
      add(std::move(k));
    };
    unprefetched({"noprefetch_causal_gqa2",
                  "fp16",
                  64,
                  4,
                  2,
                  0,
                  "",
                  "",
                  causal,
                  64,
                  32,
                  {100, 1, 0},
                  {130, 33, 7}});
    unprefetched({"noprefetch_window_paged16",
                  "bf16",
                  128,
                  2,
                  2,
                  16,
                  "",
                  "",
                  "kv <= q && q - kv < 40",
                  64,
                  64,
                  {70, 3},
                  {200, 65}});
    {
      KernelVariant k{"noprefetch_split5_gqa4_paged8",
                      "bf16",
                      64,
                      8,
                      2,
                      8,
                      "",
                      "",
                      causal,
                      64,
                      64,
                      {1, 2},
                      {700, 129}};
      k.splitKV = true;
      k.splits = 5;
      k.packGQA = true;
      unprefetched(std::move(k));
    }
    // Two 16-row blocks per warp (Br / warps = 32): each K/V fragment
    // feeds two mmas. Causal GQA, paged with a window, packed split-KV.
    auto twoBlocks = [&](KernelVariant k, int warps) {
      k.warps = warps;
      add(std::move(k));
    };
    twoBlocks({"warps4_br128_causal_gqa2",
               "fp16",
               64,
               4,
               2,
               0,
               "",
               "",
               causal,
               128,
               64,
               {150, 1, 0, 37},
               {200, 40, 9, 37}},
              4);
    twoBlocks({"warps2_window_softcap_paged16",
               "bf16",
               64,
               2,
               1,
               16,
               "",
               "30.0 * tanh(score / 30.0)",
               "kv <= q && q - kv < 50",
               64,
               32,
               {70, 5},
               {120, 80}},
              2);
    {
      KernelVariant k{"warps2_split3_packed_gqa4_paged8",
                      "bf16",
                      64,
                      8,
                      2,
                      8,
                      "",
                      "",
                      causal,
                      64,
                      64,
                      {1, 3},
                      {500, 77}};
      k.splitKV = true;
      k.splits = 3;
      k.packGQA = true;
      twoBlocks(std::move(k), 2);
    }
    // Learned attention sinks (gpt-oss), strong enough to take much of each
    // row's weight, different per head and per query row (q % 3) so that a
    // packed row mapped to the wrong head or position shows. `kv < q`
    // leaves the first query of a full prefill with no key: O = 0 and LSE =
    // the sink. Prefill with fold-scale, packed heads with a softcap (no
    // fold), split-KV (split 0 alone counts the sink) and two row blocks per
    // warp.
    const std::string sinks = "  param sinks : f32[q_heads]\n";
    const std::string sinkLogit = "sinks[h] * 8.0 + q % 3";
    auto withSink = [&](KernelVariant k) {
      k.sink = sinkLogit;
      return k;
    };
    add(withSink({"sink_strict_causal_gqa4",
                  "fp16",
                  64,
                  8,
                  2,
                  0,
                  sinks,
                  "",
                  "kv < q",
                  64,
                  64,
                  {37, 1, 0},
                  {37, 200, 5}}));
    packed(withSink({"packed_sink_softcap_gqa3_paged1",
                     "bf16",
                     64,
                     6,
                     2,
                     1,
                     sinks,
                     "20.0 * tanh(score / 20.0)",
                     "kv <= q && q - kv < 21",
                     48,
                     64,
                     {4, 1},
                     {100, 50}}));
    split(withSink({"split3_sink_window_gqa4_paged16",
                    "bf16",
                    128,
                    8,
                    2,
                    16,
                    sinks,
                    "",
                    "kv <= q && q - kv < 300",
                    64,
                    64,
                    {1, 4, 1},
                    {900, 37, 1}}),
          3, true);
    twoBlocks(withSink({"warps2_sink_causal_mha",
                        "fp16",
                        64,
                        2,
                        2,
                        0,
                        sinks,
                        "",
                        causal,
                        64,
                        64,
                        {70, 5},
                        {120, 80}}),
              2);
    // Head dims that are multiples of 8 but not 16, padded with zero
    // columns: dense, paged, paged + packed, split-KV, two row blocks per
    // warp.
    add({"head_dim_40_causal",
         "fp16",
         40,
         4,
         2,
         0,
         "",
         "",
         causal,
         64,
         64,
         {65, 7, 1},
         {65, 200, 9}});
    packed({"head_dim_72_packed_paged16",
            "bf16",
            72,
            8,
            2,
            16,
            "",
            "30.0 * tanh(score / 30.0)",
            "kv <= q && q - kv < 100",
            64,
            64,
            {3, 1},
            {150, 40}});
    split({"head_dim_8_split4_paged4",
           "fp16",
           8,
           4,
           1,
           4,
           "",
           "",
           causal,
           64,
           32,
           {1, 2},
           {300, 17}},
          4, true);
    add({"head_dim_104_paged8",
         "bf16",
         104,
         2,
         2,
         8,
         "",
         "",
         causal,
         64,
         64,
         {70, 5},
         {90, 80}});
    twoBlocks({"head_dim_24_warps2",
               "fp16",
               24,
               2,
               1,
               0,
               "",
               "",
               causal,
               64,
               64,
               {70, 5},
               {90, 80}},
              2);
    // The fuller DSL: lets, q_len / kv_len (top-left alignment), int() of
    // a log bucket into a bias table, bitwise Morton blocks with shifts.
    add({"dsl_topleft_buckets_let",
         "fp16",
         64,
         4,
         2,
         0,
         "  param bias : f32[q_heads, 8]\n"
         "  let top = q - (kv_len - q_len)\n"
         "  let bucket = min(int(log(float(abs(top - kv) + 1)) * 2.0), 7)\n",
         "score + bias[h, bucket] + 0.5 * sigmoid(score)",
         "kv <= top",
         64,
         64,
         {37, 100, 1},
         {200, 100, 9}});
    packed({"dsl_morton_shift_packed_paged8",
            "bf16",
            64,
            8,
            2,
            8,
            "  let qb = q >> 3\n  let kb = kv >> 3\n",
            "score - 0.01 * pow(abs(score), 1.5) + 0.1 * floor(exp2(score))",
            "((qb ^ kb) & -4) == 0 || ((kv << (q % 40)) >> 35) == 1 || kv == q",
            64,
            64,
            {3, 1},
            {300, 77}});
    // A pairwise mask from a 2-D param at (q, kv), without a block mask:
    // its tile bounds come from a scan loop nested in the KV loop, between
    // the V load and P V (the V tile must still be waited for and
    // synchronized after it).
    KernelVariant pairwise{"pairwise_param_mask",
                           "fp16",
                           64,
                           2,
                           2,
                           0,
                           "  param allow : i32[?, ?]\n",
                           "",
                           "allow[q, kv] >= 2",
                           64,
                           64,
                           {100, 7},
                           {200, 150}};
    pairwise.blockMask = "never";
    add(pairwise);
    // The same with its runtime block mask (the default for it), one K
    // tile in flight.
    pairwise.name = "pairwise_block_mask_no_prefetch";
    pairwise.blockMask = "auto";
    pairwise.prefetchKV = false;
    add(pairwise);
    // Runtime block masks for masks the compiler could bound
    // (block-mask=always): prefill over GQA with empty and one-row
    // sequences; per-head lists over packed heads, paged, split; a document
    // mask on the decode path.
    auto listed = [&](KernelVariant k) {
      k.blockMask = "always";
      add(std::move(k));
    };
    listed({"block_mask_causal_gqa2",
            "bf16",
            64,
            4,
            2,
            0,
            "",
            "",
            causal,
            64,
            64,
            {70, 0, 1, 130},
            {70, 5, 0, 200}});
    KernelVariant headWindows{"block_mask_head_windows_packed_split_paged16",
                              "fp16",
                              64,
                              8,
                              2,
                              16,
                              "  param win : i32[q_heads]\n",
                              "",
                              "kv <= q && q - kv < win[h] + 40",
                              64,
                              64,
                              {1, 3, 2},
                              {300, 90, 1}};
    headWindows.packGQA = true;
    headWindows.splitKV = true;
    headWindows.splits = 3;
    listed(headWindows);
    KernelVariant documents{"block_mask_document_decode_split",
                            "bf16",
                            128,
                            8,
                            1,
                            0,
                            "  param doc : i32[batch, ?]\n",
                            "",
                            "doc[b, q] == doc[b, kv] && kv <= q",
                            64,
                            32,
                            {1, 1},
                            {333, 64}};
    documents.packGQA = true;
    documents.splitKV = true;
    documents.splits = 4;
    listed(documents);
    // A block mask over packed GQA rows: h, q / 64 and kv / 64 all range
    // over a tile, so the bound is a scan nested two deep in the KV loop.
    packed({"packed_block_mask_gqa4_paged16",
            "bf16",
            64,
            8,
            2,
            16,
            "  param blocks : i32[q_heads, 16, 16]\n",
            "",
            "blocks[h, q / 64, kv / 64] == 0",
            64,
            64,
            {3, 1},
            {500, 300}});
    // fp8 K/V caches (e4m3fn, e5m2): K/V values spanning 2^-8..16 with
    // subnormals (InterpRandom), widened on load, scaled per KV head (a
    // different factor per head, so a packed row given the wrong head
    // shows), by a scalar param, or by a constant. Paged prefill, dense
    // window, padded head dim, packed + split-KV decode with a softcap and
    // a sink, two row blocks per warp.
    const std::string kvScales = "  param ks : f32[kv_heads]\n"
                                 "  param vs : f32[kv_heads]\n";
    auto fp8 = [&](KernelVariant k, const char *format, std::string kScale,
                   std::string vScale) {
      k.kvDtype = format;
      k.kScale = std::move(kScale);
      k.vScale = std::move(vScale);
      return k;
    };
    add(fp8({"fp8_e4m3_causal_gqa4_paged16",
             "bf16",
             128,
             8,
             2,
             16,
             kvScales,
             "",
             causal,
             64,
             64,
             {70, 1, 0},
             {70, 300, 17}},
            "e4m3", "ks[h / 4] * 32.0 + 0.25", "vs[h / 4] * 8.0 + 0.5"));
    add(fp8({"fp8_e5m2_window_dense",
             "fp16",
             64,
             4,
             4,
             0,
             "  param kq : f32\n",
             "",
             "kv <= q && q - kv < 50",
             64,
             64,
             {100, 3},
             {100, 130}},
            "e5m2", "kq", "0.25"));
    add(fp8({"fp8_e4m3_head_dim_40",
             "fp16",
             40,
             4,
             2,
             0,
             kvScales,
             "",
             causal,
             64,
             64,
             {33, 2},
             {33, 90}},
            "e4m3", "ks[h / 2] * 16.0", ""));
    {
      KernelVariant k =
          fp8({"fp8_e4m3_split3_packed_softcap_sink_paged16",
               "bf16",
               128,
               8,
               2,
               16,
               kvScales + sinks,
               "30.0 * tanh(score / 30.0)",
               "kv <= q && q - kv < 400",
               64,
               64,
               {1, 2, 1},
               {700, 45, 1}},
              "e4m3", "ks[h / 4] * 32.0 + 0.25", "vs[h / 4] * 8.0 + 0.5");
      k.sink = sinkLogit;
      split(std::move(k), 3, true);
    }
    twoBlocks(fp8({"fp8_e5m2_warps2_causal_gqa2_paged8",
                   "bf16",
                   64,
                   4,
                   2,
                   8,
                   kvScales,
                   "",
                   causal,
                   64,
                   64,
                   {70, 5},
                   {120, 80}},
                  "e5m2", "ks[h / 2] * 16.0 + 0.5", "vs[h / 2] + 1.0"),
              2);
    // Cascade attention: groups sharing their first pages, run as a prefix
    // launch per group and a suffix launch per sequence, merged by LSE.
    // Decode (packed, split-KV) with a group of one; a window, softcap and
    // a sink whose logit reads q (given per row), odd pages, prefill
    // tiles; ALiBi over several query tiles; fp8 with scales.
    auto cascade = [&](KernelVariant k, int sharedPrefix, int groupSize) {
      k.cascade = true;
      k.sharedPrefix = sharedPrefix;
      k.groupSize = groupSize;
      add(std::move(k));
    };
    {
      KernelVariant k{"cascade_decode_causal_gqa4_paged16",
                      "bf16",
                      128,
                      8,
                      2,
                      16,
                      "",
                      "",
                      causal,
                      64,
                      64,
                      {1, 1, 1, 1, 1},
                      {300, 333, 290, 400, 291}};
      k.packGQA = true;
      k.splitKV = true;
      cascade(std::move(k), 288, 2);
    }
    cascade(withSink({"cascade_sink_window_softcap_gqa3_paged5",
                      "fp16",
                      64,
                      6,
                      2,
                      5,
                      sinks,
                      "20.0 * tanh(score / 20.0)",
                      "kv <= q && q - kv < 50",
                      64,
                      32,
                      {3, 1, 2, 1},
                      {130, 141, 127, 200}}),
            125, 0);
    cascade({"cascade_alibi_prefill_paged8",
             "fp16",
             64,
             4,
             4,
             8,
             "  param slope : f32[q_heads]\n",
             "score - slope[h] * (q - kv)",
             causal,
             64,
             64,
             {17, 80, 1},
             {150, 170, 140}},
            136, 0);
    {
      KernelVariant k{"cascade_fp8_e4m3_split_gqa2_paged8",
                      "bf16",
                      64,
                      4,
                      2,
                      8,
                      kvScales,
                      "",
                      causal,
                      64,
                      64,
                      {2, 1, 1},
                      {200, 199, 260}};
      k.kvDtype = "e4m3";
      k.kScale = "ks[h / 2] * 16.0 + 0.5";
      k.vScale = "vs[h / 2] + 1.0";
      k.packGQA = true;
      k.splitKV = true;
      k.splits = 3;
      cascade(std::move(k), 192, 0);
    }
    // V and O narrower or wider than Q and K (v_head_dim): DeepSeek-V3's
    // prefill shape (192 / 128), a packed split-KV decode over odd pages,
    // a padded head_dim with a wide V, and a cascade of them.
    auto valueDim = [](KernelVariant k, int vHeadDim) {
      k.vHeadDim = vHeadDim;
      return k;
    };
    add(valueDim({"v_head_dim_192_128_causal",
                  "bf16",
                  192,
                  4,
                  4,
                  0,
                  "",
                  "",
                  causal,
                  64,
                  32,
                  {70, 1, 0},
                  {130, 77, 9}},
                 128));
    split(valueDim({"v_head_dim_128_64_split_window_paged5",
                    "fp16",
                    128,
                    8,
                    2,
                    5,
                    "",
                    "30.0 * tanh(score / 30.0)",
                    "kv <= q && q - kv < 100",
                    64,
                    64,
                    {1, 3, 1},
                    {230, 41, 1}},
                   64),
          3, true);
    add(valueDim({"v_head_dim_72_160_paged16",
                  "fp16",
                  72,
                  6,
                  2,
                  16,
                  "",
                  "",
                  causal,
                  64,
                  64,
                  {33, 65},
                  {150, 65}},
                 160));
    cascade(valueDim({"v_head_dim_cascade_96_32_paged8",
                      "bf16",
                      96,
                      4,
                      2,
                      8,
                      "",
                      "",
                      causal,
                      64,
                      32,
                      {1, 2, 1},
                      {120, 99, 140}},
                     32),
            96, 0);
    // Head dims past 256: column warps (4 warps sharing 16 rows, each with
    // a quarter of the keys of S and of the columns of O). MLA's 576 / 512
    // over a latent cache (V = K's first 512 columns): a packed split-KV
    // decode over 64-token pages, a dense prefill with an empty and a
    // one-row sequence, fp8 e4m3 with per-tensor scales, and a cascade.
    // A padded head dim (264, V padded to whole n8 tiles per warp) with
    // sinks, a window and split-KV; 320 columns with two row blocks.
    auto latent = [](KernelVariant k, int vHeadDim) {
      k.vHeadDim = vHeadDim;
      k.latentKV = true;
      return k;
    };
    split(latent({"mla_latent_split3_packed_paged64",
                  "bf16",
                  576,
                  16,
                  1,
                  64,
                  "",
                  "",
                  causal,
                  16,
                  32,
                  {1, 2, 1},
                  {300, 65, 1}},
                 512),
          3, true);
    add(latent({"mla_latent_prefill_dense",
                "fp16",
                576,
                4,
                1,
                0,
                "",
                "",
                causal,
                16,
                32,
                {37, 1, 0},
                {37, 80, 5}},
               512));
    {
      KernelVariant k = fp8(latent({"mla_latent_fp8_e4m3_packed_paged16",
                                    "bf16",
                                    576,
                                    8,
                                    1,
                                    16,
                                    "  param ks : f32\n",
                                    "",
                                    causal,
                                    16,
                                    32,
                                    {2, 1},
                                    {90, 33}},
                                   512),
                            "e4m3", "ks * 4.0", "0.5");
      packed(std::move(k));
    }
    cascade(latent({"mla_latent_cascade_paged16",
                    "bf16",
                    576,
                    16,
                    1,
                    16,
                    "",
                    "",
                    causal,
                    16,
                    32,
                    {1, 2, 1},
                    {70, 50, 90}},
                   512),
            48, 0);
    split(withSink({"column_warps_264_sink_window_gqa2_paged16",
                    "bf16",
                    264,
                    4,
                    2,
                    16,
                    sinks,
                    "",
                    "kv <= q && q - kv < 100",
                    16,
                    32,
                    {1, 3},
                    {200, 40}}),
          3, true);
    // A latent cache at row-warp head dims (128 / 64): V a view of the K
    // tile, double-buffered, and with one K tile in flight (no prefetch:
    // the view's buffer is refilled after a barrier).
    add(latent({"latent_128_64_window_gqa4_paged8",
                "fp16",
                128,
                8,
                2,
                8,
                "",
                "",
                "kv <= q && q - kv < 90",
                64,
                64,
                {70, 1, 0},
                {150, 77, 9}},
               64));
    {
      KernelVariant k = latent({"latent_128_64_no_prefetch_dense",
                                "bf16",
                                128,
                                4,
                                4,
                                0,
                                "",
                                "",
                                causal,
                                64,
                                64,
                                {65, 3},
                                {200, 64}},
                               64);
      k.prefetchKV = false;
      add(std::move(k));
    }
    add({"column_warps_320_mb2_softcap",
         "fp16",
         320,
         4,
         4,
         0,
         "",
         "30.0 * tanh(score / 30.0)",
         causal,
         32,
         64,
         {40, 3},
         {70, 30}});
    return v;
  }();
  return variants;
}

attn::KernelOp attnc::test::onlyKernel(ModuleOp module) {
  return *module.getOps<attn::KernelOp>().begin();
}

BuiltVariant attnc::test::buildVariant(MLIRContext &context,
                                       const KernelVariant &variant) {
  BuiltVariant built;
  std::string text = variant.specText(), parseErrors;
  std::optional<dsl::Module> module =
      dsl::parseAndCheckText(variant.name + ".attn", text, parseErrors);
  if (!module)
    FAIL("spec does not parse:\n" << text << parseErrors);
  built.reference = buildModule(context, *module);
  built.lowered = buildModule(context, *module);
  REQUIRE(built.reference);
  REQUIRE(built.lowered);
  built.spec = std::move(module);

  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      diagnostics += diag.str() + "\n";
    return success();
  });
  PipelineOptions options;
  options.blockQ = variant.blockQ;
  options.blockKV = variant.blockKV;
  options.packGQA = variant.packGQA;
  options.splitKV = variant.splitKV;
  options.prefetchKV = variant.prefetchKV;
  options.warps = variant.warps;
  options.blockMask = variant.blockMask;
  options.cascade = variant.cascade;
  std::string error;
  FailureOr<CompiledModule> compiled =
      lowerAndEmit(*built.lowered, options, error);
  if (failed(compiled))
    FAIL(error << "\n" << diagnostics);
  REQUIRE(compiled->kernels.size() == 1);
  built.cuda = compiled->cuda;
  built.info = compiled->kernels.front();
  return built;
}
