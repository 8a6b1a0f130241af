"""Where a spec comes from: DSL text, or the path of a .attn file."""

import os
from typing import Tuple, Union

SpecSource = Union[str, "os.PathLike[str]"]


def load_spec(spec: SpecSource) -> Tuple[str, str]:
    """(text, name) of `spec`: a str holding "attention" is DSL text (named
    "<string>" in diagnostics); any other str or os.PathLike is the path of
    a .attn file, read here (FileNotFoundError and friends propagate)."""
    if isinstance(spec, str) and "attention" in spec:
        return spec, "<string>"
    if not isinstance(spec, (str, os.PathLike)):
        raise TypeError(
            f"spec must be DSL text or the path of a .attn file, not {type(spec).__name__}"
        )
    path = os.fspath(spec)
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read(), path
