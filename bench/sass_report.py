#!/usr/bin/env python3
"""Static SASS report for attnc kernels (docs/sass-report.md).

Disassembles a cubin with nvdisasm, finds each kernel's main KV loop (the
innermost loop that holds HMMA instructions), walks one steady-state
iteration of it and counts the instructions it issues by class: HMMA, LDSM,
LDGSTS, LDG, LDS, STS, MUFU, FP32, INT, CVT, SHFL, BAR, LDL/STL, control
and other; then non-MMA instructions per HMMA, shared-memory bytes read per
HMMA, registers, shared memory and CTAs per SM. Budgets (--budget, --budgets)
turn the report into a regression check: exit status 1 names every kernel,
metric, value and budget that failed.

  bench/sass_report.py k.cubin [--cuda k.cu]                  # a cubin
  bench/sass_report.py --spec examples/alibi.attn --arch sm_80,sm_90
  bench/sass_report.py --spec examples/paged_decode.attn -- --pack-gqa --split-kv
  bench/sass_report.py --spec examples/*.attn --budgets bench/sass_budgets.txt

Only the Python standard library is used.
"""

import argparse
import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SETUP_HINT = ("run `bash scripts/setup.sh` (it installs nvdisasm from PyPI, package "
              "nvidia-cuda-nvdisasm, into .cache/attnc-tools when the CUDA toolkit lacks it), "
              "or set NVDISASM=/path/to/nvdisasm")

# Per-SM limits used for CTAs per SM (CUDA occupancy calculator values).
# smem: shared memory per SM available to CTAs; reserved: per-CTA system use.
ARCH_LIMITS = {
    80: dict(regs=65536, smem=167936, reserved=1024, ctas=32, threads=2048),
    86: dict(regs=65536, smem=102400, reserved=1024, ctas=16, threads=1536),
    87: dict(regs=65536, smem=167936, reserved=1024, ctas=16, threads=1536),
    89: dict(regs=65536, smem=102400, reserved=1024, ctas=24, threads=1536),
    90: dict(regs=65536, smem=233472, reserved=1024, ctas=32, threads=2048),
}
REG_ALLOC_UNIT = 256      # registers are allocated per warp in units of 256
SMEM_ALLOC_UNIT = 128     # shared memory is allocated per CTA in units of 128 bytes
SUBPARTITIONS = 4         # the register file is split over 4 SM sub-partitions

# Columns of the table, in order: (json key, header).
COUNT_COLUMNS = [
    ("hmma", "HMMA"), ("ldsm", "LDSM"), ("ldgsts", "LDGSTS"), ("ldg", "LDG"),
    ("lds", "LDS"), ("sts", "STS"), ("mufu", "MUFU"), ("fp32", "FP32"),
    ("int", "INT"), ("cvt", "CVT"), ("shfl", "SHFL"), ("bar", "BAR"),
    ("ldl_stl", "LDL/STL"), ("ctrl", "CTRL"), ("other", "OTHER"), ("total", "total"),
]

# ---------------------------------------------------------------- tools


def _exe(path):
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


def _python_package_dirs():
    """Directories of the `nvidia` namespace package (PyPI's nvidia-cuda-* wheels)
    visible to this interpreter, plus the usual site-packages folders."""
    dirs = []
    try:
        import importlib.util
        spec = importlib.util.find_spec("nvidia")
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(spec.submodule_search_locations)
    except (ImportError, ValueError):
        pass
    try:
        import site
        roots = list(site.getsitepackages()) + [site.getusersitepackages()]
    except AttributeError:  # virtualenvs with an old site module
        roots = []
    roots += [p for p in sys.path if p.endswith("-packages")]
    for root in roots:
        d = os.path.join(root, "nvidia")
        if os.path.isdir(d):
            dirs.append(d)
    return dirs


def find_tool(name):
    """Finds nvdisasm: $NVDISASM, PATH, $CUDA_HOME/bin, /usr/local/cuda/bin,
    $ATTNC_TOOLS_DIR or <repo>/.cache/attnc-tools (where scripts/setup.sh
    unpacks the PyPI wheel with pip --target), then the nvidia-cuda-nvdisasm
    wheel in this Python's site-packages (nvidia/*/bin/nvdisasm)."""
    env = os.environ.get(name.upper())
    if env:
        return _exe(env) or shutil.which(env)
    found = shutil.which(name)
    if found:
        return found
    candidates = []
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home:
            candidates.append(os.path.join(home, "bin", name))
    tool_roots = [os.environ.get("ATTNC_TOOLS_DIR"), os.path.join(REPO, ".cache", "attnc-tools")]
    for root in tool_roots:
        if root:
            candidates += sorted(glob.glob(os.path.join(root, "nvidia", "*", "bin", name)))
            candidates.append(os.path.join(root, "bin", name))
    for d in _python_package_dirs():
        candidates += sorted(glob.glob(os.path.join(d, "*", "bin", name)))
    for c in candidates:
        if _exe(c):
            return c
    return None


