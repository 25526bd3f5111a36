#!/usr/bin/env python3
"""Picks a small committed corpus out of a large grown one.

libFuzzer's -merge=1 keeps every input that adds a feature (edge counters,
value profiles): hundreds of files. For tests/fuzz/corpus/<target>/ we want
tens. This runs the merge once to learn which edges (COV lines of the merge
control file) each input reaches, then picks greedily the input adding the
most edges not yet covered (the smaller on a tie), replays each pick alone
with every check on (HSK_FUZZ_ALLOW unset) and drops it if it fails -- an
input showing a known, unfixed fault belongs in tests/fuzz/findings/ --
until MAX picks or no input adds an edge.

  tests/fuzz/pick_corpus.py build-fuzz/fuzz_stack OUT_DIR MAX IN_DIR...
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    binary, out, limit, dirs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    binary = os.path.abspath(binary)
    env = {k: v for k, v in os.environ.items() if k != "HSK_FUZZ_ALLOW"}
    with tempfile.TemporaryDirectory() as tmp:
        ctl = os.path.join(tmp, "control")
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        # Every check on: the merge skips an input that fails (it leaves
        # no COV line).
        subprocess.run([binary, "-merge=1", "-merge_control_file=" + ctl, empty] +
                       [os.path.abspath(d) for d in dirs], cwd=tmp, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = open(ctl).read().split("\n")
    nfiles = int(lines[0])
    files = lines[2:2 + nfiles]
    cov = {}
    for ln in lines[2 + nfiles:]:
        parts = ln.split()
        if len(parts) >= 2 and parts[0] == "COV":
            cov[int(parts[1])] = set(parts[2:])
    covered, picks = set(), []
    candidates = {i: c for i, c in cov.items() if c}
    while candidates and len(picks) < limit:
        best = max(candidates, key=lambda i: (len(candidates[i] - covered),
                                              -os.path.getsize(files[i])))
        gain = candidates.pop(best) - covered
        if not gain:
            break
        r = subprocess.run([binary, files[best]], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            print(f"skipped (fails with every check on): {files[best]}")
            continue
        covered |= gain
        picks.append(files[best])
    os.makedirs(out, exist_ok=True)
    for f in picks:
        data = open(f, "rb").read()
        shutil.copy(f, os.path.join(out, hashlib.sha1(data).hexdigest()))
    total = set().union(*cov.values()) if cov else set()
    print(f"{len(picks)} inputs cover {len(covered)} of the {len(total)} edges "
          f"the {nfiles} inputs reach; written to {out}")


if __name__ == "__main__":
    main()
