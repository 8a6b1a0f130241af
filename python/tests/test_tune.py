"""attnc.tune over a tiny space on sim, and compile() reading its winner."""

import pytest

import attnc
from attnc import _C

SPEC = """
attention tuned {
  dtype = fp16; head_dim = 32; q_heads = 2; kv_heads = 2
  mask = kv <= q
}
"""


def test_tune_stores_the_winner_and_compile_uses_it(tmp_path):
    db = tmp_path / "tuning.json"
    steps = []
    results = attnc.tune(SPEC, [(1, 8, 24)], db, backend="sim", paths=["prefill"],
                         tiles=[(16, 16), (16, 32)], stages=[2], rows_per_warp=[16],
                         warmup=0, repeat=1, progress=steps.append)
    assert len(results) == 1 and results[0]["shape"] == (1, 8, 24)
    assert results[0]["bucket"] == _C.shape_bucket(1, 8, 24) == "b1-q8-kv32"
    ranking = results[0]["ranking"]
    assert {(r["block_q"], r["block_kv"]) for r in ranking} == {(16, 16), (16, 32)}
    assert ranking[0]["ms"] <= ranking[1]["ms"] and len(steps) >= 4
    best = results[0]["best"]

    entries = attnc.read_tuning_db(db)
    assert entries == [best]
    assert best["spec"] == _C.spec_fingerprint(SPEC, "tuned") and best["kernel"] == "tuned"
    assert best["device"].startswith("sim")

    tuned = attnc.compile(SPEC, tuning_db=db)
    pick = tuned.kernel_for(1, 8, 24)
    assert pick["tuned"] and pick["path"] == "prefill"
    assert (pick["block_q"], pick["block_kv"]) == (best["block_q"], best["block_kv"])
    # Another bucket has no entry: the heuristics choose.
    assert not tuned.kernel_for(4, 100, 300)["tuned"]


def test_malformed_database(tmp_path):
    db = tmp_path / "bad.json"
    db.write_text('[\n  {"spec": 1,\n')
    with pytest.raises(OSError, match="bad.json:"):
        attnc.read_tuning_db(db)
    with pytest.raises(OSError, match="bad.json:"):
        attnc.compile(SPEC, tuning_db=db)
