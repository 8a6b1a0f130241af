"""Custom masks under sim: KV tiles visited and emulator time per mask.

For each mask, `attnc run --count-tiles` runs the kernel under the sim
backend, counts the KV tiles its programs visit (and the tiles holding a
visible element, from the float64 reference's own evaluation of the mask:
the ideal), checks O and LSE, and times it. Document masks get D documents
of equal length (doc ids written into the saved inputs).

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

# (label, mask, params, documents)
MASKS = [
    ("causal", "kv <= q", "", 0),
    ("sliding window 256", "kv <= q && q - kv < 256", "", 0),
    ("sinks 4 + window 256", "kv <= q && (kv < 4 || q - kv < 256)", "", 0),
    ("dilated window 512 (every 2nd key)",
     "kv <= q && q - kv < 512 && (q - kv) % 2 == 0", "", 0),
    ("prefix-LM (1024) + window 256",
     "kv < prefix[b] || (kv <= q && q - kv < 256)",
     "  param prefix : i32[batch]\n", 0),
    ("document mask, 4 documents", "doc[b, q] == doc[b, kv] && kv <= q",
     "  param doc : i32[batch, ?]\n", 4),
    ("document mask, 16 documents", "doc[b, q] == doc[b, kv] && kv <= q",
     "  param doc : i32[batch, ?]\n", 16),
    ("document mask, 64 documents", "doc[b, q] == doc[b, kv] && kv <= q",
     "  param doc : i32[batch, ?]\n", 64),
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


def measure(work, label, mask, params, docs, q_len, kv_len):
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
    out = run(["run", spec, "--backend", "sim", "--inputs", inputs, "--check",
               "--count-tiles", "--time", "3"])
    tiles = re.search(r"tiles: visited (\d+) of (\d+) \((\d+) hold", out)
    time = re.search(r"time: ([0-9.]+) ms", out)
    if not tiles or not time or "PASS" not in out:
        sys.exit("unexpected output for %s:\n%s" % (label, out))
    visited, total, visible = (int(x) for x in tiles.groups())
    return visited, total, visible, float(time.group(1))


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
                         "| visited / causal | sim time (ms, median of 3) |")
            lines.append("|---|---|---|---|---|---|")
            causal = None
            for label, mask, params, docs in MASKS:
                visited, total, visible, ms = measure(work, label, mask, params,
                                                      docs, q_len, kv_len)
                causal = causal or visited
                lines.append("| %s | %d | %d | %d | %.3f | %.1f |" % (
                    label, visited, total, visible, visited / causal, ms))
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
