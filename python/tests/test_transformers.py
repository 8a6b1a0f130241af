"""attnc as a Hugging Face transformers attention backend.

Tiny models (2 layers) built from configs with random weights, run in
float32 on the CPU, where attnc's kernels run under the sim backend. Two
references, both transformers' own "eager" attention of each model (float32
matmuls and softmax, no attnc code):

* "eager" as is. The attnc backend casts q/k/v to bf16 for its kernel and
  its output back to float32, so logits differ by bf16-sized amounts:
  LOGITS_RTOL of the largest logit.
* "eager_bf16io": the same eager function on q/k/v rounded to bf16, its
  output rounded to bf16, i.e. attnc's documented contract (bf16 in, float32
  accumulation, bf16 out). What is left is accumulation order and the odd
  1-ulp rounding flip: TIGHT_RTOL. Greedy decoding and every decode step's
  logits are compared against it.

Making the checks bite:
* initializer_range 0.2 (transformers' default is 0.02) gives attention
  scores of a few units, so the attention is far from uniform and the
  sliding window and Gemma-2's softcap (5.0) change the logits by much more
  than the tolerances (`test_masks_and_softcap_matter`);
* greedy decoding compares token ids exactly. Random-weight logits have
  near ties, so the model/prompt seed is the first of SEEDS for which the
  reference's top-1 margin at every step is more than MARGIN_FACTOR times
  the tight tolerance (chosen from the reference alone, before attnc runs);
  the generated tokens must also not be all alike.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

transformers = pytest.importorskip("transformers")

import attnc.integrations.transformers as attnc_hf  # noqa: E402
from transformers import AttentionInterface  # noqa: E402
from transformers.masking_utils import AttentionMaskInterface, eager_mask  # noqa: E402

PROMPT = 12
NEW_TOKENS = 4
# max |logits(attnc) - logits(ref)| / max |logits(ref)| over non-padding positions
LOGITS_RTOL = 4e-2  # against plain float32 eager
TIGHT_RTOL = 1e-2  # against eager with attnc's bf16 rounding of q/k/v and o
MARGIN_FACTOR = 2.0
SEEDS = range(32)


def _configs():
    common = dict(
        vocab_size=128,
        num_hidden_layers=2,
        intermediate_size=256,
        max_position_embeddings=256,
        initializer_range=0.2,
        pad_token_id=0,
        bos_token_id=None,
        eos_token_id=None,
        attention_dropout=0.0,
    )
    return {
        "llama": transformers.LlamaConfig(hidden_size=128, num_attention_heads=4, num_key_value_heads=2, **common),
        # 7 query heads per KV head, head_dim 16
        "qwen2": transformers.Qwen2Config(hidden_size=224, num_attention_heads=14, num_key_value_heads=2, **common),
        # sliding window (5) shorter than the prompt (12) and than prompt + generated tokens
        "mistral": transformers.MistralConfig(
            hidden_size=128, num_attention_heads=4, num_key_value_heads=1, sliding_window=5, **common
        ),
        # head_dim 256, softcap, local (window 5) and global layers alternating
        "gemma2": transformers.Gemma2Config(
            hidden_size=128,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=256,
            sliding_window=5,
            attn_logit_softcapping=5.0,
            final_logit_softcapping=None,
            query_pre_attn_scalar=256,
            tie_word_embeddings=False,
            **common,
        ),
        # learned attention sinks, window 5 and full layers alternating, 2 query heads per KV head
        "gpt_oss": transformers.GptOssConfig(
            hidden_size=128,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=32,
            sliding_window=5,
            num_local_experts=4,
            num_experts_per_tok=2,
            **common,
        ),
    }


def eager_bf16io(module, query, key, value, attention_mask, **kwargs):
    """The model's own eager attention on bf16-rounded q/k/v, its output rounded to bf16."""
    eager = sys.modules[type(module).__module__].eager_attention_forward

    def r(t):
        return t.to(torch.bfloat16).to(t.dtype)

    out, weights = eager(module, r(query), r(key), r(value), attention_mask, **kwargs)
    return r(out), weights


@pytest.fixture(scope="module", autouse=True)
def registered():
    attnc_hf.register()
    AttentionInterface.register("eager_bf16io", eager_bf16io)
    AttentionMaskInterface.register("eager_bf16io", eager_mask)


def _model(name, seed=0):
    torch.manual_seed(seed)
    cfg = _configs()[name]
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    if name == "gpt_oss":
        # Sinks of a trained model's size (initialisation leaves them near 0):
        # they take a good part of each row's weight.
        with torch.no_grad():
            for layer in model.model.layers:
                layer.self_attn.sinks.copy_(2.0 * torch.randn_like(layer.self_attn.sinks) + 1.0)
    return model.eval()


def _batch(vocab, seed=1):
    """Two prompts, the second left-padded by 4 tokens (what generate() does for batches)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (2, PROMPT), generator=g)
    mask = torch.ones(2, PROMPT, dtype=torch.long)
    mask[1, :4] = 0
    ids[1, :4] = 0
    return ids, mask


def _logits(model, impl, ids, mask):
    """Logits with positions counted from each row's first valid token, as generate() does."""
    model.set_attn_implementation(impl)
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, position_ids=position_ids).logits


