#!/usr/bin/env python3
"""Mutation testing for attnc: does the test suite catch realistic bugs?

For each mutant of tests/mutation/mutants.txt (a one-point edit found by
text), applies it to the source tree, rebuilds incrementally and runs the
tests its line names; a mutant is killed when a test fails (or the build
does, or a test times out), survives when every test passes. The source is
restored after each mutant, and a final rebuild leaves the build as it was.

    python3 scripts/mutate.py [--build DIR] [--only ID,...] [--list]

First each mutant's tests run on the unmutated source: a mutant whose
tests already fail is reported as broken, not counted (a failure would
prove nothing).
The build directory is --build, else $BUILD_DIR, else build. The tests
field of a mutant is a `ctest -R` regex, optionally followed by
` lit:REGEX`: then only the lit tests whose names match REGEX run (lit's
LIT_FILTER, applied to every lit directory the ctest regex selects), so a
mutant of the mask analysis need not run every lit test.

Safety, since the tree may be shared: one file is mutated at a time and
restored before the next, also on Ctrl-C, SIGTERM or SIGHUP and when the
build or a test fails; a journal (DIR/mutate-journal.json) records the
mutated file while it is mutated, and the next run restores it should this
one be killed outright. Files with uncommitted changes (`git status`) are
not mutated: their mutants are reported as busy, not counted.

Not part of CI (a rebuild and a test run per mutant): run it before a
release and after changing a pass, and record the score in docs/testing.md.
"""
import argparse
import json
import os
import signal
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
        # <NL> stands for a line break: a pattern unique only with its
        # neighbouring line.
        original = original.replace("<NL>", "\n")
        mutated = mutated.replace("<NL>", "\n")
        lit = None
        if " lit:" in tests:
            tests, lit = tests.split(" lit:", 1)
        mutants.append(dict(id=ident, file=file, original=original,
                            mutated=mutated, tests=tests.strip(), lit=lit,
                            what=what, line=number))
    return mutants


