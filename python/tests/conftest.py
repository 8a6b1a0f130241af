"""Shared pieces of the attnc Python tests: they run on CPU tensors, so on
the sim backend, and need the package installed (python/tests/run.sh)."""

import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))

try:
    import attnc  # noqa: F401
except ImportError as e:  # fail, never skip: the tests are the package's
    raise pytest.UsageError(
        f"the attnc package is not importable ({e}); run scripts/setup.sh") from e


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)


def ragged(lengths, heads, head_dim, dtype):
    """A random ragged tensor [sum(lengths), heads, head_dim] and its int32
    indptr."""
    indptr = torch.tensor([0] + list(torch.tensor(lengths).cumsum(0).tolist()),
                          dtype=torch.int32)
    return torch.randn(int(indptr[-1]), heads, head_dim).to(dtype), indptr
