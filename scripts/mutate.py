#!/usr/bin/env python3
"""Mutation testing for attnc: does the test suite catch realistic bugs?

For each mutant of tests/mutation/mutants.txt (a one-point edit found by
text), applies it to the source tree, rebuilds incrementally and runs the
tests its line names; a mutant is killed when a test fails (or the build
does), survives when every test passes. The source is restored after each
mutant, and a final rebuild leaves the build as it was.

    python3 scripts/mutate.py [--build build] [--only ID,...] [--list]

Not part of CI (a rebuild and a test run per mutant): run it before a
release and after changing a pass, and record the score in docs/testing.md.
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_mutants(path):
    mutants = []
    for number, line in enumerate(open(path), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.rstrip("\n").split(" ||| ")]
        if len(fields) != 6:
            sys.exit(f"{path}:{number}: expected 6 fields, got {len(fields)}")
        ident, file, original, mutated, tests, what = fields
        mutants.append(dict(id=ident, file=file, original=original,
                            mutated=mutated, tests=tests, what=what,
                            line=number))
    return mutants


def run(cmd, log):
    with open(log, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        return subprocess.run(cmd, cwd=ROOT, stdout=out,
                              stderr=subprocess.STDOUT).returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--mutants",
                        default=os.path.join(ROOT, "tests/mutation/mutants.txt"))
    parser.add_argument("--only", default="", help="comma-separated ids")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--log", default="/tmp/attnc-mutate.log")
    args = parser.parse_args()

    mutants = read_mutants(args.mutants)
    if args.only:
        wanted = set(args.only.split(","))
        mutants = [m for m in mutants if m["id"] in wanted]
    if args.list:
        for m in mutants:
            print(f"{m['id']:24} {m['file']:40} {m['what']}")
        return 0

    results = []
    for i, m in enumerate(mutants, 1):
        path = os.path.join(ROOT, m["file"])
        text = open(path).read()
        count = text.count(m["original"])
        if count != 1:
            results.append((m, "stale", f"pattern occurs {count} times"))
            print(f"[{i}/{len(mutants)}] {m['id']}: STALE ({count} matches)")
            continue
        start = time.time()
        open(path, "w").write(text.replace(m["original"], m["mutated"]))
        try:
            if run(["cmake", "--build", args.build], args.log) != 0:
                verdict, why = "killed", "does not build"
            elif run(["ctest", "--test-dir", args.build, "-R", m["tests"],
                      "-j", "2"], args.log) != 0:
                verdict, why = "killed", "a test fails"
            else:
                verdict, why = "survived", "every test passes"
        finally:
            open(path, "w").write(text)
        results.append((m, verdict, why))
        print(f"[{i}/{len(mutants)}] {m['id']}: {verdict.upper()} ({why}, "
              f"{time.time() - start:.0f} s)", flush=True)
    run(["cmake", "--build", args.build], args.log)

    counted = [r for r in results if r[1] != "stale"]
    killed = sum(r[1] == "killed" for r in counted)
    print(f"\nscore: {killed}/{len(counted)} killed"
          + (f" ({100.0 * killed / len(counted):.0f}%)" if counted else "")
          + f", {len(results) - len(counted)} stale")
    for m, verdict, why in results:
        if verdict != "killed":
            print(f"  {verdict}: {m['id']} ({m['file']}): {m['what']}")
    return 0 if all(r[1] == "killed" for r in counted) else 1


if __name__ == "__main__":
    sys.exit(main())