def tool_version(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown"
    m = re.search(r"release ([0-9.]+), V([0-9.]+)", out)
    return m.group(2) if m else out.strip().splitlines()[-1] if out.strip() else "unknown"


def find_attnc(explicit):
    if explicit:
        return explicit
    found = shutil.which("attnc")
    if found:
        return found
    for c in (os.path.join(REPO, "build", "bin", "attnc"),):
        if _exe(c):
            return c
    sys.exit("sass_report: attnc not found: put build/bin on PATH or pass --attnc")


# ---------------------------------------------------------------- ELF


class Cubin:
    """The few facts the report needs from a cubin's ELF: kernels, register
    counts (EIATTR_REGCOUNT in .nv.info, else sh_info >> 24 of .text.<k>),
    static shared memory (.nv.shared.<k>), frame size, and the thread count
    of __launch_bounds__ (EIATTR_MAX_THREADS in .nv.info.<k>)."""

    EIATTR_MAX_THREADS = 0x05
    EIATTR_REQNTID = 0x10
    EIATTR_FRAME_SIZE = 0x11
    EIATTR_REGCOUNT = 0x2F

    def __init__(self, path):
        with open(path, "rb") as f:
            d = f.read()
        if d[:4] != b"\x7fELF" or d[4] != 2:
            raise ValueError(f"{path}: not a 64-bit ELF cubin")
        self.path = path
        shoff = struct.unpack_from("<Q", d, 0x28)[0]
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
        secs = []
        for i in range(shnum):
            (name, typ, _flags, _addr, off, size, link, info, _al, entsize) = struct.unpack_from(
                "<IIQQQQIIQQ", d, shoff + i * shentsize)
            secs.append(dict(name=name, type=typ, off=off, size=size, link=link, info=info,
                             entsize=entsize))
        stroff = secs[shstrndx]["off"]

        def cstr(base, o):
            return d[base + o:d.index(b"\0", base + o)].decode()

        for sec in secs:
            sec["name"] = cstr(stroff, sec["name"])
        self.sections = {sec["name"]: sec for sec in secs}
        symbols = []
        for sec in secs:
            if sec["type"] == 2:  # SHT_SYMTAB
                strbase = secs[sec["link"]]["off"]
                for o in range(sec["off"], sec["off"] + sec["size"], sec["entsize"] or 24):
                    symbols.append(cstr(strbase, struct.unpack_from("<I", d, o)[0]))
        self.kernels = {}
        for name, sec in self.sections.items():
            if name.startswith(".text."):
                k = name[len(".text."):]
                shared = self.sections.get(".nv.shared." + k)
                self.kernels[k] = dict(registers=(sec["info"] >> 24) or None,
                                       static_smem=shared["size"] if shared else 0,
                                       max_threads=None, frame_size=0)

        def attributes(sec):
            p, end = sec["off"], sec["off"] + sec["size"]
            while p + 4 <= end:
                fmt, attr = d[p], d[p + 1]
                if fmt == 0x04:  # EIFMT_SVAL: u16 length, then data
                    ln = struct.unpack_from("<H", d, p + 2)[0]
                    yield attr, d[p + 4:p + 4 + ln]
                    p += 4 + ln
                else:
                    yield attr, d[p + 2:p + 4]
                    p += 4

        for name, sec in self.sections.items():
            if name == ".nv.info":
                for attr, val in attributes(sec):
                    if attr in (self.EIATTR_REGCOUNT, self.EIATTR_FRAME_SIZE) and len(val) >= 8:
                        sym, v = struct.unpack_from("<II", val)
                        k = symbols[sym] if sym < len(symbols) else None
                        if k in self.kernels:
                            key = "registers" if attr == self.EIATTR_REGCOUNT else "frame_size"
                            self.kernels[k][key] = v
            elif name.startswith(".nv.info.") and name[len(".nv.info."):] in self.kernels:
                k = name[len(".nv.info."):]
                for attr, val in attributes(sec):
                    if attr in (self.EIATTR_MAX_THREADS, self.EIATTR_REQNTID) and len(val) >= 12:
                        x, y, z = struct.unpack_from("<III", val)
                        self.kernels[k]["max_threads"] = x * y * z
        self.reserved_smem_symbol = ".nv.shared.reserved.0" in self.sections or \
            any(s.startswith(".nv.reservedSmem") for s in symbols)


# ---------------------------------------------------------------- SASS parsing

INSTR_RE = re.compile(r"^\s*/\*([0-9a-fA-F]+)\*/\s*(.*?)\s*;\s*(?://.*)?$")
LABEL_RE = re.compile(r"^\s*([.$A-Za-z_][\w.$]*):\s*$")
PRED_RE = re.compile(r"^@(!?)(U?P[T0-9])\s+")
TARGET_RE = re.compile(r"`\(([^)]+)\)|\b(0x[0-9a-fA-F]+)\s*$")
PRED_OPERAND_RE = re.compile(r"(?:^|,\s*)!?U?P[0-6]\b")


class Instr:
    __slots__ = ("addr", "pred", "op", "base", "operands", "text", "never")

    def __init__(self, addr, body):
        self.addr = addr
        self.text = body
        self.pred = None
        m = PRED_RE.match(body)
        if m:
            self.pred = m.group(1) + m.group(2)
            body = body[m.end():]
        parts = body.split(None, 1)
        self.op = parts[0] if parts else ""
        self.operands = parts[1] if len(parts) > 1 else ""
        self.base = self.op.split(".")[0]
        # `@!PT X` never executes (the compiler pads LDGSTS with `@!PT LDS RZ, [RZ]`,
        # and puts `@!UPT UIADD3 URZ, ...` between HMMAs); it still takes an issue
        # slot, so it is counted, as OTHER.
        self.never = self.pred in ("!PT", "!UPT")


def parse_sass(text):
    """`nvdisasm -c` output -> ({kernel: (instrs, labels)}, target such as 'sm_80');
    labels maps a label name to the address of the instruction after it."""
    kernels = {}
    cur = None
    pending = []
    target = None
    for line in text.splitlines():
        if line.strip().startswith(".target"):
            target = line.split()[1]
        m = re.match(r"^\s*\.section\s+\.text\.([^,\s]+)", line)
        if m:
            cur = m.group(1)
            kernels[cur] = ([], {})
            pending = []
            continue
        if cur is None:
            continue
        instrs, labels = kernels[cur]
        m = LABEL_RE.match(line)
        if m:
            pending.append(m.group(1))
            continue
        m = INSTR_RE.match(line)
        if m:
            body = m.group(2).strip()
            if body.startswith("{"):
                body = body[1:].strip()
            if not body:
                continue
            ins = Instr(int(m.group(1), 16), body)
            for lab in pending:
                labels[lab] = ins.addr
            pending = []
            instrs.append(ins)
    return kernels, target


def branch_info(ins, labels):
    """(kind, target address or None, conditional) for control-flow instructions;
    kind in {'bra', 'exit', 'ret', 'indirect', 'call'}; None otherwise."""
    b = ins.base
    if ins.never:
        return None
    cond = ins.pred is not None and ins.pred != "PT"
    if b in ("BRA", "JMP"):
        ops = ins.operands
        m = TARGET_RE.search(ops)
        tgt = None
        if m:
            tgt = labels.get(m.group(1)) if m.group(1) else int(m.group(2), 16)
        rest = ops[:m.start()] if m else ops
        if PRED_OPERAND_RE.search(rest) or ".DIV" in ins.op or ".CONV" in ins.op:
            cond = True
        return ("bra", tgt, cond)
    if b == "CALL":
        # A call returns (fall-through), and its target is a successor too:
        # ptxas also uses `@P0 CALL.REL.NOINC` as a jump (the KV loop's exit in
        # the d = 256 kernels); a subroutine ends in RET, so no walk through it
        # comes back into the loop.
        m = TARGET_RE.search(ins.operands)
        tgt = labels.get(m.group(1)) if m and m.group(1) else None
        return ("call", tgt, True)
    if b in ("EXIT", "KILL"):
        return ("exit", None, cond)
    if b in ("RET",):
        return ("ret", None, cond)
    if b in ("BRX", "JMX"):
        return ("indirect", None, cond)
    if b == "BPT" and "TRAP" in ins.op:
        return ("exit", None, cond)
    return None


class Block:
    __slots__ = ("id", "instrs", "succ", "pred", "kind")

    def __init__(self, bid):
        self.id = bid
        self.instrs = []
        self.succ = []   # list of (block id, edge kind: 'taken' | 'fall')
        self.pred = []
        self.kind = None


def build_cfg(instrs, labels):
    if not instrs:
        return []
    addr_index = {ins.addr: i for i, ins in enumerate(instrs)}
    leaders = {0}
    for i, ins in enumerate(instrs):
        bi = branch_info(ins, labels)
        if bi:
            if i + 1 < len(instrs):
                leaders.add(i + 1)
            if bi[1] is not None and bi[1] in addr_index:
                leaders.add(addr_index[bi[1]])
    for lab_addr in labels.values():
        if lab_addr in addr_index:
            leaders.add(addr_index[lab_addr])
    starts = sorted(leaders)
    blocks = []
    block_of = {}
    for n, s in enumerate(starts):
        e = starts[n + 1] if n + 1 < len(starts) else len(instrs)
        b = Block(n)
        b.instrs = instrs[s:e]
        blocks.append(b)
        block_of[s] = n
    for n, b in enumerate(blocks):
        last = b.instrs[-1]
        bi = branch_info(last, labels)
        nxt = n + 1 if n + 1 < len(blocks) else None
        if bi is None:
            if nxt is not None:
                b.succ.append((nxt, "fall"))
            continue
        kind, tgt, cond = bi
        b.kind = kind
        if kind in ("bra", "call") and tgt is not None and tgt in addr_index:
            b.succ.append((block_of[addr_index[tgt]], "taken"))
        if cond and nxt is not None:
            b.succ.append((nxt, "fall"))
    for b in blocks:
        for s, _k in b.succ:
            blocks[s].pred.append(b.id)
    return blocks


def dominators(blocks):
    """{block: set of its dominators}, for the blocks reachable from the entry
    (subroutines reached by CALL only are left out: they hold no KV loop)."""
    reach = set()
    stack = [0]
    while stack:
        x = stack.pop()
        if x in reach:
            continue
        reach.add(x)
        stack.extend(s for s, _ in blocks[x].succ)
    order = sorted(reach)
    dom = {b: set(order) for b in order}
    dom[0] = {0}
    changed = True
    while changed:
        changed = False
        for b in order:
            if b == 0:
                continue
            preds = [p for p in blocks[b].pred if p in reach]
            new = set.intersection(*(dom[p] for p in preds)) if preds else set()
            new = new | {b}
            if new != dom[b]:
                dom[b] = new
                changed = True
    return dom


def natural_loops(blocks):
    """{header: (body set, latches)} from the back edges u -> h, h dominating u."""
    dom = dominators(blocks)
    loops = {}
    for b in blocks:
        if b.id not in dom:
            continue
        for s, _k in b.succ:
            if s in dom[b.id]:
                body, latches = loops.setdefault(s, (set([s]), set()))
                latches.add(b.id)
                stack = [b.id]
                while stack:
                    x = stack.pop()
                    if x in body:
                        continue
                    body.add(x)
                    stack.extend(p for p in blocks[x].pred if p in dom)
    return loops


# ---------------------------------------------------------------- classes

FP32_OPS = {"FADD", "FMUL", "FFMA", "FMNMX", "FSETP", "FSEL", "FSET", "FCHK", "FSWZADD",
            "FADD32I", "FMUL32I", "FFMA32I", "HADD2", "HMUL2", "HFMA2", "HMNMX2", "HSETP2",
            "HSET2", "DADD", "DMUL", "DFMA", "DSETP", "FMNMX3"}
CVT_OPS = {"F2F", "F2FP", "F2I", "I2F", "I2FP", "I2I", "FRND", "F2IP"}
INT_OPS = {"IMAD", "IADD3", "IADD", "IADD32I", "LOP3", "LOP", "LOP32I", "SHF", "SHL", "SHR",
           "LEA", "ISETP", "IMNMX", "SEL", "MOV", "MOV32I", "IABS", "IMUL", "POPC", "FLO",
           "BREV", "PRMT", "BMSK", "SGXT", "PLOP3", "P2R", "R2P", "CS2R", "VIADD", "VIMNMX",
           "VIADDMNMX", "VIMNMX3", "IDP", "IDP4A", "ISCADD", "XMAD", "BFE", "BFI", "IMNMX3",
           "R2UR", "LEPC"}
CTRL_OPS = {"BRA", "BRX", "JMP", "JMX", "CALL", "RET", "EXIT", "BSSY", "BSYNC", "BREAK",
            "BMOV", "WARPSYNC", "YIELD", "NOP", "DEPBAR", "LDGDEPBAR", "KILL", "BPT",
            "ARRIVES", "WARPGROUP", "ELECT", "ACQBULK", "ENDCOLLECTIVE"}


def classify(ins):
    if ins.never:
        return "other"
    b = ins.base
    if b == "HMMA":
        return "hmma"
    if b == "LDSM":
        return "ldsm"
    if b == "LDGSTS":
        return "ldgsts"
    if b in ("LDG", "LD"):
        return "ldg"
    if b == "LDS":
        return "lds"
    if b == "STS":
        return "sts"
    if b == "MUFU":
        return "mufu"
    if b in ("SHFL",):
        return "shfl"
    if b == "BAR":
        return "bar"
    if b in ("LDL", "STL"):
        return "ldl_stl"
    if b in FP32_OPS:
        return "fp32"
    if b in CVT_OPS:
        return "cvt"
    if b in INT_OPS or (b.startswith("U") and b not in ("UTMALDG", "UTMASTG", "UBLKCP")):
        return "int"   # U*: the uniform datapath (UIADD3, ULDC, USHF, ...)
    if b in CTRL_OPS:
        return "ctrl"
    return "other"     # S2R, S2UR, LDC, STG, VOTE, MEMBAR, ATOM...


def smem_read_bytes(ins):
    """Shared-memory bytes one warp reads: LDSM .x1/.x2/.x4 = 1/2/4 8x8 b16
    matrices of 128 bytes; LDS = 32 lanes x access width."""
    if ins.never:
        return 0
    mods = ins.op.split(".")[1:]
    if ins.base == "LDSM":
        n = 1
        for m in mods:
            if m in ("1", "2", "4"):
                n = int(m)
        return 128 * n
    if ins.base == "LDS":
        width = 4
        for m in mods:
            if m in ("U8", "S8"):
                width = 1
            elif m in ("U16", "S16"):
                width = 2
            elif m == "64":
                width = 8
            elif m == "128":
                width = 16
        return 32 * width
    return 0


def is_copy(ins):
    """A cp.async that copies (not the zero-fill form `..., !PT`)."""
    return ins.base == "LDGSTS" and not ins.never and not re.search(r",\s*!PT\s*$", ins.operands)


# ---------------------------------------------------------------- the main loop


NEG_INF_RE = re.compile(r"-INF\b|-0x800000\b|0xff800000\b")


def writes_neg_inf(ins):
    """A move or select of -inf: how attnc's kernels mask a score out."""
    return not ins.never and (ins.base in ("FSEL", "SEL", "MOV") or ins.op.startswith("IMAD.MOV")) \
        and NEG_INF_RE.search(ins.operands) is not None


def steady_state_path(blocks, header, body, group_copies):
    """One iteration of the loop from `header` back to it, as a walk through the
    CFG: a shortest path (fewest instructions issued) from the header to a back
    edge into it, over states (block, cp.async copies since the last commit),
    that (a) stays in the loop, (b) executes every HMMA it can (an HMMA weighs
    -BIG), (b') writes -inf (masks a score out) as little as it can (+MID
    each: the steady state is an interior tile whose scores are all kept, so
    the walk skips the masking of partial tiles and, where the mask always
    runs, takes the in-bounds, kept branch of each score), and (c) when
    `group_copies` is given, issues exactly that many
    copying LDGSTS in every cp.async group, i.e. before each LDGDEPBAR
    (cp.async.commit_group), and ends with no group open. (c) fixes the trip
    counts of the cp.async row loops nested in the body and keeps the walk off
    the branches that skip a tile load. Returns the block ids walked (with
    repeats), or None when no walk meets (c)."""
    BIG, MID = 10 ** 12, 10 ** 6
    cap = group_copies if group_copies is not None else 0

    def through(x, c):
        """copies open after block x entered with c open, or None if (c) fails"""
        if group_copies is None:
            return 0
        for ins in blocks[x].instrs:
            if ins.never:
                continue
            if is_copy(ins):
                c += 1
                if c > cap:
                    return None
            elif ins.base == "LDGDEPBAR":
                if c != cap:
                    return None
                c = 0
        return c

    cost = {x: len(blocks[x].instrs) - BIG * sum(1 for i in blocks[x].instrs if i.base == "HMMA")
            + MID * sum(1 for i in blocks[x].instrs if writes_neg_inf(i)) for x in body}
    # Bellman-Ford (queue-based) over (block, copies open at entry): HMMA only
    # lie on cycles through the header (the main loop is the innermost loop
    # with HMMA), so no cycle inside the body has a negative cost.
    start = (header, 0)
    dist = {start: cost[header]}
    prev = {start: None}
    best_end = None
    work = [start]
    queued = {start}
    budget = (len(body) * (cap + 1)) ** 2 + 10000
    while work:
        budget -= 1
        if budget < 0:
            return None
        st = work.pop(0)
        queued.discard(st)
        x, c = st
        cout = through(x, c)
        if cout is None:
            continue
        for s, _k in blocks[x].succ:
            if s not in body:
                continue
            if s == header:
                if cout == 0 and (best_end is None or dist[st] < dist[best_end]):
                    best_end = st
                continue
            st2 = (s, cout)
            d2 = dist[st] + cost[s]
            if st2 not in dist or d2 < dist[st2]:
                dist[st2] = d2
                prev[st2] = st
                if st2 not in queued:
                    work.append(st2)
                    queued.add(st2)
    if best_end is None:
        return None
    path = []
    st = best_end
    while st is not None:
        path.append(st[0])
        st = prev[st]
    return list(reversed(path))


def _walk_ranges(blocks, path):
    """The walk as address ranges, a block repeated n times in a row as 'xn'."""
    out = []
    for x in path:
        b = blocks[x]
        r = f"{b.instrs[0].addr:04x}-{b.instrs[-1].addr:04x}"
        if out and out[-1][0] == r:
            out[-1][1] += 1
        else:
            out.append([r, 1])
    return [r if n == 1 else f"{r} x{n}" for r, n in out]


def analyse_kernel(name, instrs, labels, group_copies, widen_trips=None):
    blocks = build_cfg(instrs, labels)
    res = dict(kernel=name, static_instructions=len(instrs),
               kernel_hmma=sum(1 for i in instrs if i.base == "HMMA"),
               spills=sum(1 for i in instrs if i.base in ("LDL", "STL") and not i.never),
               loop=None, notes=[])
    loops = natural_loops(blocks)

    def hmma_in(body):
        return sum(1 for x in body for i in blocks[x].instrs if i.base == "HMMA")

    cand = [(h, body) for h, (body, _l) in loops.items() if hmma_in(body)]
    # innermost: no other HMMA loop strictly inside
    inner = [(h, body) for h, body in cand
             if not any(b2 < body and hmma_in(b2) for _h2, b2 in cand if _h2 != h)]
    if not inner:
        res["notes"].append("no loop with HMMA: per-iteration metrics not reported")
        return res

    def walk(header, body):
        """(path, mode, notes, nested, nested_copy) for the loop at `header`"""
        notes = []
        nested = [h for h, (b2, _l) in loops.items() if h != header and b2 < body]
        nested_copy = [h for h in nested
                       if any(is_copy(i) for x in loops[h][0] for i in blocks[x].instrs)]
        body_copies = sum(1 for x in body for i in blocks[x].instrs if is_copy(i))
        commits = sum(1 for x in body for i in blocks[x].instrs
                      if i.base == "LDGDEPBAR" and not i.never)
        group = group_copies if body_copies else None
        path = None
        mode = "steady-state path"
        if body_copies and group is None:
            notes.append("the loop issues cp.async but the tile shape is unknown (pass --cuda or "
                         "--copies); whole loop body counted")
        elif body_copies and not commits:
            notes.append("the loop issues cp.async but commits no group (LDGDEPBAR); "
                         "whole loop body counted")
        else:
            path = steady_state_path(blocks, header, body, group)
            if path is None:
                notes.append(f"no walk of the loop issues {group} cp.async copies per thread in "
                             "every group; whole loop body counted")
        if path is None:
            path = sorted(body)
            mode = "whole loop body"
        nested_plain = [h for h in nested if h not in nested_copy]
        if nested_plain and mode != "whole loop body":
            notes.append(f"{len(nested_plain)} nested loop(s) without cp.async counted as one trip")
        return path, mode, notes, nested, nested_copy

    # The loop with the most HMMA; among several with as many (a KV loop split
    # into masked and unmasked tiles), the one whose walk masks the fewest
    # scores, then issues the fewest instructions: the unmasked one.
    most = max(hmma_in(b) for _h, b in inner)
    best = None
    for h, b in sorted(inner, key=lambda hb: blocks[hb[0]].instrs[0].addr):
        if hmma_in(b) != most:
            continue
        w = walk(h, b)
        key = (w[1] != "steady-state path",
               sum(1 for x in w[0] for i in blocks[x].instrs if writes_neg_inf(i)),
               sum(len(blocks[x].instrs) for x in w[0]))
        if best is None or key < best[0]:
            best = (key, h, b, w)
    _key, header, body, (path, mode, notes, nested, nested_copy) = best
    if len(inner) > 1:
        res["notes"].append(f"{len(inner)} innermost loops hold HMMA; the one at "
                            f"0x{blocks[header].instrs[0].addr:04x} is reported (most HMMA, then "
                            "fewest masked scores and instructions)")
    res["notes"] += notes
    # An fp8 cache's K and V tiles are copied by rolled loops nested in the
    # main loop (loadKVWiden: global loads, no cp.async) that run
    # `widen_trips` times per tile: their whole bodies count that many
    # times (an upper bound: a step's rows are all valid in the steady
    # state), and the walk's pass through them not at all.
    widen_blocks = set()
    repeated = []
    if widen_trips:
        for h2 in nested:
            b2 = loops[h2][0]
            if h2 in nested_copy or hmma_in(b2):
                continue
            if not any(i.base == "LDG" for x in b2 for i in blocks[x].instrs):
                continue
            if any(b2 < loops[h3][0] for h3 in nested if h3 != h2):
                continue  # inside another nested loop: counted with it
            widen_blocks |= b2
            repeated.append(b2)
        if repeated:
            res["notes"] = [n for n in res["notes"]
                            if "without cp.async counted as one trip" not in n]
            others = sum(1 for h2 in nested if h2 not in nested_copy
                         and not hmma_in(loops[h2][0])
                         and not loops[h2][0] <= widen_blocks)
            if others:
                res["notes"].append(f"{others} nested loop(s) without cp.async "
                                    "counted as one trip")
            res["notes"].append(f"{len(repeated)} fp8 widening loop(s) counted "
                                f"{widen_trips} times each (whole body)")
    counts = {k: 0 for k, _ in COUNT_COLUMNS}
    opcodes = {}
    smem = 0
    walked = [x for x in path if x not in widen_blocks]
    for b2 in repeated:
        walked += sorted(b2) * widen_trips
    for x in walked:
        for ins in blocks[x].instrs:
            cls = classify(ins)
            key = (f"@{ins.pred} " if ins.never else "") + ins.base
            opcodes.setdefault(cls, {})
            opcodes[cls][key] = opcodes[cls].get(key, 0) + 1
            counts[cls] += 1
            counts["total"] += 1
            smem += smem_read_bytes(ins)
    first = blocks[header].instrs[0].addr
    last = max(blocks[x].instrs[-1].addr for x in body)
    hm = counts["hmma"]
    res["loop"] = dict(
        header=f"0x{first:04x}", end=f"0x{last:04x}", mode=mode,
        blocks_in_loop=len(body), blocks_walked=len(path),
        body_instructions=sum(len(blocks[x].instrs) for x in body),
        nested_loops=len(nested), copy_loops=len(nested_copy),
        copies=sum(1 for x in path for i in blocks[x].instrs if is_copy(i)),
        commits=sum(1 for x in path for i in blocks[x].instrs if i.base == "LDGDEPBAR"),
        group_copies=group_copies,
        walk=_walk_ranges(blocks, path))
    res.update(counts)
    res["opcodes"] = {c: dict(sorted(o.items(), key=lambda kv: -kv[1])) for c, o in opcodes.items()}
    res["non_mma"] = counts["total"] - hm
    res["non_mma_per_hmma"] = round((counts["total"] - hm) / hm, 3) if hm else None
    res["smem_bytes"] = smem
    res["smem_bytes_per_hmma"] = round(smem / hm, 1) if hm else None
    return res


# ---------------------------------------------------------------- occupancy


def ctas_per_sm(sm, regs, threads, smem, reserved_in_image=False):
    lim = ARCH_LIMITS.get(sm)
    if lim is None or not threads:
        return None, None
    warps = -(-threads // 32)
    per_warp = -(-(max(regs, 1) * 32) // REG_ALLOC_UNIT) * REG_ALLOC_UNIT
    warps_per_sub = (lim["regs"] // SUBPARTITIONS) // per_warp
    by_regs = (warps_per_sub * SUBPARTITIONS) // warps
    by_threads = lim["threads"] // (warps * 32)
    smem_cta = -(-smem // SMEM_ALLOC_UNIT) * SMEM_ALLOC_UNIT + \
        (0 if reserved_in_image else lim["reserved"])
    by_smem = lim["smem"] // smem_cta
    limits = dict(regs=by_regs, smem=by_smem, threads=by_threads, ctas=lim["ctas"])
    n = min(limits.values())
    limiter = "+".join(k for k, v in limits.items() if v == n)
    return n, limiter


# ---------------------------------------------------------------- attnc

SHAPE_RE = re.compile(r"^// attention (\S+): (\w+), head_dim (\d+),.*tiles (\d+)x(\d+)\.", re.M)
GRID_RE = re.compile(r"^// grid .*?, (\d+) threads.*?(?:, (\d+) bytes of dynamic shared memory)?\.?$",
                     re.M)
GLOBAL_RE = re.compile(r'__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\(')
PTXAS_RE = re.compile(r"^(\w+) \((sm_\d+)\): (\d+) registers, (\d+) bytes spill stores, "
                      r"(\d+) bytes spill loads, (\d+) bytes stack", re.M)


def parse_cuda(text):
    """Per kernel, from the comments attnc prints above each __global__:
    head_dim, tiles, threads, dynamic shared memory."""
    info = {}
    comments = {}
    last = None
    for line in text.splitlines():
        if last is not None and "loadKVWiden<" in line:
            info[last]["widen"] = True
        if line.startswith("//"):
            m = SHAPE_RE.match(line)
            if m:
                comments.update(dtype=m.group(2), head_dim=int(m.group(3)),
                                block_q=int(m.group(4)), block_kv=int(m.group(5)))
            m = GRID_RE.match(line)
            if m:
                comments.update(threads=int(m.group(1)),
                                dyn_smem=int(m.group(2)) if m.group(2) else 0)
            continue
        m = GLOBAL_RE.search(line)
        if m:
            lb = re.search(r"__launch_bounds__\((\d+)", line)
            if lb and "threads" not in comments:
                comments["threads"] = int(lb.group(1))
            info[m.group(1)] = comments
            last = m.group(1)
            comments = {}
    return info


def widen_trips(shape):
    """Trips of each loadKVWiden loop per K or V tile (fp8 caches): past 32
    chunks a row (head_dim > 256), one row a trip of Threads / 8 rows each;
    else two rows a step of Threads / (head_dim / 8) rows each, when the
    shape takes that path; one 8-element chunk a trip otherwise."""
    if not shape.get("widen"):
        return None
    try:
        chunks = shape["head_dim"] // 8
        if (chunks > 32 and chunks % 8 == 0 and shape["threads"] % 8 == 0
                and shape["block_kv"] % (shape["threads"] // 8) == 0):
            return shape["block_kv"] // (shape["threads"] // 8)
        rows_per_pass = shape["threads"] // chunks
        if (shape["head_dim"] % 16 == 0 and shape["threads"] % chunks == 0
                and shape["block_kv"] % (2 * rows_per_pass) == 0):
            return shape["block_kv"] // (2 * rows_per_pass)
        return -(-shape["block_kv"] * chunks // shape["threads"])
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def group_copies(shape):
    """16-byte cp.async copies one thread issues for one K or V tile (one
    cp.async group): block_kv x head_dim 16-bit elements, 8 per copy, spread
    over the CTA's threads (rounded up: thread 0's share)."""
    try:
        chunks = shape["block_kv"] * shape["head_dim"] // 8
        return -(-chunks // shape["threads"])
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def _run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        sys.exit(f"sass_report: cannot run {cmd[0]}: {e}")


def run_attnc(attnc, spec, arch, kernel, extra, tmp):
    base = [attnc, spec] + (["--kernel", kernel] if kernel else []) + extra
    tag = re.sub(r"\W+", "_", os.path.basename(spec) + "_" + (kernel or "") + "_" + arch + "_" +
                 "_".join(extra))
    cubin = os.path.join(tmp, tag + ".cubin")
    p = _run(base + ["--emit=cubin", "--arch=" + arch, "-o", cubin])
    if p.returncode != 0:
        sys.exit(f"sass_report: attnc failed on {spec} ({arch}): {p.stderr.strip()}")
    c = _run(base + ["--emit=cuda"])
    if c.returncode != 0:
        sys.exit(f"sass_report: attnc --emit=cuda failed on {spec}: {c.stderr.strip()}")
    ptxas = {m.group(1): dict(registers=int(m.group(3)), spill_stores=int(m.group(4)),
                              spill_loads=int(m.group(5)), stack=int(m.group(6)))
             for m in PTXAS_RE.finditer(p.stderr)}
    return cubin, parse_cuda(c.stdout), ptxas


def variant_name(extra):
    items = []
    for tok in extra:
        if tok.startswith("-"):
            items.append(tok.lstrip("-"))
        elif items:
            items[-1] += "=" + tok
        else:
            items.append(tok)
    return "+".join(items) if items else "default"


# ---------------------------------------------------------------- report


def report_cubin(nvdisasm, cubin_path, shapes, ptxas, variant, copies_override, threads_override,
                 dyn_smem_override, spec=None):
    cub = Cubin(cubin_path)
    p = _run([nvdisasm, "-c", cubin_path])
    if p.returncode != 0:
        sys.exit(f"sass_report: nvdisasm failed on {cubin_path}: {p.stderr.strip()}")
    kernels, target = parse_sass(p.stdout)
    if not (target and re.match(r"sm_\d+", target)):
        sys.exit(f"sass_report: {cubin_path}: nvdisasm printed no .target line")
    sm = int(re.match(r"sm_(\d+)", target).group(1))
    rows = []
    for name in sorted(kernels):
        instrs, labels = kernels[name]
        shape = dict(shapes.get(name, {}))
        if threads_override:
            shape["threads"] = threads_override
        exp = copies_override if copies_override is not None else group_copies(shape)
        r = analyse_kernel(name, instrs, labels, exp, widen_trips(shape))
        elf = cub.kernels.get(name, {})
        threads = shape.get("threads") or elf.get("max_threads")
        dyn = dyn_smem_override if dyn_smem_override is not None else shape.get("dyn_smem", 0)
        static = elf.get("static_smem", 0)
        smem = static + (dyn or 0)
        # sm_90 images hold the 1 KiB of per-CTA reserved shared memory as
        # static shared memory (.nv.shared.reserved.0): do not add it twice.
        reserved_in_image = cub.reserved_smem_symbol and static >= 1024
        regs = elf.get("registers")
        px = ptxas.get(name)
        if px:
            if regs is None:
                regs = px["registers"]
            elif regs != px["registers"]:
                r["notes"].append(f"ptxas reported {px['registers']} registers, the cubin {regs}")
        n, limiter = ctas_per_sm(sm, regs or 0, threads, smem, reserved_in_image)
        r.update(arch=f"sm_{sm}", variant=variant, spec=spec, cubin=cubin_path,
                 registers=regs, threads=threads, shared_memory=smem,
                 ctas_per_sm=n, occupancy_limit=limiter,
                 frame_size=elf.get("frame_size", 0))
        if shape.get("head_dim"):
            r["shape"] = dict((k, shape[k]) for k in ("dtype", "head_dim", "block_q", "block_kv")
                              if k in shape)
        if px:
            r["spill_bytes"] = px["spill_stores"] + px["spill_loads"]
            r["stack"] = px["stack"]
        rows.append(r)
    return rows


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def table(rows, markdown=False):
    cols = [("kernel", "kernel"), ("variant", "variant"), ("arch", "arch")] + COUNT_COLUMNS + [
        ("non_mma_per_hmma", "nonMMA/HMMA"), ("smem_bytes_per_hmma", "smemB/HMMA"),
        ("registers", "regs"), ("shared_memory", "smem"), ("threads", "thr"),
        ("ctas_per_sm", "CTA/SM")]
    data = []
    for r in rows:
        line = []
        for k, _h in cols:
            v = r.get(k)
            if k == "kernel":
                v = v[len("attnc_"):] if v.startswith("attnc_") else v
            line.append(fmt(v))
        data.append(line)
    heads = [h for _k, h in cols]
    if markdown:
        out = ["| " + " | ".join(heads) + " |",
               "|" + "|".join("---" if i < 3 else "---:" for i in range(len(heads))) + "|"]
        out += ["| " + " | ".join(d) + " |" for d in data]
        return "\n".join(out)
    widths = [max(len(h), *(len(d[i]) for d in data)) if data else len(h)
              for i, h in enumerate(heads)]
    def line(vals):
        return "  ".join(v.ljust(widths[i]) if i < 3 else v.rjust(widths[i])
                         for i, v in enumerate(vals))
    return "\n".join([line(heads)] + [line(d) for d in data])


# ---------------------------------------------------------------- budgets

OPTIONAL_METRICS = {"spill_bytes", "stack"}
BUDGET_RE = re.compile(r"^([a-z_0-9]+)\s*(<=|>=|==|=)\s*(-?[0-9.]+)$")


def parse_budget(text, where):
    m = BUDGET_RE.match(text.strip())
    if not m:
        sys.exit(f"sass_report: {where}: bad budget '{text}' (expected METRIC<=N, METRIC==N, "
                 "METRIC>=N, or METRIC=N meaning at most N)")
    op = "<=" if m.group(2) == "=" else m.group(2)
    return (m.group(1), op, float(m.group(3)))


def load_budgets(path):
    """Lines `KERNEL VARIANT ARCH METRIC<=N ...`; ARCH and VARIANT may be `*`;
    `#` starts a comment. Returns a list of (kernel, variant, arch, [budgets])."""
    entries = []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) < 4:
                sys.exit(f"sass_report: {path}:{n}: expected KERNEL VARIANT ARCH METRIC<=N...")
            k, v, a = parts[:3]
            entries.append((k, v, a, [parse_budget(t, f"{path}:{n}") for t in parts[3:]],
                            f"{os.path.basename(path)}:{n}"))
    return entries


def check(rows, global_budgets, file_entries, require):
    failures = []
    for r in rows:
        name = r["kernel"]
        applied = [(b, "--budget") for b in global_budgets]
        matched = False
        for k, v, a, budgets, where in file_entries:
            if k in (name, name.replace("attnc_", "", 1)) and v in ("*", r["variant"]) and \
                    a in ("*", r["arch"]):
                applied += [(b, where) for b in budgets]
                matched = True
        if require and not matched:
            failures.append(f"{name} [{r['variant']}, {r['arch']}]: no budget in the budgets file "
                            "(add a line for it)")
        for (metric, op, limit), where in applied:
            if metric not in r and metric in OPTIONAL_METRICS:
                continue  # not measurable here (spill_bytes needs ptxas' report: --spec)
            if metric not in r:
                failures.append(f"{name} [{r['variant']}, {r['arch']}]: unknown metric '{metric}' "
                                f"({where})")
                continue
            val = r[metric]
            if val is None:
                if r.get("loop") is None and metric not in ("registers", "ctas_per_sm"):
                    continue  # no KV loop (the split-KV merge kernel): loop budgets do not apply
                failures.append(f"{name} [{r['variant']}, {r['arch']}]: {metric} is unknown, "
                                f"budget {op} {limit:g} ({where})")
                continue
            ok = {"<=": val <= limit + 1e-9, ">=": val >= limit - 1e-9,
                  "==": abs(val - limit) < 1e-9}[op]
            if not ok:
                verb = {"<=": "exceeds", ">=": "is below", "==": "differs from"}[op]
                failures.append(f"{name} [{r['variant']}, {r['arch']}]: {metric} = {fmt(val)} "
                                f"{verb} budget {op} {limit:g} ({where})")
    return failures


def budget_lines(rows, slack):
    """Budget-file lines that today's rows meet: exact HMMA, non-MMA per HMMA
    with `slack` (0.05: 5%) rounded up, the rest at today's value."""
    import math
    out = []
    for r in rows:
        b = []
        if r.get("loop"):
            b.append(f"hmma=={r['hmma']}")
            b.append(f"non_mma_per_hmma<={math.ceil(r['non_mma_per_hmma'] * (1 + slack) * 100) / 100:g}")
            b.append(f"smem_bytes_per_hmma<={r['smem_bytes_per_hmma']:g}")
            b.append(f"bar<={r['bar']}")
            b.append(f"ldg<={r['ldg']}")
            b.append("ldl_stl<=0")
        b.append("spills<=0")
        if "spill_bytes" in r:
            b.append("spill_bytes<=0")
        if r.get("ctas_per_sm") is not None:
            b.append(f"ctas_per_sm>={r['ctas_per_sm']}")
        out.append(f"{r['kernel']:<30} {r['variant']:<18} {r['arch']:<6} " + " ".join(b))
    return out


# ---------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Arguments after `--` go to attnc, e.g. -- --pack-gqa --split-kv --block-q 32; "
               "so do flags this script does not know (--pack-gqa, --block-q=32).")
    ap.add_argument("cubins", nargs="*", help="cubin files (or .attn specs, as with --spec)")
    ap.add_argument("--spec", action="append", default=[], help="an attnc spec to compile (repeatable)")
    ap.add_argument("--kernel", help="only this attention block of the spec(s)")
    ap.add_argument("--arch", default="sm_80", help="architecture(s) for --spec, comma-separated")
    ap.add_argument("--attnc", help="the attnc binary (default: PATH, then build/bin/attnc)")
    ap.add_argument("--label", help="variant name for the rows (default: from the attnc options)")
    ap.add_argument("--cuda", help="for a cubin: the CUDA source attnc emitted (shape, threads, "
                    "dynamic shared memory are read from its comments)")
    ap.add_argument("--threads", type=int, help="threads per CTA (default: source or launch bounds)")
    ap.add_argument("--dyn-smem", type=int, help="dynamic shared memory bytes per CTA")
    ap.add_argument("--copies", type=int, help="cp.async 16-byte copies per thread per K or V "
                    "tile, i.e. per cp.async group (default: from the tile shape)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print each kernel's loop and the walk of its steady-state iteration")
    ap.add_argument("--budget", action="append", default=[],
                    help="METRIC=N (at most N), METRIC<=N, METRIC==N or METRIC>=N, for every kernel")
    ap.add_argument("--budgets", help="a budgets file (bench/sass_budgets.txt)")
    ap.add_argument("--require-budgets", action="store_true",
                    help="fail for a kernel that has no line in the budgets file")
    ap.add_argument("--print-budgets", type=float, metavar="SLACK",
                    help="print budgets-file lines that today's kernels meet, with SLACK (0.05) "
                    "on non-MMA per HMMA")
    ap.add_argument("--which-nvdisasm", action="store_true", help="print nvdisasm's path and exit")
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = []
    if "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1:]
    args, unknown = ap.parse_known_args(argv)
    extra = unknown + passthrough

    nvdisasm = find_tool("nvdisasm")
    if not nvdisasm:
        sys.exit("sass_report: error: nvdisasm not found (searched $NVDISASM, PATH, $CUDA_HOME/bin, "
                 "/usr/local/cuda/bin, .cache/attnc-tools, Python site-packages); " + SETUP_HINT)
    if args.which_nvdisasm:
        print(nvdisasm)
        return 0

    specs = list(args.spec) + [c for c in args.cubins if c.endswith(".attn")]
    cubins = [c for c in args.cubins if not c.endswith(".attn")]
    if not specs and not cubins:
        ap.error("give cubins or --spec")
    for c in cubins:
        if not os.path.isfile(c):
            ap.error(f"no such cubin: {c} (attnc options with a value go after `--`)")
    global_budgets = [parse_budget(b, "--budget") for b in args.budget]
    entries = load_budgets(args.budgets) if args.budgets else []
    variant = args.label or variant_name(extra)

    rows = []
    with tempfile.TemporaryDirectory(prefix="sass_report.") as tmp:
        if specs:
            attnc = find_attnc(args.attnc)
            for spec in specs:
                for arch in args.arch.split(","):
                    cubin, shapes, ptxas = run_attnc(attnc, spec, arch.strip(), args.kernel, extra, tmp)
                    rows += report_cubin(nvdisasm, cubin, shapes, ptxas, variant, args.copies,
                                         args.threads, args.dyn_smem, spec=os.path.basename(spec))
        for c in cubins:
            shapes = {}
            if args.cuda:
                with open(args.cuda) as f:
                    shapes = parse_cuda(f.read())
            rows += report_cubin(nvdisasm, c, shapes, {}, args.label or "cubin", args.copies,
                                 args.threads, args.dyn_smem)
        for r in rows:
            if r.get("spec"):
                r.pop("cubin", None)  # a temporary file

    if args.print_budgets is not None:
        print("\n".join(budget_lines(rows, args.print_budgets)))
    elif args.json:
        print(json.dumps(dict(nvdisasm=nvdisasm, nvdisasm_version=tool_version(nvdisasm),
                              kernels=rows), indent=1))
    else:
        print(table(rows, markdown=args.markdown))
        notes = [(r, n) for r in rows for n in r["notes"]]
        if args.verbose:
            for r in rows:
                lp = r.get("loop")
                if lp:
                    print(f"  {r['kernel']} [{r['variant']}, {r['arch']}]: KV loop {lp['header']}.."
                          f"{lp['end']}, {lp['mode']}, {lp['blocks_walked']} blocks walked of "
                          f"{lp['blocks_in_loop']}, {lp['copy_loops']} cp.async loop(s) nested, "
                          f"{lp['copies']} copies/thread in {lp['commits']} groups (expected "
                          f"{fmt(lp['group_copies'])} a group)")
                    print("    walk: " + " ".join(lp["walk"]))
        for r, n in notes:
            print(f"note: {r['kernel']} [{r['variant']}, {r['arch']}]: {n}")

    failures = check(rows, global_budgets, entries, args.require_budgets)
    if failures:
        for f in failures:
            print("sass_report: BUDGET FAILED: " + f, file=sys.stderr)
        print(f"sass_report: {len(failures)} budget failure(s) in {len(rows)} kernel(s)",
              file=sys.stderr)
        return 1
    if global_budgets or entries:
        print(f"sass_report: all budgets met ({len(rows)} kernels)",
              file=sys.stderr if args.json or args.print_budgets is not None else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
