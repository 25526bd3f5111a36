"""The sub-case runner of the attack suite.

Every sub-case runs the same way:
  1. an "earlier" kernel connection to the echo port is opened and echoes;
  2. the attack runs (it may use the earlier connection as its victim);
  3. handshake must still run, the earlier connection must echo fresh
     bytes exactly, and a new kernel connection must connect and echo.
A sub-case fails with the first assertion that does not hold, and its
line says why. When an attack kills handshake the failure says so (with
any sanitizer report) and serve is restarted, so the remaining sub-cases
still give their answer: one run shows the whole picture.
"""
import os
import random
import time
import traceback

import pkt as P
from net import Fail, KConn, RawConn, expect

CASES = []


class Case:
    def __init__(self, name, func, fault, moves, group):
        self.name, self.func, self.fault, self.moves, self.group = name, func, fault, moves, group


def case(name, fault=None, moves=()):
    """Registers a sub-case. fault: the number of the issue-12 fault that
    makes it fail on e248a7f (shown with a failure, and in --list).
    moves: counters that must increase across the sub-case."""
    def deco(f):
        CASES.append(Case(name, f, fault, moves, f.__module__.replace("cases_", "")))
        return f
    return deco


class Ctx:
    def __init__(self, args, link, serve):
        self.args, self.link, self.serve = args, link, serve
        self.haddr, self.kaddr, self.kaddr2 = args.haddr, args.kaddr, args.kaddr2
        self.port, self.closed_port = 7, 9
        self.rng = random.Random(args.seed)
        self._src = 0
        self.raws = []
        self.earlier = None
        self.extra = []             # (name, ok, why, fault) sub-results of this case
        self.notes = []             # figures worth printing

    # ---- addresses and connections
    def new_src(self):
        """A fresh spoofed client address, 198.18.1.1 and up (never the
        kernel side's 198.18.0.0/24)."""
        self._src += 1
        n = self._src
        return f"198.18.{1 + n // 250}.{1 + n % 250}"

    def raw(self, connect=True, **kw):
        c = RawConn(self.link, self.new_src(), self.haddr, self.port, **kw)
        self.raws.append(c)
        if connect:
            c.connect()
        return c

    def kconn(self, src=None):
        return KConn(self.haddr, self.port, src)

    def sub(self, name, ok, why="", fault=None):
        """A further result line from the same attack."""
        self.extra.append((name, ok, why, fault))

    def info(self, msg):
        self.notes.append(msg)

    # ---- what handshake sent
    def from_hsk(self, since, dst, dport=None):
        return [p for p in self.link.since(since)
                if p.src == self.haddr and p.dst == dst and (dport is None or p.dport == dport)]

    def victim(self):
        """The earlier connection as an attacker who watched it sees it:
        handshake's SND.NXT and RCV.NXT and the peer's last TSval, from
        handshake's last segment on it."""
        lport = self.earlier.lport
        self.link.pump()
        segs = [p for p in self.link.since(0)
                if p.tcp_to(self.kaddr, lport) and p.src == self.haddr]
        expect(segs, "no segment of the earlier connection captured")
        p = segs[-1]
        ts = p.tsopt()
        return {"lport": lport, "snd_nxt": (p.seq + p.seg_len()) & 0xFFFFFFFF,
                "rcv_nxt": p.ack, "tsecr": ts[1] if ts else None,
                "tsval": ts[0] if ts else None}

    def to_victim(self, flags, seq, ack, data=b"", opts=b"", **kw):
        """A segment that claims to come from the earlier connection's
        kernel side."""
        return P.tcp_ip(self.kaddr, self.haddr, self.earlier.lport, self.port, seq, ack,
                        flags, opts=opts, data=data, **kw)

    def victim_replies(self, since):
        return self.from_hsk(since, self.kaddr, self.earlier.lport)

    def silence(self, since, dst, what, dur=0.3, dport=None):
        """Nothing from handshake to dst (and dport) for dur seconds."""
        got = self.link.collect(lambda p: p.src == self.haddr and p.dst == dst and
                                (dport is None or p.dport == dport), dur, since)
        if got:
            raise Fail(f"{what}: handshake answered {got[0]}" +
                       (f" (+{len(got) - 1} more)" if len(got) > 1 else ""))

    def probe(self, pkt, src, sport, dur=0.3):
        """Sends pkt, returns handshake's replies to src:sport within dur;
        a request it created is reset so it does not linger."""
        m = self.link.mark()
        self.link.send(pkt)
        got = self.link.collect(lambda p: p.tcp_to(src, sport) and p.src == self.haddr,
                                dur, m)
        for p in got:
            if p.flags & P.SYN and p.flags & P.ACK:
                self.link.send(P.tcp_ip(src, self.haddr, sport, p.sport, p.ack, 0, P.RST))
                break
        return got


