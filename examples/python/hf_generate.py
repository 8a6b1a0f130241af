"""A Hugging Face transformers model switched to attnc.

`attnc.integrations.transformers.register()` adds "attnc" to transformers'
attention interfaces; a model then picks it like any other backend. This
builds a small Llama-style model from a config (random weights, nothing is
downloaded), generates from a left-padded batch of two prompts with
transformers' eager attention and with attnc, and prints both.

    python examples/python/hf_generate.py
    python examples/python/hf_generate.py --model /path/to/checkpoint   # a real model, if you have one

On CPU tensors attnc runs its kernels on the sim backend; a float32 model's
q/k/v go to the kernel in bf16, so long generations from a real float32
checkpoint may differ from eager where two tokens nearly tie.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import transformers

import attnc.integrations.transformers as attnc_hf


def tiny_llama() -> transformers.PreTrainedModel:
    torch.manual_seed(2)
    config = transformers.LlamaConfig(
        vocab_size=256,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,  # GQA 2:1
        initializer_range=0.2,
        pad_token_id=0,
        bos_token_id=None,
        eos_token_id=None,
    )
    return transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a local checkpoint directory (default: a tiny random Llama)")
    parser.add_argument("--new-tokens", type=int, default=8)
    args = parser.parse_args()

    attnc_hf.register()
    model = (
        transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16)
        if args.model
        else tiny_llama()
    ).eval()

    # Two prompts of different lengths: generate() left-pads the shorter one.
    g = torch.Generator().manual_seed(3)
    vocab = model.config.vocab_size
    ids = torch.randint(1, vocab, (2, 10), generator=g)
    mask = torch.ones_like(ids)
    ids[1, :3], mask[1, :3] = 0, 0

    results, scores = {}, {}
    for impl in ("eager", "attnc"):
        model.set_attn_implementation(impl)
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=args.new_tokens,
                do_sample=False,
                pad_token_id=0,
                output_scores=True,
                return_dict_in_generate=True,
            )
        results[impl] = out.sequences[:, ids.shape[1] :]
        scores[impl] = torch.stack(out.scores, 1)  # [batch, step, vocab]
        print(f"{impl:6} {time.perf_counter() - start:6.2f} s  {results[impl].tolist()}")
    print("specs compiled for this model:")
    for spec in attnc_hf.compiled_specs():
        print("  " + spec.replace("\n", "\n  ").rstrip())

    if torch.equal(results["eager"], results["attnc"]):
        print("same tokens as eager")
        return 0
    # bf16 attention moves logits by about 1e-2 of the largest one: a different token is
    # expected only where eager's top two were closer than that.
    ref = scores["eager"]
    top2 = ref.topk(2, dim=-1).values
    margin = (top2[..., 0] - top2[..., 1]) / ref.abs().max()
    differs = (results["eager"] != results["attnc"]).int()
    row, step = divmod(int(differs.flatten().argmax()), differs.shape[1])
    print(f"tokens differ from eager first at row {row}, step {step}, where eager's top-1 margin was "
          f"{margin[row, step].item():.1e} of the largest logit")
    return 0 if margin[row, step] < 4e-2 else 1


if __name__ == "__main__":
    sys.exit(main())
