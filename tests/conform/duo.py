"""The scripted peer, run against both systems in lockstep, and what of
their replies is compared.

A scenario talks to a Duo: every segment it sends goes to both systems
(each with its own addresses, ISN bookkeeping and timestamps), and the
replies of each within a short window are normalized into what both must
agree on. Numbers in a scenario are relative: seq to the peer's ISN, ack
to the system's ISN (learnt from its SYN-ACK; before one, to ACK_BASE).
"""
import struct

import pkt as P
from ipforms import icmp_error
from sides import CLOSED_PORT, PORTS, collect, collect_until

WINDOW = 0.12           # replies counted within this after a segment
ACK_BASE = 0x40000000   # what ack=0 means before the system's ISN is known
TS_BASE = 1000000       # the peer's first TSval
WS, SACKOK, TS, MSS = 3, 4, 8, 2


def opt_mss(v):
    return struct.pack("!BBH", MSS, 4, v)


def opt_ws(shift):
    return struct.pack("!BBBB", 1, WS, 3, shift)


def opt_sackok():
    return b"\x01\x01\x04\x02"


def opt_sack(blocks):
    b = b"".join(struct.pack("!II", l & 0xFFFFFFFF, r & 0xFFFFFFFF) for l, r in blocks)
    return b"\x01\x01" + struct.pack("!BB", 5, 2 + len(b)) + b


def opt_ts(val, ecr):
    return P.ts_opt(val, ecr)


def s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


# Linux's SYN layout: MSS, SACK-permitted + timestamps, NOP + window scale.
def syn_opts(mss=1460, ws=7, sack=True, ts=True, tsecr=0, tsval=TS_BASE):
    o = opt_mss(mss) if mss is not None else b""
    if ts:
        t = opt_ts(tsval, tsecr)
        o += (b"\x04\x02" + t[2:]) if sack else t
    elif sack:
        o += opt_sackok()
    if ws is not None:
        o += opt_ws(ws)
    return o


class Conv:
    """One system's half of a scenario: its addresses and what the peer
    knows of the connection there."""

    def __init__(self, side, sport, dport, iss, windows=False):
        self.side, self.sport, self.dport, self.iss = side, sport, dport, iss
        self.irs = None             # the system's ISN
        self.ts_n = 0               # TSvals sent so far (TSval = TS_BASE + n)
        self.ts_recent = 0          # the system's last TSval
        self.ts_on = False          # the system's SYN or SYN-ACK had timestamps
        # The system's receive window as it advertised it last: its ACK
        # (raw), the window in bytes (scaled by its shift), the shift.
        self.rcv_nxt = self.wnd = None
        self.ws = 0
        # After a fill the two systems' RCV.NXT differ: seq_off moves this
        # side's numbers so that seq 1 is its RCV.NXT again; edge (raw),
        # when set, is where its window ended, shown as ack=EDGE.
        self.seq_off = 0
        self.edge = None
        self.ts_fill = None         # TSvals sent when the fill ended
        self.windows = windows      # a zero window shows (win=0)
        self.last = None            # the last packet the system sent us (raw)
        self.first_data = None      # the first one with data (raw)

    def mine(self, p):
        # (an active open's port is the system's choice: learnt from its SYN)
        return p.dport == self.sport and (self.dport is None or p.sport == self.dport)

    def packet(self, flags, seq, ack, data, opts, ts, urp, win):
        if opts is None:
            opts = b""
            if ts is True or (ts is None and self.ts_on) or type(ts) is int:
                self.ts_n += 1
                off = ts if type(ts) is int else 0
                opts = opt_ts(TS_BASE + self.ts_n + off, self.ts_recent)
        elif callable(opts):
            opts = opts(self)
        if callable(data):
            data = data(self)
        base = self.irs if self.irs is not None else ACK_BASE
        return P.tcp_ip(self.side.peer, self.side.addr, self.sport, self.dport,
                        self.iss + self.seq_off + seq, base + ack, flags, opts=opts,
                        data=data, urp=urp, win=win)

    def first_seg_end(self):
        """Where the system's first data segment ended (raw)."""
        p = P.Pkt(self.first_data)
        return p.seq + len(p.data)

    def norm(self, p):
        """What both systems must agree on in one reply."""
        self.last = p.raw
        if p.data and self.first_data is None:
            self.first_data = p.raw
        if p.flags & P.SYN:
            self.irs = p.seq        # a new incarnation re-bases (TIME_WAIT)
            self.dport = p.sport
        base = self.irs if self.irs is not None else ACK_BASE
        f = "".join(c for b, c in ((P.SYN, "S"), (P.FIN, "F"), (P.RST, "R"), (P.URG, "U"),
                                   (P.ACK, "A")) if p.flags & b)
        # a RST with SEQ=0 answers a segment without ACK (RFC 9293 §3.10.7.1)
        seq = "0 (raw)" if p.flags & P.RST and p.seq == 0 else s32(p.seq - base)
        r = f"{f} seq={seq}"
        if p.flags & P.ACK:
            at_edge = self.edge is not None and p.ack == self.edge
            r += " ack=EDGE" if at_edge else f" ack={s32(p.ack - self.iss - self.seq_off)}"
        if p.data:
            r += f" len={len(p.data)}"
        opts = P.parse_opts(p.opts)
        kinds = [k for k, _ in opts]
        if p.flags & P.SYN and p.flags & P.ACK:
            self.ws = next((b[0] for k, b in opts if k == WS and len(b) == 1), 0)
            self.ws = min(self.ws, 14)
        if p.flags & P.ACK and not p.flags & P.RST:
            self.rcv_nxt = p.ack
            self.wnd = p.win if p.flags & P.SYN else p.win << self.ws
            if self.windows and p.win == 0:
                r += " win=0"
        if p.flags & P.SYN:
            r += " <" + ",".join(n for k, n in ((MSS, "mss"), (WS, "ws"), (SACKOK, "sackok"),
                                                   (TS, "ts")) if k in kinds) + ">"
            if MSS in kinds:        # its value: the family's (1460; 1440 over IPv6)
                r += f" mss={p.mss()}"
        for k, b in opts:
            if k == TS and len(b) == 8:
                val, ecr = struct.unpack("!II", b)
                self.ts_recent = val
                if p.flags & P.SYN:
                    self.ts_on = True
                n = s32(ecr - TS_BASE)
                if self.ts_fill is not None and 0 < n <= self.ts_fill:
                    # the fill's TSvals: counted from its last
                    r += f" ecr=TSfill{n - self.ts_fill:+d}"
                else:
                    r += " ecr=" + ("0" if ecr == 0 else f"TS{n:+d}")
            elif k == 5 and not p.flags & P.SYN:
                bl = [struct.unpack("!II", b[i:i + 8]) for i in range(0, len(b) - 7, 8)]
                o = self.iss + self.seq_off
                r += " sack=" + ",".join(f"{s32(l - o)}-{s32(rr - o)}" for l, rr in bl)
        return r


