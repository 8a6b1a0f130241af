"""Shared pieces of the attnc Python tests: they run on CPU tensors, so on
the sim backend, and need the package installed (python/tests/run.sh)."""

import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))

try:
    import attnc
except ImportError as e:  # fail, never skip: the tests are the package's
    raise pytest.UsageError(
        f"the attnc package is not importable ({e}); run scripts/setup.sh") from e


# The two specs most tests share: causal GQA 4:2, fp16, head_dim 64, over
# a dense and over a paged (16-token pages) KV cache.
CAUSAL = """
attention causal {
  dtype = fp16; head_dim = 64; q_heads = 4; kv_heads = 2
  mask = kv <= q
}
"""
PAGED_CAUSAL = CAUSAL.replace("attention causal", "attention paged_causal").replace(
    "kv_heads = 2", "kv_heads = 2\n  kv_cache = paged(page_size = 16)")


@pytest.fixture(scope="session")
def causal():
    return attnc.compile(CAUSAL)


@pytest.fixture(scope="session")
def paged_causal():
    return attnc.compile(PAGED_CAUSAL)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)


def ragged(lengths, heads, head_dim, dtype):
    """A random ragged tensor [sum(lengths), heads, head_dim] and its int32
    indptr."""
    indptr = torch.tensor([0] + list(torch.tensor(lengths).cumsum(0).tolist()),
                          dtype=torch.int32)
    return torch.randn(int(indptr[-1]), heads, head_dim).to(dtype), indptr
