#!/usr/bin/python3
"""Mutation testing for handshake: do the tests notice when a defence breaks?

Each mutant in tests/mutate/mutants.txt replaces one exact snippet of one
source file (a flipped comparison, an off-by-one constant, a removed guard).
For every mutant this script

  1. applies it to a scratch copy of the tree (the real tree is never
     touched, so Ctrl-C cannot leave it mutated),
  2. builds the normal (RelWithDebInfo) build, -j2,
  3. runs the tests `make check` runs in that build (ctest), the fast tiers
     first, stopping at the first failure,

and reports it KILLED (a test failed or timed out: which ones; a failure
of a shell-driven test, which runs in real time against the kernel, must
repeat on a second run to count, else it is reported as flaky), SURVIVED
(every test passed: a defence no test pins), BUILD ERROR (the mutant does
not compile under -Werror: not counted), or STALE / AMBIGUOUS (the snippet
is no longer in the file, or is there more than once: the list needs a
refresh; not run). A mutant the list marks `equivalent:` (no test can tell
it from the original, for the reason given) that survives is reported as
EQUIVALENT and left out of the ratio. The kill ratio is killed / (killed +
survived).

  scripts/mutate.py                  every mutant, every test
  scripts/mutate.py --fast           skip the slow tests (fuzz, loss, pcap)
  scripts/mutate.py --filter paws    mutants whose id or file matches
  scripts/mutate.py --list           validate the list only (seconds)
  scripts/mutate.py --build-only     and check that every mutant compiles
  scripts/mutate.py --jobs 2         two scratch trees at once
  scripts/mutate.py --filter icmp --tests test_icmp --no-baseline
                                     does the new test in test_icmp kill them?
  scripts/mutate.py --all-killers    run every test on each mutant, to learn
                                     every test that kills it (slower)

The format of the mutant list is described at the top of that file.
Standard library only (Debian's /usr/bin/python3 or any python3 >= 3.7).
"""

import argparse
import difflib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_LIST = os.path.join(ROOT, "tests", "mutate", "mutants.txt")

# The tests `make check` runs in the normal build, in the order that kills
# fastest: the cmocka unit and simulator tests (test_*: a virtual clock, the
# same answer every time; the two long randomized ones last), then the
# shell-driven tests (every other name: CLI, lint, report, attack, interop
# against the kernel: root + namespaces, real time), then the slow ones.
# --fast drops the last tier.
# (ctest's regular expressions have no lookahead: tiers are -R/-E pairs.)
CMOCKA_TESTS = r"^test_"
SLOW_CMOCKA = r"^test_(random|stream)$"
SLOW_TESTS = r"^(fuzz_test_fuzz|interop_test_loss|interop_test_pcap|cli_test_demo)$"


def is_shell(name):
    return not re.match(CMOCKA_TESTS, name)


class Mutant:
    def __init__(self, mid, lineno):
        self.id = mid
        self.lineno = lineno     # in the list file, for messages
        self.file = None
        self.what = None
        self.equivalent = None   # why no test can kill it, when known
        self.orig = []
        self.repl = []

    @property
    def original(self):
        return "\n".join(self.orig)

    @property
    def replacement(self):
        return "\n".join(self.repl)


def parse_list(path):
    """Reads the mutant list; raises ValueError on a malformed entry."""
    mutants, cur, seen = [], None, set()
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith("== "):
                cur = Mutant(line[3:].strip(), n)
                if not re.fullmatch(r"[A-Za-z0-9_.-]+", cur.id):
                    raise ValueError("%s:%d: bad id %r" % (path, n, cur.id))
                if cur.id in seen:
                    raise ValueError("%s:%d: duplicate id %s" % (path, n, cur.id))
                seen.add(cur.id)
                mutants.append(cur)
            elif line.startswith("#") or not line.strip():
                continue
            elif cur is None:
                raise ValueError("%s:%d: text before the first '== ID'" % (path, n))
            elif line.startswith("file:"):
                cur.file = line[5:].strip()
            elif line.startswith("what:"):
                cur.what = line[5:].strip()
            elif line.startswith("equivalent:"):
                cur.equivalent = line[11:].strip()
            elif line == "-" or line.startswith("- "):
                cur.orig.append(line[2:])
            elif line == "+" or line.startswith("+ "):
                cur.repl.append(line[2:])
            else:
                raise ValueError("%s:%d: unexpected line: %s" % (path, n, line))
    for m in mutants:
        if not m.file or not m.what or not m.orig:
            raise ValueError("%s:%d: mutant %s needs file:, what: and '- ' lines"
                             % (path, m.lineno, m.id))
        if m.original == m.replacement:
            raise ValueError("%s:%d: mutant %s changes nothing" % (path, m.lineno, m.id))
    return mutants


