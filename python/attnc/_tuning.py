"""attnc.tune(): `attnc tune` as a function, and the tuning database."""

import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from . import _C
from ._spec import SpecSource, load_spec

PathLike = Union[str, "os.PathLike[str]"]


def tune(
    spec: SpecSource,
    shapes: Sequence[Tuple[int, int, int]],
    tuning_db: Optional[PathLike] = None,
    *,
    kernel: Optional[str] = None,
    backend: str = "auto",
    cache_dir: Optional[PathLike] = None,
    paths: Sequence[str] = (),
    tiles: Sequence[Tuple[int, int]] = (),
    stages: Sequence[int] = (),
    rows_per_warp: Sequence[int] = (),
    splits: Sequence[int] = (),
    warmup: int = 1,
    repeat: int = 3,
    progress: Optional[Callable[[str], None]] = None,
) -> List[Dict]:
    """Times a spec's configurations on each (batch, q_len, kv_len) shape and
    stores each shape's winner in the tuning database, which compile()
    consults (docs/tuning.md).

    The space: paths ("prefill", "packed", "decode"), tiles ((Br, Bc)
    pairs; default 16..128 squared), stages (1, 2), rows_per_warp (16, 32),
    splits (decode split counts, 0 = automatic); an empty sequence means
    the default. tuning_db None: $ATTNC_TUNING_DB, else tuning.json in the
    kernel cache directory. progress is called with a line per compiled
    candidate and per timed run. Under sim the timings are the emulator's
    CPU time.

    Returns one dict per shape: shape, bucket, best (the stored entry) and
    ranking (every configuration timed, best first: path, block_q,
    block_kv, stages, warps, splits, ms, min_ms, max_ms, describe).
    """
    text, name = load_spec(spec)
    cache = os.fspath(cache_dir) if cache_dir is not None else ""
    db = os.fspath(tuning_db) if tuning_db is not None else _C.default_tuning_db(cache)
    if os.path.dirname(db):
        os.makedirs(os.path.dirname(db), exist_ok=True)
    return _C.tune(text, name, kernel or "", [tuple(s) for s in shapes], db, backend,
                   cache, list(paths), [tuple(t) for t in tiles], list(stages),
                   list(rows_per_warp), list(splits), warmup, repeat, progress)


def read_tuning_db(path: Optional[PathLike] = None) -> List[Dict]:
    """The entries of a tuning database (None: the default one) as dicts:
    spec, kernel, device, bucket, path, block_q, block_kv, stages, warps,
    splits, ms. A missing file is an empty database; a malformed one is an
    OSError naming the line and column."""
    return _C.read_tuning_db(os.fspath(path) if path is not None else _C.default_tuning_db(""))
