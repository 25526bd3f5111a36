#!/usr/bin/python3
"""The attack regression suite: run inside the namespace test_attack.sh
made, as root, with Debian's python3 (scapy).

  attack.py --hsk BUILD/handshake --dev hsk0 --log DIR [-k REGEX] [--list]

Prints one line per sub-case (PASS/FAIL, seconds, why), INFO lines with
the figures of the floods, then a summary; exits 1 when any sub-case
failed. -k runs only the sub-cases whose name matches REGEX.
"""
import argparse
import glob
import importlib
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True    # no __pycache__ in the source tree

import suite                      # noqa: E402
from net import Link, Serve       # noqa: E402

# Every cases_*.py registers its sub-cases; the groups run in this order
# (floods last: their after-effects must not blur the other answers).
GROUPS = ["malformed", "blind", "stream", "edges", "fuzz", "load"]
_found = {os.path.basename(f)[6:-3] for f in glob.glob(os.path.join(HERE, "cases_*.py"))}
for _g in [g for g in GROUPS if g in _found] + sorted(_found - set(GROUPS)):
    importlib.import_module("cases_" + _g)

# Counters that must have moved over the whole run, whatever the fixes.
FINAL_COUNTERS = ["InHdrErrors", "InCsumErrors", "ReasmFails", "TCPChallengeACK"]


def final_checks(runner, serve, ran):
    rc = serve.stop()
    text = serve.text()
    runner.emit("PASS" if rc == 0 else "FAIL", "serve_exits_cleanly", 0.0,
                "" if rc == 0 else f"exit status {rc} after SIGTERM")
    reports = serve.sanitizer_reports()
    runner.emit("PASS" if not reports else "FAIL", "no_sanitizer_reports", 0.0,
                " | ".join(reports[:3]))
    runner.emit("PASS" if serve.starts == 1 else "FAIL", "serve_never_restarted", 0.0,
                "" if serve.starts == 1 else f"handshake was restarted {serve.starts - 1} times "
                "(died or hung: see the FAIL lines above)")
    c = Serve.parse_counters(text)
    why = []
    if c.get("IllegalTransitions", 0):
        why.append(f"IllegalTransitions {c['IllegalTransitions']}")
    if len(ran) > 60:               # a whole run, not a -k selection
        why += [f"{n} is 0" for n in FINAL_COUNTERS if not c.get(n)]
    runner.emit("PASS" if not why else "FAIL", "serve_counters_sensible", 0.0, ", ".join(why))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hsk")
    ap.add_argument("--dev", default="hsk0")
    ap.add_argument("--haddr", default="198.18.0.2")
    ap.add_argument("--kaddr", default="198.18.0.1")
    ap.add_argument("--kaddr2", default="198.18.0.3")
    ap.add_argument("--prefix", default="24")
    ap.add_argument("--log", default="/tmp")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--budget", type=float, default=150.0)
    ap.add_argument("--exhaust", type=int, default=3000,
                    help="connections one source opens (default %(default)s)")
    ap.add_argument("--serve-args", default="",
                    help="more arguments for handshake serve (e.g. its limits)")
    ap.add_argument("-k", dest="pattern")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    cases = [k for k in suite.CASES if not args.pattern or re.search(args.pattern, k.name)]
    if args.list:
        for k in cases:
            print(f"{k.group:<10} {k.name:<44} {'fault ' + str(k.fault) if k.fault else ''}")
        return 0
    print(f"attack suite: {len(cases)} sub-cases, seed {args.seed}", flush=True)
    if "cases_load" in sys.modules:
        sys.modules["cases_load"].EXHAUST = args.exhaust
    serve = Serve(args.hsk, args.dev, f"{args.haddr}/{args.prefix}",
                  os.path.join(args.log, "serve.log"), extra=args.serve_args.split())
    serve.start()
    link = Link(args.dev)
    runner = suite.Runner(suite.Ctx(args, link, serve), sys.stdout)
    t0 = time.monotonic()
    try:
        runner.run(cases, args.budget)
    finally:
        final_checks(runner, serve, cases)
    fails = [r for r in runner.results if r[0] == "FAIL"]
    print(f"attack suite: {len(runner.results) - len(fails)} passed, {len(fails)} failed, "
          f"{time.monotonic() - t0:.1f} s, {link.sent} packets injected")
    for r in fails:
        print(f"  FAIL {r[1]}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
