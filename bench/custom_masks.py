"""Custom masks under sim: KV tiles visited and emulator time per mask.

For each mask, `attnc run --count-tiles` runs the kernel under the sim
backend, counts the KV tiles its programs visit (and the tiles holding a
visible element, from the float64 reference's own evaluation of the mask:
the ideal), checks O and LSE, and times it. Document masks get D documents
of equal length (doc ids written into the saved inputs). A mask with a
runtime block mask also reports the pre-pass's build time, measured once
apart from the kernel's (a model builds it once for all its layers).

    python3 bench/custom_masks.py                 # prints a markdown table
    python3 bench/custom_masks.py --record        # and appends it to RESULTS.md
    BUILD_DIR=out python3 bench/custom_masks.py

Standard library only. Times are CPU times of the emulator on this machine,
not GPU times; the tile counts are what carries over to a GPU.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
ATTNC = os.path.join(BUILD, "bin", "attnc")

HEADER = """attention {name} {{
  dtype    = bf16
  head_dim = 64
  q_heads  = 1
  kv_heads = 1
  kv_cache = dense
{params}  mask     = {mask}
}}
"""

DOC = "doc[b, q] == doc[b, kv] && kv <= q"
DOC_PARAM = "  param doc : i32[batch, ?]\n"
ALLOW_PARAM = "  param allow : i32[?, ?]\n"

# (label, mask, params, documents, extra `attnc run` options)
MASKS = [
    ("causal", "kv <= q", "", 0, []),
    ("sliding window 256", "kv <= q && q - kv < 256", "", 0, []),
    ("sinks 4 + window 256", "kv <= q && (kv < 4 || q - kv < 256)", "", 0,
     []),
    ("dilated window 512 (every 2nd key)",
     "kv <= q && q - kv < 512 && (q - kv) % 2 == 0", "", 0, []),
    ("prefix-LM (1024) + window 256",
     "kv < prefix[b] || (kv <= q && q - kv < 256)",
     "  param prefix : i32[batch]\n", 0, []),
    ("document mask, 4 documents", DOC, DOC_PARAM, 4, []),
    ("document mask, 16 documents", DOC, DOC_PARAM, 16, []),
    ("document mask, 64 documents", DOC, DOC_PARAM, 64, []),
    ("document mask, 64 documents, runtime block mask", DOC, DOC_PARAM, 64,
     ["--block-mask", "always"]),
    # A full-resolution pairwise mask: only a runtime block mask bounds it.
    # allow holds 1 in 192 x 320 blocks, one in three, that do not line up
    # with the 64 x 64 tiles.
    ("pairwise allow[q, kv] (blocks), runtime block mask",
     "allow[q, kv] == 1", ALLOW_PARAM, 0, []),
    ("pairwise allow[q, kv] (blocks), no block mask", "allow[q, kv] == 1",
     ALLOW_PARAM, 0, ["--block-mask", "never"]),
]

SHAPES = [("prefill 1 x 4096 x 4096", 4096, 4096),
          ("decode 1 x 1 x 4096", 1, 4096)]


def write_npy_i32(path, shape, values):
    """A little-endian int32 .npy file of `shape` (a tuple) holding `values`."""
    dims = "".join("%d, " % d for d in shape) if len(shape) == 1 else ", ".join(
        str(d) for d in shape)
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (%s), }" % dims
    header += " " * ((64 - (len(header) + 11) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(struct.pack("<%di" % len(values), *values))


def run(args):
    p = subprocess.run([ATTNC] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("attnc %s failed:\n%s%s" % (" ".join(args), p.stdout, p.stderr))
    return p.stdout + p.stderr


def measure(work, label, mask, params, docs, extra, q_len, kv_len):
    spec = os.path.join(work, "spec.attn")
    with open(spec, "w") as f:
        f.write(HEADER.format(name="bench", params=params, mask=mask))
    inputs = os.path.join(work, "in")
    run(["run", spec, "--backend", "sim", "--random", "--batch", "1",
         "--q-len", str(q_len), "--kv-len", str(kv_len), "--save-inputs",
         inputs])
    if docs:
        write_npy_i32(os.path.join(inputs, "doc.npy"), (1, kv_len),
                      [i * docs // kv_len for i in range(kv_len)])
    if "prefix" in params:
        write_npy_i32(os.path.join(inputs, "prefix.npy"), (1,), [1024])
    if "allow" in params:
        n = kv_len  # [?, ?] params are saved kv_len x kv_len
        write_npy_i32(os.path.join(inputs, "allow.npy"), (n, n),
                      [1 if (i // 192 + j // 320) % 3 == 0 else 0
                       for i in range(n) for j in range(n)])
    # --count-tiles fails where a tile is visited that holds nothing
    # visible; without a block mask the pairwise mask visits every tile.
    count = [] if "never" in extra else ["--count-tiles"]
    out = run(["run", spec, "--backend", "sim", "--inputs", inputs, "--check",
               "--time", "3"] + count + extra)
    tiles = re.search(r"tiles: visited (\d+) of (\d+) \((\d+) hold", out)
    time = re.search(r"time: ([0-9.]+) ms", out)
    built = re.search(r"block mask built in ([0-9.]+) ms", out)
    if (count and not tiles) or not time or "PASS" not in out:
        sys.exit("unexpected output for %s:\n%s" % (label, out))
    if tiles:
        visited, total, visible = (int(x) for x in tiles.groups())
    else:
        # Every tile of the rectangle: 64 x 64 tiles, one sequence.
        total = ((q_len + 63) // 64) * ((kv_len + 63) // 64)
        visited, visible = total, None
    return (visited, total, visible, float(time.group(1)),
            float(built.group(1)) if built else None)


def main():
    record = "--record" in sys.argv[1:]
    if not os.path.exists(ATTNC):
        sys.exit("no %s: run scripts/setup.sh first" % ATTNC)
    lines = []
    with tempfile.TemporaryDirectory() as work:
        for shape, q_len, kv_len in SHAPES:
            lines.append("")
            lines.append("%s, bf16, d = 64, one head, tiles 64 x 64 (sim)" % shape)
            lines.append("")
            lines.append("| mask | KV tiles visited | of all | ideal (visible) "
                         "| visited / causal | sim time (ms, median of 3) "
                         "| block mask build (ms, once) |")
            lines.append("|---|---|---|---|---|---|---|")
            causal = None
            for label, mask, params, docs, extra in MASKS:
                visited, total, visible, ms, build = measure(
                    work, label, mask, params, docs, extra, q_len, kv_len)
                causal = causal or visited
                lines.append("| %s | %d | %d | %s | %.3f | %.1f | %s |" % (
                    label, visited, total,
                    "-" if visible is None else str(visible),
                    visited / causal, ms,
                    "-" if build is None else "%.1f" % build))
                print(lines[-1], flush=True)
    table = "\n".join(lines) + "\n"
    print(table)
    if record:
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write("\n## Custom masks: tiles visited (sim)\n\n"
                    "`python3 bench/custom_masks.py` on a 2-core CPU (no GPU), "
                    "sim backend.\n" + table)


if __name__ == "__main__":
    main()