def fmt(status, name, dur, why=""):
    return f"{status:<4} {name:<40} {dur:6.2f}s  {why}".rstrip()


class Runner:
    def __init__(self, ctx, out):
        self.ctx, self.out = ctx, out
        self.results = []

    def emit(self, status, name, dur, why=""):
        self.results.append((status, name, why))
        self.out.write(fmt(status, name, dur, why) + "\n")
        self.out.flush()

    def before(self):
        c = self.ctx
        c.link.open()
        c.raws, c.extra, c.notes = [], [], []
        c.earlier = c.kconn()
        c.earlier.echo(b"before " + os.urandom(32), what="earlier connection, before")

    def after(self):
        """The invariant every attack must leave standing."""
        c = self.ctx
        c.link.open()
        for r in c.raws:
            if not r.reset:
                r.abort()
        c.raws = []
        if not c.serve.alive():
            raise Fail("handshake died (exit %s): %s" %
                       (c.serve.p.returncode,
                        " | ".join(c.serve.sanitizer_reports()[:3]) or
                        c.serve.tail(3).replace("\n", " | ")))
        expect(c.earlier and c.earlier.s, "no earlier connection to check")
        c.earlier.echo(b"after " + os.urandom(64), what="earlier connection, after")
        n = c.kconn()
        n.echo(b"new " + os.urandom(64), what="new connection")
        n.close()
        c.earlier.close()

    @staticmethod
    def tag(fault):
        if not fault:
            return ""
        return f"  [issue 12 fault {fault}]" if isinstance(fault, int) else f"  [{fault}]"

    def run_case(self, k):
        c = self.ctx
        t0 = time.monotonic()
        why = None
        before = {}
        c.earlier = None
        try:
            self.before()
            if k.moves:
                before = c.serve.counters()
            k.func(c)
            if k.moves:
                now = c.serve.counters()
                for m in k.moves:
                    expect(now.get(m, 0) > before.get(m, 0), f"counter {m} did not move")
        except Fail as e:
            why = str(e)
        except Exception:
            why = "error in the test: " + traceback.format_exc(limit=3).replace("\n", " | ")
        try:
            self.after()
        except Fail as e:
            why = why or str(e)
            self.revive()
        if not c.serve.alive():
            c.serve.start()
        if c.earlier:
            c.earlier.close(rst=True)
        dur = time.monotonic() - t0
        if why is None:
            self.emit("PASS", k.name, dur)
        else:
            self.emit("FAIL", k.name, dur, why + self.tag(k.fault))
        for name, ok, w, fault in c.extra:
            self.emit("PASS" if ok else "FAIL", name, 0.0,
                      "" if ok else w + self.tag(fault))
        for n in c.notes:
            self.out.write(f"INFO {k.name}: {n}\n")

    def revive(self):
        """After a failed check: when handshake no longer takes new
        connections (hung, not dead), restart it so that the next
        sub-cases test something."""
        c = self.ctx
        if c.serve.alive():
            try:
                n = c.kconn()
                n.echo(b"alive?", timeout=1.0)
                n.close()
                return
            except Fail:
                pass
            self.out.write("INFO handshake stopped taking connections: restarted\n")
            c.serve.stop(timeout=3)

    def run(self, cases, budget):
        start = time.monotonic()
        for k in cases:
            if time.monotonic() - start > budget:
                self.emit("FAIL", k.name, 0.0, f"not run: the suite's {budget:.0f} s budget ran out")
                continue
            self.run_case(k)