def snippet_re(lines):
    """The snippet as a regex: exact text, except that the whitespace at the
    start of its second and later lines matches any indentation."""
    parts = [re.escape(lines[0])]
    parts += [r"[ \t]*" + re.escape(l.lstrip(" \t")) for l in lines[1:]]
    return re.compile("\n".join(parts))


def locate(m, tree):
    """(status, detail): 'ok' with (mutated text, line), or 'stale' /
    'ambiguous' with a hint for refreshing the list."""
    path = os.path.join(tree, m.file)
    if not os.path.isfile(path):
        return "stale", "no file %s" % m.file
    with open(path, encoding="utf-8") as f:
        text = f.read()
    hits = list(snippet_re(m.orig).finditer(text))
    if not hits:
        first = m.orig[0].strip()
        lines = [l.strip() for l in text.splitlines()]
        close = difflib.get_close_matches(first, lines, n=1, cutoff=0.6)
        hint = " (closest line now: %r)" % close[0] if close else ""
        return "stale", "snippet not found in %s%s" % (m.file, hint)
    lines = [text.count("\n", 0, h.start()) + 1 for h in hits]
    if len(hits) > 1:
        return "ambiguous", "snippet occurs %d times in %s (lines %s)" % (
            len(hits), m.file, ", ".join(map(str, lines)))
    h = hits[0]
    return "ok", (text[:h.start()] + m.replacement + text[h.end():], lines[0])


# ---- running things, killable as a group ---------------------------------

_procs = set()
_procs_lock = threading.Lock()
_stopping = threading.Event()


def run(cmd, cwd, timeout, log):
    """Runs cmd in its own process group; returns (rc, output, timed_out)."""
    if _stopping.is_set():
        raise KeyboardInterrupt
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True,
                         env=os.environ.copy())
    with _procs_lock:
        _procs.add(p)
    try:
        out, _ = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, _ = p.communicate()
        timed_out = True
    finally:
        with _procs_lock:
            _procs.discard(p)
    out = out.decode("utf-8", "replace")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write("$ %s\n%s\n" % (" ".join(cmd), out))
    if _stopping.is_set():
        raise KeyboardInterrupt
    return p.returncode, out, timed_out


def kill_group(p):
    # TERM first: the interop tests' traps delete their namespaces.
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass


def kill_all():
    _stopping.set()
    with _procs_lock:
        procs = list(_procs)
    for p in procs:
        kill_group(p)


# ---- a scratch tree -------------------------------------------------------

