"""Bad calls and bad specs: the right exception, the runtime's message
naming the tensor, and nothing written.

The public calls allocate their outputs, so "nothing written" is checked on
the native call underneath them (Attention._core.run_dense), which every
public call goes through, with outputs filled with a sentinel.
"""

import pathlib

import pytest
import torch

import attnc

SPEC = """
attention errs {
  dtype = fp16; head_dim = 32; q_heads = 4; kv_heads = 2
  param slope : f32[q_heads]
  score = score - slope[h] * (q - kv)
  mask = kv <= q
}
"""


@pytest.fixture(scope="module")
def attn():
    return attnc.compile(SPEC)


def inputs(q_dtype=torch.float16, k_heads=2):
    q = torch.randn(10, 4, 32).to(q_dtype)
    k = torch.randn(12, k_heads, 32).half()
    v = torch.randn(12, 2, 32).half()
    qo = torch.tensor([0, 4, 10], dtype=torch.int32)
    kv = torch.tensor([0, 6, 12], dtype=torch.int32)
    return q, k, v, qo, kv, {"slope": torch.ones(4)}


def native_call_writes_nothing(attn, error, match, q, k, v, qo, kv, params):
    o = torch.full((10, 4, 32), 7.0).half()
    lse = torch.full((10, 4), 3.0)
    with pytest.raises(error, match=match):
        attn._core.run_dense(o, lse, q, k, v, qo, kv, 0, params, 0, {})
    assert (o == 7.0).all() and (lse == 3.0).all()


def check(attn, error, match, q, k, v, qo, kv, params):
    with pytest.raises(error, match=match):
        attn(q, k, v, qo_indptr=qo, kv_indptr=kv, **params)
    native_call_writes_nothing(attn, error, match, q, k, v, qo, kv, params)


def test_wrong_dtype(attn):
    check(attn, TypeError, r"^q is f32, but kernel '\w+' takes f16", *inputs(torch.float32))


def test_unsupported_dtype(attn):
    check(attn, TypeError, "q is float64; attnc takes", *inputs(torch.float64))


def test_wrong_shape(attn):
    check(attn, ValueError, r"^k has shape \[12, 3, 32\]", *inputs(k_heads=3))


def test_bad_indptr(attn):
    q, k, v, qo, kv, params = inputs()
    check(attn, ValueError, "qo_indptr", q, k, v, torch.tensor([0, 7, 4], dtype=torch.int32),
          kv, params)


def test_index_tensor_dtype(attn):
    q, k, v, qo, kv, params = inputs()
    check(attn, TypeError, "kv_indptr is i64", q, k, v, qo, kv.long(), params)


def test_missing_param(attn):
    q, k, v, qo, kv, _ = inputs()
    check(attn, ValueError, "missing param 'slope'", q, k, v, qo, kv, {})


def test_param_dtype_and_shape(attn):
    q, k, v, qo, kv, _ = inputs()
    check(attn, TypeError, "param 'slope' is i32", q, k, v, qo, kv,
          {"slope": torch.ones(4, dtype=torch.int32)})
    check(attn, ValueError, "slope", q, k, v, qo, kv, {"slope": torch.ones(5)})


def test_unknown_param(attn):
    q, k, v, qo, kv, params = inputs()
    check(attn, ValueError, "unknown param 'slop'", q, k, v, qo, kv,
          {**params, "slop": torch.ones(4)})


def test_not_contiguous(attn):
    q, k, v, qo, kv, params = inputs()
    k = torch.randn(2, 12, 32).half().transpose(0, 1)
    check(attn, ValueError, "k is not contiguous", q, k, v, qo, kv, params)


def test_misaligned_kv(attn):
    # A view 4 halves (8 bytes) into its storage: contiguous, but K rows are
    # copied in 16-byte chunks.
    q, k, v, qo, kv, params = inputs()
    k = torch.randn(12 * 2 * 32 + 4).half()[4:].view(12, 2, 32)
    check(attn, ValueError, r"^k: data at 0x[0-9a-f]+ is not 16-byte aligned", q, k, v, qo,
          kv, params)


