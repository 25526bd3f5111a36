#!/usr/bin/python3
"""Differential conformance: the same scripted peer, segment for segment,
against the Linux kernel and `handshake serve`; their replies compared
(docs/conformance.md). Run as root by test_conform.sh, which makes the
two namespaces.

  conform.py --hsk BUILD/handshake --hsk-ns NS --linux-ns NS --log DIR
             [--family 4|6] [-k REGEX] [--list] [--show]

--family 6 runs the scenarios over IPv6 (addresses from 2001:2::/48;
namespaces with IPv6 on: test_conform.sh makes a pair per family and runs
the two at once). One line per scenario: SAME, KNOWN (a difference known.py allows, in the
steps it names, with its reason) or DIFF (with both transcripts); exits 1
on any DIFF.
"""
import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "attack"))
sys.dont_write_bytecode = True    # no __pycache__ in the source tree

import duo                        # noqa: E402
import known                      # noqa: E402
import scen_open                  # noqa: E402,F401  (registers scenarios)
import scen_estab                 # noqa: E402,F401
import scen_close                 # noqa: E402,F401
import scen_active                # noqa: E402,F401
import scen_window                # noqa: E402,F401
import scen_ip                    # noqa: E402,F401
from sides import HskSide, LinuxSide  # noqa: E402


# Each family's addresses: the system, and the peer (on the Linux side the
# TUN's other end; on handshake's an address nobody in its namespace owns).
ADDRS = {
    4: dict(hsk_addr="198.18.0.2", hsk_peer="198.18.0.9",
            linux_addr="198.18.1.1", linux_peer="198.18.1.2"),
    6: dict(hsk_addr="2001:2::2", hsk_peer="2001:2::9",
            linux_addr="2001:2:0:1::1", linux_peer="2001:2:0:1::2"),
}


def show(steps, names):
    lines = []
    for label, out in steps:
        lines.append(f"    > {label}")
        for n in names:
            mark = " " if all(out[m] == out[n] for m in names) else "*"
            lines.append(f"   {mark}  {n:>9}: " + (" | ".join(out[n]) or "-"))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hsk")
    ap.add_argument("--hsk-ns")
    ap.add_argument("--hsk-dev", default="hsk0")
    ap.add_argument("--family", type=int, choices=(4, 6), default=4)
    ap.add_argument("--hsk-addr")
    ap.add_argument("--hsk-peer")
    ap.add_argument("--linux-ns")
    ap.add_argument("--linux-dev", default="hconf0")
    ap.add_argument("--linux-addr")
    ap.add_argument("--linux-peer")
    ap.add_argument("--log", default="/tmp")
    ap.add_argument("-k", dest="pattern", default="")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--show", action="store_true", help="every transcript, not only DIFFs")
    a = ap.parse_args()
    for k, v in ADDRS[a.family].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    fam = f"v{a.family}"

    todo = [(i, s) for i, s in enumerate(duo.SCENARIOS) if re.search(a.pattern, s.name)]
    if a.list:
        for _, s in todo:
            k = known.lookup(s.name, a.family)
            skip = s.skip.get(a.family)
            print(f"{s.name:36} {s.app or 'closed':8} {s.doc.splitlines()[0]}"
                  + (f"  [known: {k[0]}]" if k else "") + (f"  [skipped in {fam}: {skip}]"
                                                          if skip else ""))
        return 0
    skipped = [(i, s) for i, s in todo if a.family in s.skip]
    todo = [(i, s) for i, s in todo if a.family not in s.skip]
    names_all = {s.name for s in duo.SCENARIOS}
    bad = [n for n in known.KNOWN if n.split("@")[0] not in names_all]
    if bad:
        print(f"FAIL: known.py names no scenario: {', '.join(bad)}")
        return 1

    empty = os.path.join(a.log, "empty")
    open(empty, "wb").close()
    linux = LinuxSide(a.linux_ns, a.linux_dev, a.linux_peer, a.linux_addr)
    hsk = HskSide(a.hsk_ns, a.hsk_dev, a.hsk_peer, a.hsk_addr, a.hsk, a.log, empty)
    sides = [linux, hsk]
    names = [s.name for s in sides]
    t0 = time.monotonic()
    counts = {"SAME": 0, "KNOWN": 0, "DIFF": 0}
    stale = []
    # grouped by application: serve restarts only between groups
    # (the send group last: its too-bigs teach Linux a path MTU, flushed
    # after each, but nothing else is to depend on that)
    groups = ["discard", None, "close", "hold", "connect", "connect-shut", "send"]
    order = sorted(todo, key=lambda t: groups.index(t[1].app))
    try:
        for i, s in order:
            for side in sides:
                side.start(s.app or "discard")
            d = duo.Duo(sides, i, s.app)
            t = time.monotonic()
            try:
                s.func(d)
            except Exception as e:            # a scenario's own bug: say so, go on
                print(f"DIFF  {fam} {s.name}: the scenario raised {e!r}")
                counts["DIFF"] += 1
                continue
            finally:
                d.end()
            differ = [label for label, out in d.steps if out[names[0]] != out[names[1]]]
            k = known.lookup(s.name, a.family)
            if not differ:
                verdict = "SAME"
                if k:
                    stale.append(s.name)
            elif k and set(differ) <= set(k[1]):
                verdict = "KNOWN"
            else:
                verdict = "DIFF"
            counts[verdict] += 1
            why = f"  ({k[0]}: {k[2]})" if verdict == "KNOWN" else ""
            print(f"{verdict:5} {fam} {s.name} {time.monotonic() - t:.2f}s{why}")
            if verdict == "DIFF" or a.show:
                print(show(d.steps, names))
    finally:
        hsk.close()
        linux.close()
    for _, s in skipped:
        print(f"SKIP  {fam} {s.name}: {s.skip[a.family]}")
    print(f"{fam}: {len(order)} scenarios in {time.monotonic() - t0:.1f} s: "
          f"{counts['SAME']} same, {counts['KNOWN']} known differences, {counts['DIFF']} new"
          + (f", {len(skipped)} skipped" if skipped else ""))
    for n in stale:
        print(f"NOTE: {n} is in known.py but both now agree in {fam}: take it out")
    reports = hsk.sanitizer_reports()
    if reports:
        print("FAIL: sanitizer reports:\n  " + "\n  ".join(reports[:5]))
        return 1
    if any(rc != 0 for rc in hsk.exits):
        print(f"FAIL: handshake serve's exit statuses {hsk.exits} (0: a clean stop; "
              "a restart in a group or a death shows as another)")
        return 1
    return 1 if counts["DIFF"] else 0


if __name__ == "__main__":
    sys.exit(main())