def tree_files(root):
    """The files of the tree as git sees them (tracked and untracked, not
    ignored: uncommitted edits included), else everything but build dirs."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "-co",
                              "--exclude-standard"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        return [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            rel = os.path.relpath(d, root)
            dirs[:] = [x for x in dirs if not x.startswith(("build", ".git"))]
            files += [os.path.normpath(os.path.join(rel, n)) for n in names]
        return files


class Scratch:
    def __init__(self, base, idx, args):
        self.dir = os.path.join(base, "tree%d" % idx)
        self.build = os.path.join(self.dir, "build")
        self.log = os.path.join(base, "tree%d.log" % idx)
        self.args = args
        self.sync()

    def sync(self):
        """Makes the scratch copy hold the tree's files. A copy left by an
        earlier run (--keep --workdir DIR) is reused: only the files whose
        bytes differ are written (so only they are rebuilt) and files the
        tree no longer has are removed; its build directories stay."""
        want = set()
        for rel in tree_files(self.args.tree):
            src = os.path.join(self.args.tree, rel)
            if not os.path.isfile(src):
                continue                # deleted in the work tree
            with open(src, "rb") as f:
                data = f.read()
            want.add(rel)
            dst = os.path.join(self.dir, rel)
            if os.path.isfile(dst):
                with open(dst, "rb") as f:
                    if f.read() == data:
                        continue
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as f:
                f.write(data)
            shutil.copymode(src, dst)
        for d, dirs, names in os.walk(self.dir):
            if d == self.dir:
                dirs[:] = [x for x in dirs if not x.startswith("build") and x != ".git"]
            for n in names:
                rel = os.path.relpath(os.path.join(d, n), self.dir)
                if rel not in want:
                    os.remove(os.path.join(d, n))

    def configure(self):
        cmd = ["cmake", "-S", ".", "-B", "build", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
               "-DHSK_REQUIRE_TESTS=ON"]
        if not self.args.static:
            # The library shared, and the programs and tests not relinked
            # when it changes: a mutant costs one compile and one link, not
            # one compile and ~50 links of static executables.
            cmd += ["-DHSK_SHARED=ON", "-DCMAKE_LINK_DEPENDS_NO_SHARED=ON"]
        rc, out, _ = run(cmd, self.dir, 600, self.log)
        if rc != 0:
            raise RuntimeError("cmake failed in the scratch tree:\n" + out[-3000:])
        rc, out, _ = run(["ctest", "--test-dir", "build", "-N"], self.dir, 120, None)
        self.names = re.findall(r"Test\s+#\d+: (\S+)", out)
        if rc != 0 or not self.names:
            raise RuntimeError("ctest -N lists no test in the scratch tree")

    def build_tree(self):
        rc, out, to = run(["cmake", "--build", "build", "-j", str(self.args.build_jobs)],
                          self.dir, self.args.build_timeout, self.log)
        return rc == 0 and not to, out

    def ctest(self, select, exclude, stop, remaining):
        cmd = ["ctest", "--test-dir", "build", "-j", str(self.args.test_jobs),
               "--timeout", str(self.args.test_timeout), "--output-on-failure"]
        if stop:
            cmd.append("--stop-on-failure")
        if select:
            cmd += ["-R", select]
        if exclude:
            cmd += ["-E", exclude]
        rc, out, to = run(cmd, self.dir, max(remaining, 1), self.log)
        return rc, out, to

    def fails_again(self, name, deadline):
        rc, out, to = self.ctest("^%s$" % re.escape(name), None, False,
                                 deadline - time.monotonic())
        return to or rc != 0

    def run_tests(self, stop_early, hints=()):
        """Returns (killers, flaky, whole-run timeout). The cmocka tests run
        on a virtual clock and are deterministic: one failure kills. The
        shell-driven tests (real time, the real kernel, a shared machine)
        kill only when the failing test fails again on a second run; one
        that does not is reported as flaky and does not kill. `hints`: the
        tests that killed this mutant in an earlier run (--hints) go
        first, alone."""
        tiers = [[], [], [], []]
        for n in self.names:
            if self.args.tests and not re.search(self.args.tests, n):
                continue
            slow = re.search(SLOW_CMOCKA, n) or re.search(SLOW_TESTS, n)
            if slow and self.args.fast and is_shell(n):
                continue
            tiers[2 * is_shell(n) + bool(slow)].append(n)
        first = [h for h in hints if h in self.names] if stop_early else []
        tiers = [first] + [[n for n in t if n not in first] for t in tiers]
        tiers = [("^(%s)$" % "|".join(t), None) for t in tiers if t]
        killers, flaky = [], []
        deadline = time.monotonic() + self.args.timeout
        for select, exclude in tiers:
            # A tier of shell-driven tests runs whole: one that a flaky
            # failure stopped early would have to run again from the start.
            names = select[2:-2].split("|")
            stop = stop_early and not any(is_shell(n) for n in names)
            for _attempt in range(3):
                rc, out, to = self.ctest(select, exclude, stop,
                                         deadline - time.monotonic())
                f, t = parse_ctest(out)
                bad = f + t
                if to:
                    return killers + bad, flaky, True
                if rc != 0 and not bad:
                    bad = ["ctest(rc=%d)" % rc]   # no test ran?
                sure = [n for n in bad if not is_shell(n)]
                sure += [n for n in bad if is_shell(n) and
                         self.fails_again(n, deadline)]
                flaky += [n for n in bad if n not in sure]
                killers += ["%s(timeout)" % n if n in t else n for n in sure]
                # Killed, or the tier passed, or (not stopping early) every
                # test of the tier ran: this tier is done. Else only flaky
                # tests failed and stopped it early: run it again.
                if sure or not bad or not stop:
                    break
            if killers and stop_early:
                break
        return killers, flaky, False

    def write(self, rel, text):
        with open(os.path.join(self.dir, rel), "w", encoding="utf-8") as f:
            f.write(text)


CTEST_LINE = re.compile(r"Test\s+#\d+:\s+(\S+)\s+\.*\s*\*{0,3}(\S.*?)\s+[\d.]+ sec")


def parse_ctest(out):
    failed, timedout = [], []
    for line in out.splitlines():
        m = CTEST_LINE.search(line)
        if not m:
            continue
        name, status = m.group(1), m.group(2)
        if status.startswith("Passed") or status.startswith("Skipped") or \
           status.startswith("Not Run"):
            continue
        (timedout if "Timeout" in status else failed).append(name)
    return failed, timedout


# ---- the run ----------------------------------------------------------------

class Result:
    def __init__(self, m, status, detail="", line=0, secs=0.0, killers=(), flaky=()):
        self.m, self.status, self.detail = m, status, detail
        self.line, self.secs, self.killers = line, secs, list(killers)
        self.flaky = list(flaky)

    def as_dict(self):
        return {"id": self.m.id, "file": self.m.file, "line": self.line,
                "what": self.m.what, "equivalent": self.m.equivalent,
                "status": self.status,
                "killers": self.killers, "flaky": self.flaky,
                "detail": self.detail,
                "seconds": round(self.secs, 1)}


def test_mutant(sc, m, args):
    st, info = locate(m, sc.dir)
    if st != "ok":
        return Result(m, st.upper(), info)
    mutated, line = info
    path = os.path.join(sc.dir, m.file)
    with open(path, encoding="utf-8") as f:
        original = f.read()
    t0 = time.monotonic()
    try:
        sc.write(m.file, mutated)
        ok, out = sc.build_tree()
        if not ok:
            err = [l for l in out.splitlines() if "error:" in l] or \
                [l for l in out.splitlines() if "rror" in l]
            return Result(m, "BUILD ERROR", (err[0] if err else "build failed")[:200],
                          line, time.monotonic() - t0)
        if args.build_only:
            return Result(m, "BUILDS", "", line, time.monotonic() - t0)
        killers, flaky, whole = sc.run_tests(not args.all_killers,
                                             args.hint_map.get(m.id, ()))
    finally:
        # New mtime: the next build compiles the original again.
        sc.write(m.file, original)
    secs = time.monotonic() - t0
    if whole:
        killers.append("(mutant timeout %ds)" % args.timeout)
    note = "flaky, did not count: %s" % ", ".join(flaky) if flaky else ""
    if killers:
        if m.equivalent:
            note = "marked equivalent, yet killed: remove the mark"
        return Result(m, "KILLED", note, line, secs, killers, flaky)
    if m.equivalent:
        return Result(m, "EQUIVALENT", note, line, secs, (), flaky)
    return Result(m, "SURVIVED", note, line, secs, (), flaky)


def baseline(sc, args):
    """Every test on the unmutated tree (a job like a mutant, so the other
    trees start on the mutants meanwhile). Returns an error, or None."""
    t0 = time.monotonic()
    killers, flaky, whole = sc.run_tests(False)
    if killers or whole:
        return ("the unmutated tree fails its tests (%s): fix that first; log in %s"
                % (", ".join(killers) or "timeout", sc.log))
    print("mutate: baseline tests passed (%ds)%s" % (
        time.monotonic() - t0, "; flaky (failed once, passed again): " +
        ", ".join(flaky) if flaky else ""), flush=True)
    return None


def schedule(mutants, args):
    """The order to run them in: the ones likely to run every test first
    (no earlier killer known, then those marked equivalent), the quick
    kills (--hints) last, so that no tree sits idle at the end."""
    def cost(m):
        if m.id in args.hint_map:
            return -1 if args.quick_first else 2
        return 1 if m.equivalent else 0
    return sorted(range(len(mutants)), key=lambda i: cost(mutants[i]))


def report(results, args, elapsed):
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    killed = counts.get("KILLED", 0)
    survived = counts.get("SURVIVED", 0)
    ratio = 100.0 * killed / (killed + survived) if killed + survived else 0.0
    print()
    print("mutants: %d   killed: %d   survived: %d   equivalent: %d   build errors: %d   "
          "stale: %d   ambiguous: %d" % (
              len(results), killed, survived, counts.get("EQUIVALENT", 0),
              counts.get("BUILD ERROR", 0), counts.get("STALE", 0),
              counts.get("AMBIGUOUS", 0)))
    if args.build_only:
        print("build only: %d of %d mutants build   time: %dm%02ds" % (
            counts.get("BUILDS", 0), len(results), elapsed // 60, elapsed % 60))
    else:
        print("kill ratio: %.1f %% (killed / (killed + survived))%s   time: %dm%02ds" % (
            ratio, "  [--fast]" if args.fast else
            "  [--tests %s only]" % args.tests if args.tests else "",
            elapsed // 60, elapsed % 60))
    surv = [r for r in results if r.status == "SURVIVED"]
    if surv:
        print("\nsurvivors:")
        for r in surv:
            print("  %-28s %s:%d  %s" % (r.m.id, r.m.file, r.line, r.m.what))
    eq = [r for r in results if r.status == "EQUIVALENT"]
    if eq:
        print("\nequivalent (survive by design, not counted):")
        for r in eq:
            print("  %-28s %s:%d  %s" % (r.m.id, r.m.file, r.line, r.m.equivalent))
    bad = [r for r in results if r.status in ("STALE", "AMBIGUOUS", "BUILD ERROR")]
    if bad:
        print("\nneeds attention in %s:" % os.path.relpath(args.list, ROOT))
        for r in bad:
            print("  %-28s %-11s %s" % (r.m.id, r.status, r.detail))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"ratio": round(ratio, 1), "fast": args.fast,
                       "killed": killed, "survived": survived,
                       "equivalent": counts.get("EQUIVALENT", 0),
                       "results": [r.as_dict() for r in results]}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("| id | file:line | what it breaks | result | killed by |\n")
            f.write("|---|---|---|---|---|\n")
            for r in results:
                f.write("| %s | %s:%d | %s | %s | %s |\n" % (
                    r.m.id, r.m.file, r.line, r.m.what.replace("|", "\\|"),
                    r.status.lower(), ", ".join(r.killers)))
    return ratio, bool(bad and any(r.status != "BUILD ERROR" for r in bad))


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def print_result(i, n, r):
    tail = ", ".join(r.killers) if r.status == "KILLED" else ""
    if r.detail:
        tail = (tail + "  " if tail else "") + "(" + r.detail + ")"
    print("[%3d/%d] %-28s %-11s %5.0fs  %s" % (i, n, r.m.id, r.status, r.secs, tail),
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", dest="list_only", action="store_true",
                    help="only check that every mutant applies (stale, ambiguous)")
    ap.add_argument("--mutants", dest="list", default=DEFAULT_LIST,
                    help="the mutant list (default tests/mutate/mutants.txt)")
    ap.add_argument("--filter", help="regex on mutant id or file")
    ap.add_argument("--fast", action="store_true",
                    help="skip the slow tests (%s)" % SLOW_TESTS)
    ap.add_argument("--jobs", type=int, default=1, help="scratch trees at once")
    ap.add_argument("--build-jobs", type=int, default=2)
    ap.add_argument("--test-jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=900,
                    help="seconds for all tests of one mutant (default 900)")
    ap.add_argument("--test-timeout", type=int, default=120,
                    help="seconds per test without its own TIMEOUT (default 120)")
    ap.add_argument("--build-timeout", type=int, default=600)
    ap.add_argument("--build-only", action="store_true",
                    help="only build each mutant (finds mutants that do not compile)")
    ap.add_argument("--tests", metavar="REGEX",
                    help="run only these tests (ctest -R): for writing a test that "
                    "kills a mutant; the ratio then says nothing about make check")
    ap.add_argument("--all-killers", action="store_true",
                    help="run every test on every mutant (do not stop early)")
    ap.add_argument("--no-baseline", action="store_true",
                    help="do not run the tests on the unmutated tree first")
    ap.add_argument("--min-ratio", type=float, default=90.0,
                    help="exit 1 below this kill ratio in %% (default 90)")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--markdown", help="write the results table here")
    ap.add_argument("--hints", metavar="JSON",
                    help="a --json file of an earlier run: each mutant's killers "
                    "run first (a kill in seconds, not after the whole tier)")
    ap.add_argument("--quick-first", action="store_true",
                    help="run the mutants with --hints first (when time may run "
                    "out: the kill ratio first, the equivalents last)")
    ap.add_argument("--static", action="store_true",
                    help="keep the static library in the scratch trees (slower: "
                    "every mutant relinks every program)")
    ap.add_argument("--tree", default=ROOT,
                    help="the source tree to mutate (default: this one)")
    ap.add_argument("--workdir", help="where the scratch trees go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch trees")
    args = ap.parse_args()
    args.list = os.path.abspath(args.list)
    args.tree = os.path.abspath(args.tree)

    try:
        mutants = parse_list(args.list)
    except ValueError as e:
        print("mutate: %s" % e, file=sys.stderr)
        return 2
    args.hint_map = {}
    if args.hints:
        with open(args.hints, encoding="utf-8") as f:
            for r in json.load(f)["results"]:
                k = [re.sub(r"\(timeout\)$", "", x) for x in r.get("killers", [])
                     if not x.startswith("(")]
                if k:
                    args.hint_map[r["id"]] = k
    if args.filter:
        rx = re.compile(args.filter)
        mutants = [m for m in mutants if rx.search(m.id) or rx.search(m.file)]
    if not mutants:
        print("mutate: no mutant matches", file=sys.stderr)
        return 2

    if args.build_only:
        args.no_baseline = True
    if args.list_only:
        bad = 0
        for m in mutants:
            st, info = locate(m, args.tree)
            where = "%s:%d" % (m.file, info[1]) if st == "ok" else info
            bad += st != "ok"
            print("%-28s %-9s %s  -- %s" % (m.id, st, where, m.what))
        print("\n%d mutants, %d need a refresh" % (len(mutants), bad))
        return 1 if bad else 0

    if os.geteuid() != 0:
        print("mutate: not root: the interop tests will skip (they cannot kill)",
              file=sys.stderr)
    base = args.workdir or tempfile.mkdtemp(prefix="hsk-mutate-")
    os.makedirs(base, exist_ok=True)
    t_start = time.monotonic()
    results = [None] * len(mutants)
    threads = []
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        jobs = max(1, min(args.jobs, len(mutants)))
        print("mutate: %d mutants, %d scratch tree(s) in %s%s" % (
            len(mutants), jobs, base, ", --fast" if args.fast else ""), flush=True)
        trees = [Scratch(base, i, args) for i in range(jobs)]
        for sc in trees:
            sc.configure()
        tb = time.monotonic()
        print("mutate: building the scratch tree(s) ...", flush=True)
        for sc in trees:
            ok, out = sc.build_tree()
            if not ok:
                raise RuntimeError("the unmutated tree does not build:\n" + out[-3000:])
        print("mutate: built (%ds)%s" % (time.monotonic() - tb, "" if args.no_baseline
              else "; the baseline tests run as the first job"), flush=True)

        work = queue.Queue()
        if not args.no_baseline:
            work.put((-1, None))
        for i in schedule(mutants, args):
            work.put((i, mutants[i]))
        done = [0]
        lock = threading.Lock()
        errors = []
        failed = []

        def worker(sc):
            while not _stopping.is_set():
                try:
                    i, m = work.get_nowait()
                except queue.Empty:
                    return
                if m is None:
                    try:
                        err = baseline(sc, args)
                    except KeyboardInterrupt:
                        return
                    if err:
                        failed.append(err)
                        kill_all()
                        return
                    continue
                try:
                    r = test_mutant(sc, m, args)
                except KeyboardInterrupt:
                    return
                except Exception as e:          # report, keep going
                    errors.append("%s: %r" % (m.id, e))
                    r = Result(m, "BUILD ERROR", "internal: %r" % e)
                with lock:
                    results[i] = r
                    done[0] += 1
                    print_result(done[0], len(mutants), r)

        threads = [threading.Thread(target=worker, args=(sc,), daemon=True)
                   for sc in trees]
        for th in threads:
            th.start()
        while any(th.is_alive() for th in threads):
            for th in threads:
                th.join(0.5)
        if failed:
            raise RuntimeError(failed[0])
    except KeyboardInterrupt:
        kill_all()
        for th in threads:
            th.join(30)
        print("\nmutate: interrupted; the source tree was never modified", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        done_results = [r for r in results if r]
        if done_results:
            print("mutate: the %d of %d mutants that finished:" % (len(done_results),
                  len(mutants)), file=sys.stderr)
            report(done_results, args, int(time.monotonic() - t_start))
        return 130
    except RuntimeError as e:
        print("mutate: %s" % e, file=sys.stderr)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        return 2
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print("mutate: scratch trees and logs kept in %s" % base)
    results = [r for r in results if r]
    ratio, needs_refresh = report(results, args, int(time.monotonic() - t_start))
    if args.build_only:
        return 1 if any(r.status != "BUILDS" for r in results) else 0
    return 1 if needs_refresh or ratio < args.min_ratio else 0


if __name__ == "__main__":
    sys.exit(main())