def test_mismatched_devices(attn):
    # No second real device here: a meta tensor stands in for one.
    q, k, v, qo, kv, params = inputs()
    with pytest.raises(ValueError, match="k is on meta but q is on cpu"):
        attn(q, k.to("meta"), v, qo_indptr=qo, kv_indptr=kv, **params)
    with pytest.raises(ValueError, match="param 'slope' is on meta"):
        attn(q, k, v, qo_indptr=qo, kv_indptr=kv, slope=params["slope"].to("meta"))


def test_errors_after_a_good_call_of_the_same_shape():
    # A shape seen before skips the binding's own check (its kernel is
    # chosen already) and relies on Runtime::run's: same exceptions,
    # messages, and nothing written.
    attn = attnc.compile(SPEC)
    good = inputs()
    attn(*good[:3], qo_indptr=good[3], kv_indptr=good[4], **good[5])
    check(attn, TypeError, r"^q is f32, but kernel '\w+' takes f16", *inputs(torch.float32))
    check(attn, ValueError, r"^k has shape \[12, 3, 32\]", *inputs(k_heads=3))
    q, k, v, qo, kv, params = inputs()
    check(attn, TypeError, "kv_indptr is i64", q, k, v, qo, kv.long(), params)
    check(attn, ValueError, "missing param 'slope'", q, k, v, qo, kv, {})
    check(attn, ValueError, "qo_indptr", q, k, v, torch.tensor([0, 6, 12], dtype=torch.int32),
          kv, params)


def test_spec_error_has_line_and_column():
    bad = "attention t {\n  dtype = fp32\n  head_dim = 32; q_heads = 1; kv_heads = 1\n}\n"
    with pytest.raises(attnc.SpecError) as e:
        attnc.compile(bad)
    assert isinstance(e.value, ValueError)
    message = str(e.value)
    assert "<string>:2:11: error: expected 'fp16' or 'bf16' after 'dtype =', found 'fp32'" in message
    assert "^" in message  # the caret under the column


def test_spec_file_errors_name_the_file(tmp_path):
    path = tmp_path / "two.attn"
    block = "attention {} {{\n  dtype = fp16; head_dim = 32; q_heads = 2; kv_heads = 1\n}}\n"
    path.write_text(block.format("a") + block.format("b"))
    with pytest.raises(attnc.SpecError, match="holds several attention blocks .a, b.; pick one with kernel="):
        attnc.compile(path)
    with pytest.raises(attnc.SpecError, match="no attention block named 'c'"):
        attnc.compile(str(path), "c")
    assert attnc.compile(pathlib.Path(path), "b").info["name"] == "b"
    path.write_text("attention a {\n  dtype = fp16; head_dim = 30; q_heads = 2; kv_heads = 1\n}\n")
    with pytest.raises(attnc.SpecError, match=str(path) + r":2:\d+: error: head_dim must be a multiple of "):
        attnc.compile(path)
    with pytest.raises(FileNotFoundError):
        attnc.compile(tmp_path / "missing.attn")


def test_bad_options():
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        attnc.compile(SPEC, backend="gpu")
    with pytest.raises(ValueError, match="unknown path 'fast'"):
        attnc.compile(SPEC, path="fast")


def test_cuda_backend_and_cpu_tensors():
    if torch.cuda.is_available():
        # backend="cuda" runs CUDA tensors only: CPU tensors are refused.
        cuda = attnc.compile(SPEC, backend="cuda")
        q, k, v, qo, kv, params = inputs()
        with pytest.raises(ValueError, match="compiled with backend='cuda'"):
            cuda(q, k, v, qo_indptr=qo, kv_indptr=kv, **params)
    else:
        with pytest.raises(RuntimeError, match="CUDA|libcuda"):
            attnc.compile(SPEC, backend="cuda")