def coalesce(replies):
    """A bare ACK followed at once by a FIN carrying the same numbers says
    nothing the FIN does not: dropped. (Linux delays the ACK of a FIN in
    the hope that its application's close lets the FIN carry it, RFC 1122
    §4.2.3.2; handshake ACKs a FIN at once. Which one a run shows is
    timing, not conformance.)"""
    out = []
    for i, r in enumerate(replies):
        nxt = replies[i + 1] if i + 1 < len(replies) else ""
        if r.startswith("A seq=") and " len=" not in r and " sack=" not in r and \
                nxt.startswith("FA ") and nxt[1:].split(" ecr=")[0] == r.split(" ecr=")[0]:
            continue
        out.append(r)
    return out


class Duo:
    """A scenario's handle: each call acts on both systems at once."""

    def __init__(self, sides, index, app):
        self.sides = sides
        self.app = app
        self.pmtu_learnt = False    # a too-big was sent: Linux keeps its MTU
        dport = None if app and app.startswith("connect") else PORTS.get(app, CLOSED_PORT)
        sport = 20000 + index * 7
        iss = 0x10000000 + index * 0x01000193
        self.convs = {s.name: Conv(s, sport, dport, iss, windows=app == "hold")
                      for s in sides}
        self.steps = []             # (label, {side: [normalized replies]})

    def _send(self, flags, seq, ack, data, opts, ts, urp, win, ip=None):
        for s in self.sides:
            raw = self.convs[s.name].packet(flags, seq, ack, data, opts, ts, urp, win)
            for r in (ip(raw) if ip else [raw]):
                s.send(r)

    def _mine(self, p):
        return any(c.mine(p) for c in self.convs.values())

    def _record(self, label, got):
        out = {}
        for s in self.sides:
            c = self.convs[s.name]
            out[s.name] = coalesce([c.norm(p) for p in got[s.name] if c.mine(p)])
        self.steps.append((label, out))
        return out

    def seg(self, label, flags, seq, ack=0, data=b"", opts=None, ts=None, urp=0,
            win=65535, wait=WINDOW, until=0, ip=None):
        """Sends one segment to both and records their replies. ts: None
        (a timestamp when agreed), False (none), an int (TSval offset,
        negative: older than the last), True (always one). until: flags
        that end the collection as soon as each side sent a segment with
        one (then `wait` bounds it: 0.5 s by default), e.g. the FIN an
        application sends when it closes. ip: the IP layer's form of it
        (ipforms.py: options, fragments)."""
        self._send(flags, seq, ack, data, opts, ts, urp, win, ip)
        if until:
            return self._record(label, collect_until(
                self.sides, lambda p: p.flags & until, self._mine,
                0.5 if wait is WINDOW else wait))
        return self._record(label, collect(self.sides, wait, self._mine))

    def syn(self, label="SYN", opts=None, flags=P.SYN, seq=0, data=b"", wait=0.5, win=65535,
            ip=None):
        """A SYN (default options: Linux's); waits for a SYN-ACK or RST
        from both (or `wait`), then WINDOW more for anything after it."""
        o = syn_opts() if opts is None else opts
        self._send(flags, seq, 0, data, o, False, 0, win, ip)
        got = collect_until(self.sides, lambda p: p.flags & (P.SYN | P.RST), self._mine, wait)
        more = collect(self.sides, WINDOW / 2, self._mine, grace=0)
        for n in got:
            got[n] += more[n]
        return self._record(label, got)

    def open_active(self, label="SYN from the system"):
        """The system connects to the peer: its SYN (the connect app)."""
        for s in self.sides:
            s.connect(self.convs[s.name].sport, shut=self.app == "connect-shut")
        got = collect_until(self.sides, lambda p: p.flags & P.SYN, self._mine, 3.0)
        return self._record(label, got)

    def fill(self, label="fill to a zero window", seg=1000, leave=False, rounds=12):
        """ESTABLISHED, the application not reading: each system gets
        data at its RCV.NXT, `seg` bytes a segment, up to the window it
        advertised last, round after round, until that window is 0 (leave:
        until exactly `seg` bytes of it are left open; its end then shows
        as ack=EDGE). The two take different amounts by design: afterwards
        seq 1 is each one's RCV.NXT again, the TSvals go on from one count,
        and a TSecr of the fill's shows as TSfill-N (N before its last).
        Recorded: the last reply of each (no TSecr), and the window where
        it did not close as asked."""
        keep = seg if leave else 0
        out = {}
        for s in self.sides:
            c = self.convs[s.name]
            last = []
            for _ in range(rounds):
                if c.wnd is None or c.wnd <= keep:
                    break
                nxt = c.rcv_nxt - c.iss - c.seq_off
                room = c.wnd
                while room > keep:
                    n = min(seg, room - keep)
                    s.send(c.packet(P.ACK | P.PSH, nxt, 1, bytes(n), None, None, 0, 65535))
                    nxt += n
                    room -= n
                got = [p for p in collect([s], WINDOW, self._mine)[s.name] if c.mine(p)]
                for p in got:
                    c.norm(p)
                last = got or last
            c.seq_off = c.rcv_nxt - c.iss - 1
            if leave:
                c.edge = c.rcv_nxt + c.wnd
            out[s.name] = [c.norm(p).split(" ecr=")[0] for p in last[-1:]]
            if c.wnd != keep:
                out[s.name].append(f"window {c.wnd}, not {keep}")
        common = max(c.ts_n for c in self.convs.values())
        for c in self.convs.values():
            c.ts_fill = c.ts_n
            c.ts_n = common
        self.steps.append((label, out))
        return out

    def icmp(self, label, v4, v6, wait=WINDOW, quote="last", mtu=0):
        """An ICMP error from the peer about the last segment each system
        sent it, or the first with data (quote="first"); v4, v6: (type,
        code) in each family; mtu: a too-big's next-hop MTU."""
        for s in self.sides:
            c = self.convs[s.name]
            q = c.first_data if quote == "first" else c.last
            s.send(icmp_error(s.peer, s.addr, q, v4, v6, mtu))
        self.pmtu_learnt = self.pmtu_learnt or bool(mtu)
        return self._record(label, collect(self.sides, wait, self._mine))

    def end(self):
        """After the scenario: the active opens go (their last words are
        nobody's: the next scenario has other ports)."""
        for s in self.sides:
            if hasattr(s, "end_connect"):
                s.end_connect()
            if self.pmtu_learnt and hasattr(s, "forget_pmtu"):
                s.forget_pmtu()

    def ack_synack(self, label="ACK", seq=1, ack=1, wait=0.03):
        return self.seg(label, P.ACK, seq, ack, wait=wait)

    def establish(self, **syn_kw):
        """SYN, SYN-ACK, ACK: ESTABLISHED on both (the peer's next seq is
        1, the system's 1)."""
        self.syn(**syn_kw)
        self.ack_synack()


SCENARIOS = []


class Scenario:
    def __init__(self, name, app, doc, func, skip):
        self.name, self.app, self.doc, self.func = name, app, doc, func
        self.skip = skip


def scenario(name, app="discard", skip=None):
    """Registers a scenario; app: the application behind the port
    ("discard", "close", or None: a closed port). The docstring says what
    is sent and what the RFC wants. skip: {family: why} where it cannot
    run (every scenario runs in both families unless it says why not)."""
    def deco(f):
        SCENARIOS.append(Scenario(name, app, (f.__doc__ or "").strip(), f, skip or {}))
        return f
    return deco
