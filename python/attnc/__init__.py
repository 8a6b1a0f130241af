"""attnc: attention variants written in a small DSL, compiled to kernels.

    import attnc, torch
    attn = attnc.compile("examples/llama3_gqa_causal.attn")
    o, lse = attn(q, k, v, qo_indptr=qo, kv_indptr=kv)

CPU tensors run on the sim backend (the CUDA source executed by attnc's
SIMT emulator), CUDA tensors on the GPU. See docs/python.md.
"""

import os as _os

# The sim backend compiles kernels against the device library and emulator
# headers at run time; use the copy installed with this package (the one
# its emulator was built with) unless the environment names another.
_include = _os.path.join(_os.path.dirname(__file__), "include", "runtime", "device")
if "ATTNC_DEVICE_DIR" not in _os.environ and _os.path.isdir(_include):
    _os.environ["ATTNC_DEVICE_DIR"] = _include

# Sim kernels call the emulator in the process that loads them: its library
# goes into the global symbol scope before _C (which links it) is loaded.
import ctypes as _ctypes  # noqa: E402

_ctypes.CDLL(_os.path.join(_os.path.dirname(__file__), "libattnc_sim.so"),
             mode=_os.RTLD_GLOBAL | _os.RTLD_NOW)

from . import _C  # noqa: E402
from ._attention import Attention, compile  # noqa: E402
from ._kvcache import AddedSequence, CascadeTables, KVCache  # noqa: E402
from ._tuning import read_tuning_db, tune  # noqa: E402

SpecError = _C.SpecError
SpecError.__doc__ = (
    "A spec that does not check (a ValueError); the message holds the "
    "rendered diagnostics: file:line:column, the source line and a caret."
)
PoolExhaustedError = _C.PoolExhaustedError
PoolExhaustedError.__doc__ = (
    "The KV cache has too few free or evictable pages for the operation "
    "(a RuntimeError); nothing was changed."
)

__version__ = "0.1.0"

__all__ = [
    "AddedSequence",
    "CascadeTables",
    "Attention",
    "KVCache",
    "PoolExhaustedError",
    "SpecError",
    "compile",
    "read_tuning_db",
    "tune",
]