def _rel_err(got, ref, valid):
    err = (got - ref).abs()[valid].max().item()
    return err / ref.abs()[valid].max().item()


MODELS = ["llama", "qwen2", "mistral", "gemma2", "gpt_oss"]


@pytest.mark.parametrize("name", MODELS)
def test_logits_match_eager(name):
    model = _model(name)
    ids, mask = _batch(model.config.vocab_size)
    valid = mask.bool()
    got = _logits(model, "attnc", ids, mask)
    assert torch.isfinite(got[valid]).all()
    loose = _rel_err(got, _logits(model, "eager", ids, mask), valid)
    tight = _rel_err(got, _logits(model, "eager_bf16io", ids, mask), valid)
    print(f"{name}: logits vs eager {loose:.2e}, vs eager with bf16 rounding {tight:.2e}")
    assert loose <= LOGITS_RTOL
    assert tight <= TIGHT_RTOL

    # The padded row equals the same prompt run alone (no padding), on its valid positions.
    alone = _logits(model, "attnc", ids[1:, 4:], mask[1:, 4:])
    assert _rel_err(alone[0], got[1, 4:], slice(None)) <= TIGHT_RTOL


def _generate(model, impl, ids, mask, cache="dynamic"):
    model.set_attn_implementation(impl)
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=NEW_TOKENS,
            do_sample=False,
            output_scores=True,
            return_dict_in_generate=True,
            pad_token_id=0,
            cache_implementation=cache,
        )
    return out.sequences, torch.stack(out.scores, 1)  # [B, steps, vocab]


@pytest.mark.parametrize("cache", ["dynamic", "static"])
@pytest.mark.parametrize("name", MODELS)
def test_greedy_generate_matches_eager(name, cache):
    """Dynamic caches grow (Mistral's sliding layers drop old keys: kv_offset > 0); static
    caches hold max_cache_len slots and generate() builds their masks ahead."""
    # The first seed whose reference run has a clear top-1 margin at every step.
    for seed in SEEDS:
        model = _model(name, seed)
        ids, mask = _batch(model.config.vocab_size, seed + 1)
        ref_seq, ref_scores = _generate(model, "eager_bf16io", ids, mask, cache)
        scale = ref_scores.abs().max().item()
        top2 = ref_scores.topk(2, dim=-1).values
        margin = (top2[..., 0] - top2[..., 1]).min().item() / scale
        if margin > MARGIN_FACTOR * TIGHT_RTOL:
            break
    else:
        pytest.fail(f"no seed in {SEEDS} gives a clear greedy margin for {name}")
    new = ref_seq[:, PROMPT:]
    assert len(set(new.flatten().tolist())) >= 3, "the reference generates (nearly) one token: the check is trivial"

    seq, scores = _generate(model, "attnc", ids, mask, cache)
    # Every step (prefill, then q_len 1 over the cached, left-padded keys) agrees with the reference.
    err = (scores - ref_scores).abs().max().item() / scale
    print(f"{name} ({cache} cache): seed {seed}, min top-1 margin {margin:.2e}, decode logits error {err:.2e}, tokens {new.tolist()}")
    assert err <= TIGHT_RTOL
    assert torch.equal(seq, ref_seq)


def test_specs_follow_the_config():
    """Gemma-2 compiles a local (window, softcap, scale) and a global spec; Qwen2 keeps its 14:2 heads;
    gpt-oss's layers take their sinks as a param."""
    for name in ("gemma2", "qwen2", "gpt_oss"):
        model = _model(name)
        ids, mask = _batch(model.config.vocab_size)
        _logits(model, "attnc", ids, mask)
    specs = attnc_hf.compiled_specs()
    gemma = [s for s in specs if "head_dim = 256\n" in s]  # only the Gemma-2 config has head_dim 256
    assert any("mask = kv <= q && q - kv < 5\n" in s for s in gemma)
    assert any("mask = kv <= q\n" in s for s in gemma)
    assert all("score = 5.0 * tanh(score / 5.0)" in s and "scale = 0.0625" in s for s in gemma)
    assert any("q_heads = 14\n" in s and "kv_heads = 2\n" in s and "head_dim = 16\n" in s for s in specs)
    oss = [s for s in specs if "sink = sinks[h]\n" in s]  # only gpt-oss has sinks
    assert all("param sinks : f32[q_heads]\n" in s for s in oss)
    assert any("q - kv < 5" in s for s in oss) and any("mask = kv <= q\n" in s for s in oss)