def run(cmd, log, env=None):
    with open(log, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        return subprocess.run(cmd, cwd=ROOT, stdout=out, env=env,
                              stderr=subprocess.STDOUT).returncode


class Journal:
    """The file being mutated, its original text and the mutated one, on
    disk while the mutant is applied."""

    def __init__(self, path):
        self.path = path

    def record(self, file, original, mutated):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as out:
            json.dump(dict(file=file, original=original, mutated=mutated), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    def clear(self):
        if os.path.exists(self.path):
            os.remove(self.path)

    def recover(self):
        """Restores a file a killed run left mutated."""
        if not os.path.exists(self.path):
            return
        entry = json.load(open(self.path))
        restore(entry["file"], entry["original"], entry["mutated"])
        print(f"restored {entry['file']} (left mutated by an earlier run)")
        self.clear()


def restore(path, original, mutated):
    """Puts `original` back where `mutated` was written. Should the file
    have changed meanwhile, only the mutated text is reverted."""
    current = open(path).read()
    if current == original:
        return
    if current != mutated:
        print(f"warning: {path} changed while mutated; reverting only the "
              f"mutation", file=sys.stderr)
        original = current.replace(mutated, original, 1) \
            if current.count(mutated) == 1 else current
    with open(path, "w") as out:
        out.write(original)


def modified_files():
    """Paths (relative to ROOT) with uncommitted changes."""
    out = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT,
                         capture_output=True, text=True).stdout
    return {line[3:].split(" -> ")[-1] for line in out.splitlines()}


def count_tests(build, regex):
    """How many ctest tests `regex` selects in `build`."""
    out = subprocess.run(["ctest", "--test-dir", build, "-N", "-R", regex],
                         cwd=ROOT, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("Total Tests:"):
            return int(line.split(":")[1])
    return 0


def raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class Uninterrupted:
    """Holds SIGINT, SIGTERM and SIGHUP back while a source file is
    written, so that no file is left half written."""

    def __enter__(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)

    def __exit__(self, *exc):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.environ.get("BUILD_DIR", "build"))
    parser.add_argument("--mutants",
                        default=os.path.join(ROOT, "tests/mutation/mutants.txt"))
    parser.add_argument("--only", default="", help="comma-separated ids")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--jobs", default="2", help="build and ctest jobs")
    parser.add_argument("--timeout", default="900",
                        help="seconds per test (a hang is a kill)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip running each mutant's tests unmutated")
    parser.add_argument("--log", default="/tmp/attnc-mutate.log")
    args = parser.parse_args()

    mutants = read_mutants(args.mutants)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m["id"] for m in mutants}
        if unknown:
            sys.exit(f"unknown mutant(s): {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m["id"] in wanted]
    if args.list:
        for m in mutants:
            print(f"{m['id']:24} {m['file']:40} {m['what']}")
        return 0

    # SIGINT too: a shell starts a background job with it ignored.
    for sig in SIGNALS:
        signal.signal(sig, raise_interrupt)
    build = os.path.join(ROOT, args.build)
    journal = Journal(os.path.join(build, "mutate-journal.json"))
    journal.recover()
    build_cmd = ["nice", "-n", "5", "cmake", "--build", build, "-j", args.jobs]

    def run_tests(m):
        env = dict(os.environ)
        if m["lit"]:
            # A selected lit directory none of whose tests match runs
            # nothing rather than failing.
            env["LIT_FILTER"] = m["lit"]
            env["LIT_OPTS"] = (env.get("LIT_OPTS", "") +
                               " --allow-empty-runs").strip()
        return run(["ctest", "--test-dir", build, "-R", m["tests"], "-j",
                    args.jobs, "--timeout", args.timeout,
                    "--output-on-failure"], args.log, env)

    results = []
    # The tests of each mutant must pass on the unmutated source, or a
    # failure would prove nothing.
    baseline = {}
    if not args.no_baseline:
        if run(build_cmd, args.log) != 0:
            sys.exit("the unmutated source does not build (see the log)")
        for m in mutants:
            key = (m["tests"], m["lit"])
            if key not in baseline:
                baseline[key] = run_tests(m) == 0
                if not baseline[key]:
                    print(f"baseline: the tests of {m['id']} ({m['tests']}"
                          f"{' lit:' + m['lit'] if m['lit'] else ''}) fail "
                          f"unmutated", flush=True)
    try:
        for i, m in enumerate(mutants, 1):
            path = os.path.join(ROOT, m["file"])
            if m["file"] in modified_files():
                results.append((m, "busy", "the file has uncommitted changes"))
                print(f"[{i}/{len(mutants)}] {m['id']}: BUSY ({m['file']} is "
                      f"being edited; not mutated)", flush=True)
                continue
            text = open(path).read()
            count = text.count(m["original"])
            if count != 1:
                results.append((m, "stale", f"pattern occurs {count} times"))
                print(f"[{i}/{len(mutants)}] {m['id']}: STALE ({count} matches)")
                continue
            if not baseline.get((m["tests"], m["lit"]), True):
                results.append((m, "broken", "its tests fail unmutated"))
                print(f"[{i}/{len(mutants)}] {m['id']}: BROKEN (its tests "
                      f"fail on the unmutated source)", flush=True)
                continue
            selected = count_tests(build, m["tests"])
            if selected == 0:
                results.append((m, "stale", "its regex selects no test"))
                print(f"[{i}/{len(mutants)}] {m['id']}: STALE (no test matches "
                      f"{m['tests']!r})")
                continue
            start = time.time()
            mutated = text.replace(m["original"], m["mutated"])
            try:
                with Uninterrupted():
                    journal.record(path, text, mutated)
                    with open(path, "w") as out:
                        out.write(mutated)
                if run(build_cmd, args.log) != 0:
                    verdict, why = "killed", "does not build"
                elif run_tests(m) != 0:
                    verdict, why = "killed", "a test fails"
                else:
                    verdict, why = "survived", "every test passes"
            finally:
                with Uninterrupted():
                    restore(path, text, mutated)
                    journal.clear()
            results.append((m, verdict, why))
            print(f"[{i}/{len(mutants)}] {m['id']}: {verdict.upper()} ({why}, "
                  f"{time.time() - start:.0f} s)", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: the source is restored", file=sys.stderr)
        return 130
    finally:
        run(build_cmd, args.log)

    counted = [r for r in results if r[1] in ("killed", "survived")]
    killed = sum(r[1] == "killed" for r in counted)
    print(f"\nscore: {killed}/{len(counted)} killed"
          + (f" ({100.0 * killed / len(counted):.0f}%)" if counted else "")
          + f", {sum(r[1] == 'stale' for r in results)} stale"
          + f", {sum(r[1] == 'busy' for r in results)} busy"
          + f", {sum(r[1] == 'broken' for r in results)} with failing tests")
    for m, verdict, why in results:
        if verdict != "killed":
            print(f"  {verdict}: {m['id']} ({m['file']}): {m['what']}")
    return 0 if all(r[1] == "killed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
