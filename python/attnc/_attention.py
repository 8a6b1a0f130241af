"""attnc.compile() and the Attention it returns."""

import os
from typing import Any, Dict, Optional, Tuple, Union

import torch

from . import _C, _ops
from ._spec import SpecSource, load_spec

Tensor = torch.Tensor
ParamValue = Union[Tensor, float, int]

_FLOAT_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}
# What each call names its tensors after q (for _same_device).
_DENSE_NAMES = ("k", "v", "qo_indptr", "kv_indptr")
_PAGED_NAMES = ("k_cache", "v_cache", "block_table", "kv_lens", "qo_indptr")
_PADDED_NAMES = ("k", "v", "q_lens", "kv_lens")
_CASCADE_NAMES = ("k_cache", "v_cache", "block_table", "kv_lens", "group_indptr",
                  "prefix_block_table", "prefix_lens", "qo_indptr")


def compile(
    spec: SpecSource,
    kernel: Optional[str] = None,
    *,
    backend: str = "auto",
    path: str = "auto",
    tuning_db: Optional[Union[str, "os.PathLike[str]"]] = None,
    cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> "Attention":
    """Checks and lowers an attention spec; returns it as a callable.

    spec: DSL text (a str containing "attention") or the path of a .attn
        file (str or os.PathLike).
    kernel: the attention block to use when the file holds several.
    backend: "auto" (cuda when a GPU is present, else sim), "sim" or "cuda".
        Calls run where their tensors are: CPU tensors on sim, CUDA tensors
        on cuda; a backend other than "auto" refuses the other kind.
    path: "auto" (by shape: the decode variant for short queries), or
        "prefill", "packed", "decode" to force one.
    tuning_db: the tuning database consulted before the heuristics (what
        attnc.tune and `attnc tune` write); None: $ATTNC_TUNING_DB, else
        tuning.json in the kernel cache directory, as `attnc run` does.
    cache_dir: the kernel cache directory; None: $ATTNC_CACHE_DIR,
        $XDG_CACHE_HOME/attnc or ~/.cache/attnc.

    Raises attnc.SpecError (a ValueError) with the rendered diagnostics
    when the spec does not check; ValueError for an unknown backend or path;
    RuntimeError when the backend cannot start (backend="cuda" without a GPU).
    """
    text, name = load_spec(spec)
    cache = os.fspath(cache_dir) if cache_dir is not None else ""
    db = os.fspath(tuning_db) if tuning_db is not None else _C.default_tuning_db(cache)
    core = _C.compile(text, name, kernel or "", backend, path, db, cache)
    return Attention(core)


def _same_device(q: Tensor, names: Tuple[str, ...], tensors: Tuple[Any, ...],
                 param_names, param_values) -> None:
    """ValueError unless every tensor given is on q's device (`tensors`
    named by `names`, then the params). Checked before the op: torch would
    dispatch a call mixing devices by one of them (a meta tensor picks the
    fake implementation) instead of refusing it."""
    if not isinstance(q, Tensor):
        raise TypeError(f"q must be a torch.Tensor, not {type(q).__name__}")
    device = q.device
    for name, t in zip(names, tensors):
        if isinstance(t, Tensor) and t.device != device:
            _mixed_devices(name, t, device)
    for name, t in zip(param_names, param_values):
        if isinstance(t, Tensor) and t.device != device:
            _mixed_devices(f"param '{name}'", t, device)


def _mixed_devices(what: str, t: Tensor, device: torch.device):
    raise ValueError(f"{what} is on {t.device} but q is on {device}; every "
                     f"tensor of a call must be on one device")


class Attention:
    """A compiled attention spec. Call it on tensors:

        o, lse = attn(q, k, v, qo_indptr=..., kv_indptr=...)       # ragged dense
        o, lse = attn.paged(q, k_cache, v_cache, block_table, kv_lens)
        o, lse = attn.padded(q, k, v, q_lens=..., kv_lens=...)     # [B, H, S, D]

    Every call validates its tensors against the spec before anything runs
    (TypeError for a wrong dtype, ValueError for a wrong shape, index
    tensor, device or a missing param, with the runtime's message naming
    the tensor) and picks the kernel for the call's shape (tuning database,
    then heuristics). Calls go through torch.ops.attnc.* so torch.compile
    traces them without graph breaks. Inference only: no autograd.
    """

    def __init__(self, core: "_C.CompiledAttention"):
        self._core = core
        self._info = core.info
        self._handle = _ops.register(self)
        self._dtype = _FLOAT_DTYPES[self._info["dtype"]]
        self._value_dim = self._info["v_head_dim"]
        self._param_types = {
            name: (torch.float32 if t == "f32" else torch.int32)
            for name, (t, _) in self._info["params"].items()
        }

    @property
    def info(self) -> Dict[str, Any]:
        """The spec: name, dtype ("fp16" | "bf16"), kv_dtype (the K/V
        tensors' element type: "e4m3" | "e5m2" for an fp8 KV cache, else
        the same as dtype), head_dim, v_head_dim (the columns of V and O:
        head_dim unless the spec sets v_head_dim), q_heads,
        kv_heads, kv_cache ("dense" | "paged"), kv_layout ("separate" |
        "latent": V is the first v_head_dim columns of K; pass
        k_cache[..., :v_head_dim] as v_cache), page_size (None when dense),
        params {name: (dtype "f32" | "i32", shape)} with shape entries an
        extent or "batch", "q_heads", "kv_heads", "?" as declared, and the
        folded softmax scale."""
        return self._core.info

    @property
    def backend(self) -> str:
        """"sim" or "cuda": the backend compile() chose."""
        return self._core.backend

    @property
    def selection(self) -> str:
        """How the backend was chosen, in words."""
        return self._core.selection

    def kernel_for(self, batch: int, max_q_len: int, max_kv_len: int,
                   device: str = "cpu") -> Dict[str, Any]:
        """The kernel a call with `batch` sequences, the longest with
        `max_q_len` queries over `max_kv_len` keys, runs on `device`: path,
        block_q, block_kv, stages, warps, splits, tuned, why."""
        return self._core.kernel_for(batch, max_q_len, max_kv_len, device)

    def __repr__(self) -> str:
        i = self._info
        return (f"<attnc.Attention {i['name']}: {i['dtype']}, head_dim {i['head_dim']}, "
                f"{i['q_heads']}:{i['kv_heads']} heads, {i['kv_cache']} KV, "
                f"backend {self.backend}>")

    # -- public calls ------------------------------------------------------

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, *,
                 qo_indptr: Optional[Tensor] = None,
                 kv_indptr: Optional[Tensor] = None,
                 num_splits: int = 0,
                 **params: ParamValue) -> Tuple[Tensor, Tensor]:
        """Ragged dense attention.

        q: [total_q, q_heads, head_dim] in the spec's dtype (torch.float16
        / torch.bfloat16), k and v: [total_kv, kv_heads, head_dim] in its
        kv_dtype (the same, or torch.float8_e4m3fn / torch.float8_e5m2 or
        their uint8 bytes for an fp8 spec, whose k_scale / v_scale params
        dequantize them), contiguous. qo_indptr, kv_indptr: int32 [batch + 1], sequence b
        being rows indptr[b]:indptr[b+1]; None: one sequence covering the
        whole tensor. num_splits: split-KV count of a decode kernel (0: the
        tuned or automatic choice). params: the spec's `param`s by name,
        float32 / int32 tensors (a number for a scalar param).

        Returns (o, lse): o like q, lse float32 [total_q, q_heads], the
        natural-log sum of exponentials of each row's scores (-inf and o = 0
        for a row whose keys are all masked).
        """
        names, values = self._param_list(params, q)
        _same_device(q, _DENSE_NAMES, (k, v, qo_indptr, kv_indptr), params, values)
        return _ops.attention(
            self._handle, q, k, v, qo_indptr, kv_indptr, num_splits, names, values)

    def paged(self, q: Tensor, k_cache: Tensor, v_cache: Tensor,
              block_table: Tensor, kv_lens: Tensor, *,
              qo_indptr: Optional[Tensor] = None,
              num_splits: int = 0,
              **params: ParamValue) -> Tuple[Tensor, Tensor]:
        """Attention over a paged KV cache (a spec with kv_cache = paged).

        k_cache, v_cache: [num_pages, page_size, kv_heads, head_dim], each
        page dense; the pages may lie further apart, the same stride for
        both (K and V in one [num_pages, 2, page_size, kv_heads, head_dim]
        tensor: k_cache = kv[:, 0], v_cache = kv[:, 1]; a layer dimension
        inside the page dimension); block_table: int32 [batch, max_pages], sequence b's logical page i
        in physical page block_table[b][i]; kv_lens: int32 [batch].
        qo_indptr: int32 [batch + 1]; None: total_q / batch queries per
        sequence (one each for a decode step). Otherwise as __call__.
        """
        names, values = self._param_list(params, q)
        _same_device(q, _PAGED_NAMES, (k_cache, v_cache, block_table, kv_lens, qo_indptr),
                     params, values)
        return _ops.attention_paged(
            self._handle, q, k_cache, v_cache, block_table, kv_lens, qo_indptr,
            num_splits, names, values)

    def cascade(self, q: Tensor, k_cache: Tensor, v_cache: Tensor,
                block_table: Tensor, kv_lens: Tensor, group_indptr: Tensor,
                prefix_block_table: Tensor, prefix_lens: Tensor, *,
                qo_indptr: Optional[Tensor] = None,
                num_splits: int = 0,
                **params: ParamValue) -> Tuple[Tensor, Tensor]:
        """Cascade attention over a paged KV cache: the result of
        attn.paged(q, k_cache, v_cache, block_table, kv_lens), computed so
        that pages a group of sequences shares are read once per group.

        group_indptr: int32 [groups + 1], group g being sequences
        [group_indptr[g], group_indptr[g + 1]); prefix_block_table: int32
        [groups, max_prefix_pages], the pages every member of a group maps
        first; prefix_lens: int32 [groups], the keys they share (0 for a
        group of one). KVCache.cascade_tables gives all of them. The
        kernel runs once over each group's shared pages with all of its
        queries, once over each sequence's own keys, and merges the two by
        LSE (docs/runtime.md, "Cascade attention"). Otherwise as paged.
        """
        names, values = self._param_list(params, q)
        _same_device(q, _CASCADE_NAMES,
                     (k_cache, v_cache, block_table, kv_lens, group_indptr,
                      prefix_block_table, prefix_lens, qo_indptr), params, values)
        if qo_indptr is None:
            qo_indptr = self._even_rows(q, block_table)
        by_name = dict(zip(names.split(","), values)) if names else {}
        o, lse = self._outputs(q)
        stream, host = self._launch_context(
            q, {"qo_indptr": qo_indptr, "block_table": block_table,
                "kv_lens": kv_lens}, by_name)
        self._core.run_cascade(o, lse, q, k_cache, v_cache, block_table, kv_lens,
                               qo_indptr, group_indptr, prefix_block_table,
                               prefix_lens, num_splits, by_name, stream, host)
        return o, lse

    def padded(self, q: Tensor, k: Tensor, v: Tensor, *,
               q_lens: Optional[Tensor] = None,
               kv_lens: Optional[Tensor] = None,
               **params: ParamValue) -> Tuple[Tensor, Tensor]:
        """Attention in the model layout.

        q: [B, q_heads, Sq, head_dim], k and v: [B, kv_heads, Skv, head_dim];
        q_lens, kv_lens: int32 [B] (None: every sequence full), the valid
        rows being the first q_lens[b] / kv_lens[b] of each. The spec's
        masks see positions within each sequence, queries bottom-right
        aligned to its keys.

        Returns o [B, q_heads, Sq, head_dim] and lse [B, q_heads, Sq];
        rows past q_lens are 0 in o and -inf in lse. The tensors are
        gathered into the ragged layout and back with torch (copies), so
        any strides are accepted.
        """
        names, values = self._param_list(params, q)
        _same_device(q, _PADDED_NAMES, (k, v, q_lens, kv_lens), params, values)
        return _ops.attention_padded(
            self._handle, q, k, v, q_lens, kv_lens, names, values)

    # -- implementations (called by the torch.library ops) ---------------

    def _param_list(self, params: Dict[str, ParamValue], q: Tensor):
        """Params as the ops take them: names joined with ',' and tensors;
        a number becomes a scalar tensor of the declared type on q's device."""
        if not params:
            return "", []
        values = []
        for name, value in params.items():
            if not isinstance(value, torch.Tensor):
                dtype = self._param_types.get(name)
                if dtype is None:
                    raise ValueError(
                        f"unknown param '{name}': attention '{self._info['name']}' "
                        f"declares {', '.join(self._param_types) or 'none'}")
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError(f"param '{name}' must be a tensor or a number, "
                                    f"not {type(value).__name__}")
                value = torch.tensor(value, dtype=dtype,
                                     device=q.device if isinstance(q, Tensor) else None)
            values.append(value)
        return ",".join(params), values

    def _outputs(self, q: Tensor) -> Tuple[Tensor, Tensor]:
        """Uninitialised o like q (v_head_dim columns) and lse float32
        [rows, heads] (empty_like is the cheapest torch allocation from
        Python; o may copy q's strides only where q is not contiguous, which
        the call refuses)."""
        if self._value_dim == self._info["head_dim"]:
            o = torch.empty_like(q)
        else:
            o = q.new_empty(q.shape[:-1] + (self._value_dim,))
        shape = q.shape
        if len(shape) == 3:  # what the call accepts; ints parse faster than a Size
            lse = torch.empty(shape[0], shape[1], dtype=torch.float32, device=q.device)
        else:
            lse = torch.empty(shape[:2], dtype=torch.float32, device=q.device)
        return o, lse

    @staticmethod
    def _one_sequence(rows: int, device: torch.device) -> Tensor:
        return torch.tensor([0, rows], dtype=torch.int32, device=device)

    @staticmethod
    def _launch_context(q: Tensor, indices: Dict[str, Optional[Tensor]],
                        params: Dict[str, Tensor]):
        """(stream, host copies) for the C++ call: nothing on the CPU; on a
        GPU torch's current stream and host copies of the index tensors and
        int32 params (kernel choice and validation read them; the copy
        waits for the stream, so they are final)."""
        if not q.is_cuda:
            return 0, {}
        host = {name: t.cpu() for name, t in indices.items() if t is not None}
        host.update({"param:" + name: t.cpu() for name, t in params.items()
                     if t.dtype == torch.int32})
        return torch.cuda.current_stream(q.device).cuda_stream, host

    def _dense(self, q, k, v, qo_indptr, kv_indptr, num_splits, params):
        if qo_indptr is None:
            qo_indptr = self._one_sequence(q.shape[0] if q.dim() else 0, q.device)
        if kv_indptr is None:
            kv_indptr = self._one_sequence(k.shape[0] if k.dim() else 0, k.device)
        o, lse = self._outputs(q)
        stream, host = self._launch_context(
            q, {"qo_indptr": qo_indptr, "kv_indptr": kv_indptr}, params)
        self._core.run_dense(o, lse, q, k, v, qo_indptr, kv_indptr, num_splits, params,
                             stream, host)
        return o, lse

    @staticmethod
    def _even_rows(q: Tensor, block_table: Tensor) -> Tensor:
        """qo_indptr giving each sequence of block_table as many of q's rows."""
        batch = block_table.shape[0] if block_table.dim() else 0
        rows = q.shape[0] if q.dim() else 0
        if batch == 0 or rows % batch:
            raise ValueError(
                f"qo_indptr=None needs q's {rows} rows to split evenly over the "
                f"{batch} sequences of block_table; pass qo_indptr")
        return torch.arange(0, rows + 1, rows // batch, dtype=torch.int32,
                            device=q.device)

    def _paged(self, q, k_cache, v_cache, block_table, kv_lens, qo_indptr,
               num_splits, params):
        if qo_indptr is None:
            qo_indptr = self._even_rows(q, block_table)
        o, lse = self._outputs(q)
        stream, host = self._launch_context(
            q, {"qo_indptr": qo_indptr, "block_table": block_table,
                "kv_lens": kv_lens}, params)
        self._core.run_paged(o, lse, q, k_cache, v_cache, block_table, kv_lens, qo_indptr,
                             num_splits, params, stream, host)
        return o, lse

    def _padded(self, q, k, v, q_lens, kv_lens, params):
        for name, t in (("q", q), ("k", k), ("v", v)):
            if t.dim() != 4:
                raise ValueError(f"{name} has shape {list(t.shape)}; attn.padded takes "
                                 f"[batch, heads, seq_len, head_dim]")
        batch, _, sq, _ = q.shape
        skv = k.shape[2]
        if k.shape[0] != batch or v.shape[0] != batch or v.shape[2] != skv:
            raise ValueError(f"q {list(q.shape)}, k {list(k.shape)} and v {list(v.shape)} "
                             f"must share the batch, k and v the sequence length")
        q_rows = self._valid_rows("q_lens", q_lens, batch, sq, q.device)
        kv_rows = self._valid_rows("kv_lens", kv_lens, batch, skv, q.device)
        # [B, H, S, D] -> [B, S, H, D] -> the valid rows, sequence by sequence.
        qt, kt, vt = (t.transpose(1, 2) for t in (q, k, v))
        if q_rows is None:
            qr = qt.reshape(batch * sq, *qt.shape[2:])
        else:
            qr = qt[q_rows]
        if kv_rows is None:
            kr = kt.reshape(batch * skv, *kt.shape[2:])
            vr = vt.reshape(batch * skv, *vt.shape[2:])
        else:
            kr, vr = kt[kv_rows], vt[kv_rows]
        qo = self._indptr(q_lens, batch, sq, q.device)
        kv = self._indptr(kv_lens, batch, skv, q.device)
        o_rows, lse_rows = self._dense(qr.contiguous(), kr.contiguous(), vr.contiguous(),
                                       qo, kv, 0, params)
        if q_rows is None:
            o = o_rows.view(batch, sq, *o_rows.shape[1:])
            lse = lse_rows.view(batch, sq, -1)
        else:
            o = q.new_zeros((batch, sq) + tuple(o_rows.shape[1:]))
            lse = torch.full((batch, sq, lse_rows.shape[1]), float("-inf"),
                             dtype=torch.float32, device=q.device)
            o[q_rows] = o_rows
            lse[q_rows] = lse_rows
        return o.transpose(1, 2).contiguous(), lse.transpose(1, 2).contiguous()

    @staticmethod
    def _valid_rows(name, lens, batch, length, device):
        """None when every row is valid, else the [batch, length] mask of the
        first lens[b] rows of each sequence."""
        if lens is None:
            return None
        if lens.dtype != torch.int32:
            raise TypeError(f"{name} is {lens.dtype}; it must be int32 [batch]")
        if lens.shape != (batch,):
            raise ValueError(f"{name} has shape {list(lens.shape)}; expected [{batch}]")
        if lens.device != device:
            raise ValueError(f"{name} is on {lens.device} but q is on {device}")
        if bool(((lens < 0) | (lens > length)).any()):
            raise ValueError(f"{name} must lie in [0, {length}], got {lens.tolist()}")
        return torch.arange(length, device=device)[None, :] < lens[:, None]

    @staticmethod
    def _indptr(lens, batch, length, device):
        """int32 [batch + 1] offsets of sequences of `lens` rows (all
        `length` when None)."""
        if lens is None:
            return torch.arange(batch + 1, dtype=torch.int32, device=device) * length
        zero = torch.zeros(1, dtype=torch.int32, device=device)
        return torch.cat([zero, torch.cumsum(lens, 0, dtype=torch.int32)])