@pytest.mark.parametrize("name", ["mistral", "gemma2", "gpt_oss"])
def test_masks_and_softcap_matter(name):
    """The window (and Gemma-2's softcap, gpt-oss's sinks) change the logits by far more than
    the tolerance, so matching eager depends on getting them right."""
    ids, mask = _batch(_configs()[name].vocab_size)
    valid = mask.bool()
    base = _logits(_model(name), "eager", ids, mask)

    wide = _model(name)
    wide.config.sliding_window = 64  # longer than any sequence here: plain causal
    for layer in wide.model.layers:
        if getattr(layer.self_attn, "sliding_window", None) is not None:
            layer.self_attn.sliding_window = 64
    changes = {"window": _rel_err(_logits(wide, "eager", ids, mask), base, valid)}
    if name == "gemma2":
        no_cap = _model(name)
        for layer in no_cap.model.layers:
            layer.self_attn.attn_logit_softcapping = None
        changes["softcap"] = _rel_err(_logits(no_cap, "eager", ids, mask), base, valid)
    if name == "gpt_oss":
        no_sinks = _model(name)
        with torch.no_grad():
            for layer in no_sinks.model.layers:
                layer.self_attn.sinks.fill_(-1e9)  # exp(sink) = 0: no sink
        changes["sinks"] = _rel_err(_logits(no_sinks, "eager", ids, mask), base, valid)
    print(f"{name}: relative logit change without {changes}")
    for what, change in changes.items():
        assert change > 3 * LOGITS_RTOL, what


def test_bidirectional_matches_eager():
    """config.is_causal = False: transformers asks for a bidirectional mask with padding."""
    model = _model("llama")
    model.config.is_causal = False
    ids, mask = _batch(model.config.vocab_size)
    valid = mask.bool()
    got = _logits(model, "attnc", ids, mask)
    tight = _rel_err(got, _logits(model, "eager_bf16io", ids, mask), valid)
    loose = _rel_err(got, _logits(model, "eager", ids, mask), valid)
    model.config.is_causal = True
    causal_change = _rel_err(_logits(model, "eager", ids, mask), got, valid)
    print(f"bidirectional llama: vs eager {loose:.2e}, tight {tight:.2e}; causal differs by {causal_change:.2e}")
    assert loose <= LOGITS_RTOL and tight <= TIGHT_RTOL
    assert causal_change > 3 * LOGITS_RTOL


@pytest.mark.parametrize("name", ["mistral", "gemma2"])
def test_unverified_masks_match(name):
    """register(verify_masks=False) skips building transformers' dense mask; same results."""
    model = _model(name)
    ids, mask = _batch(model.config.vocab_size)
    checked = _logits(model, "attnc", ids, mask)
    try:
        attnc_hf.register(verify_masks=False)
        unchecked = _logits(model, "attnc", ids, mask)
    finally:
        attnc_hf.register()
    assert torch.equal(checked, unchecked)


def test_right_padding_without_cache():
    """Right padding (training-style batches): valid tokens first, no cache."""
    model = _model("mistral")
    ids, _ = _batch(model.config.vocab_size)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    valid = mask.bool()
    model.set_attn_implementation("attnc")
    with torch.no_grad():
        got = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
    model.set_attn_implementation("eager_bf16io")
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
    assert _rel_err(got, ref, valid) <= TIGHT_RTOL


def test_packed_sequences_are_refused():
    """Two documents packed in one row (position_ids restart, no attention_mask): transformers
    asks for a block-diagonal mask, which the attnc backend does not express."""
    model = _model("llama")
    ids, _ = _batch(model.config.vocab_size)
    position_ids = torch.cat([torch.arange(6), torch.arange(6)])[None].expand(2, -1)
    model.set_attn_implementation("attnc")
    with torch.no_grad(), pytest.raises(attnc_hf.UnsupportedMask, match="packed sequences"):
        model(input_ids=ids, position_ids=position_ids, use_cache=False)


def test_padding_inside_a_sequence_is_refused():
    model = _model("llama")
    ids, mask = _batch(model.config.vocab_size)
    mask[0, 5] = 0  # a hole in the middle of row 0
    model.set_attn_implementation("attnc")
    with torch.no_grad(), pytest.raises(attnc_hf.UnsupportedMask, match="contiguous"):
        model(input_ids=ids, attention_mask=mask)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_model_matches_eager(dtype):
    """A bf16 / fp16 model: attnc runs natively in that dtype (an fp16 spec for fp16); eager
    computes in it too, so both sides carry half-precision rounding."""
    model = _model("llama").to(dtype)
    ids, mask = _batch(model.config.vocab_size)
    got = _logits(model, "attnc", ids, mask).float()
    err = _rel_err(got, _logits(model, "eager", ids, mask).float(), mask.bool())
    print(f"llama {dtype}: logits vs eager {err:.2e}")
    assert err <= LOGITS_RTOL
    want = "fp16" if dtype == torch.float16 else "bf16"
    assert any(f"dtype = {want}\n" in s and "head_dim = 32\n" in s for s in attnc_hf.compiled_specs())


EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python")


@pytest.mark.parametrize(
    "script, expect",
    [
        ("hf_generate.py", "specs compiled for this model"),
        ("flex_masks.py", "relative_bias"),
        ("paged_decode.py", "every step matches float64 attention"),
    ],
)
def test_example_runs(script, expect):
    """The examples in examples/python run and pass their own checks against float64 / eager."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, script)], capture_output=True, text=True, timeout=300
    )
    print(proc.stdout[-2000:], proc.stderr[-2000:])
    assert proc.returncode == 0
    assert expect in proc.stdout
    assert "MISMATCH" not in proc.stdout
