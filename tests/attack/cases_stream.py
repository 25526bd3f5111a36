"""A hostile peer inside its own connection: lying SACK blocks, a storm of
overlapping out-of-order segments, one 60,000-byte segment, data after
FIN. Whatever the peer does to its own connection, handshake must keep
its byte stream exact: what it echoes is what was sent, in order, once.
"""
import os

import pkt as P
from net import Fail, expect
from suite import case


def sack_opt(blocks):
    o = bytes([5, 2 + 8 * len(blocks)])
    for left, right in blocks:
        o += (left & 0xFFFFFFFF).to_bytes(4, "big") + (right & 0xFFFFFFFF).to_bytes(4, "big")
    return b"\x01\x01" + o


def finish_echo(c, data, got, what, timeout=4.0):
    rest = c.recv(len(data) - len(got), timeout)
    got += rest
    expect(not c.reset, f"{what}: connection reset")
    if got != data:
        i = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]), len(got))
        raise Fail(f"{what}: {len(got)}/{len(data)} bytes echoed, first difference at {i}")


@case("sack_blocks_that_lie")
def _(ctx):
    # handshake has a window of echo in flight; the peer, instead of
    # ACKing, sends duplicate ACKs whose SACK blocks are reversed, beyond
    # SND.NXT, below SND.UNA, 2 GiB wide, empty, overlapping. Then it ACKs
    # normally: every byte must come back exactly once, in order.
    c = ctx.raw(ts=True, sack=True)
    data = P.payload(40000, b"SACK-")
    for i in range(0, len(data), 1400):
        c.send(P.ACK | P.PSH, data[i:i + 1400])
    got = c.recv(len(data), 0.3, ack=False)
    expect(got, "no echo in flight to lie about")
    una = (c.rcv_nxt - len(got)) & 0xFFFFFFFF     # handshake's SND.UNA: we ACKed none
    nxt = c.rcv_nxt
    lies = [
        [(nxt, una)],                                   # reversed
        [(nxt + 1000, nxt + 100000)],                   # beyond SND.NXT
        [(una - 100000, una - 10)],                     # below SND.UNA
        [(una, una + 0x7FFFFFFF)],                      # 2 GiB
        [(una + 100, una + 100)],                       # empty
        [(una + 1448, una + 2896), (una + 1000, una + 5000), (una + 4000, una + 3000),
         (una - 5, nxt + 5)],                           # overlapping, all in one
        [(una + 2896 * k, una + 2896 * k + 1448) for k in range(4)],   # plausible
    ]
    for blocks in lies * 2:
        c.send(P.ACK, opts=P.ts_opt(c.tsval(), c.ts_recent) + sack_opt(blocks), ack=una)
    finish_echo(c, data, got, "echo after lying SACK blocks")


@case("reassembly_overlap_storm")
def _(ctx):
    # 120 segments, overlapping and out of order, all cut from one buffer,
    # plus far-future data that never becomes contiguous; the first bytes
    # come last. Any correct reassembly gives back exactly the buffer.
    c = ctx.raw(ts=True, sack=True)
    n = 12000
    data = P.payload(n, b"STORM-")
    base = c.snd_nxt
    segs, off = [], 0
    while off < n:                          # a tiling, so every byte is covered
        k = ctx.rng.randrange(1, 1400)
        segs.append((off, data[off:off + k]))
        off += k
    first = segs.pop(0)
    for _ in range(80):
        s = ctx.rng.randrange(1, n - 1)
        k = ctx.rng.randrange(1, 1400)
        segs.append((s, data[s:s + k]))
    for _ in range(10):
        s = n + ctx.rng.randrange(2000, 30000)
        segs.append((s, os.urandom(ctx.rng.randrange(1, 1000))))
    ctx.rng.shuffle(segs)
    for s, d in segs:
        c.send(P.ACK | P.PSH, d, seq=base + s, advance=False)
    c.send(P.ACK | P.PSH, first[1], seq=base, advance=False)
    c.snd_nxt = (base + n) & 0xFFFFFFFF
    finish_echo(c, data, b"", "echo after 120 overlapping segments")


@case("segment_of_60000_bytes")
def _(ctx):
    # One TCP segment of 60,000 bytes (41 fragments), more than handshake's
    # window may allow: what it takes must be a prefix, and the rest, sent
    # normally from its ACK on, completes the stream exactly.
    c = ctx.raw()
    data = P.payload(60000, b"HUGE-")
    seg = P.tcp(c.src, c.dst, c.sport, c.dport, c.snd_nxt, c.rcv_nxt, P.ACK | P.PSH, data=data)
    ctx.link.send(*P.fragments(c.src, c.dst, P.PROTO_TCP,
                               P.split(seg, [1480] * (len(seg) // 1480)), 0x6060))
    got = c.recv(len(data), 1.0)
    expect(got == data[:len(got)], "the echo of the big segment is not a prefix of it")
    taken = (c.peer_ack - c.snd_nxt) & 0xFFFFFFFF
    expect(taken <= len(data), f"handshake acknowledged {taken} of {len(data)} bytes")
    ctx.info(f"handshake took {taken} bytes of the 60,000-byte segment")
    c.snd_nxt = (c.snd_nxt + taken) & 0xFFFFFFFF
    for i in range(taken, len(data), 1400):
        c.send(P.ACK | P.PSH, data[i:i + 1400])
    finish_echo(c, data, got, "echo of the rest")


@case("data_after_fin")
def _(ctx):
    # "abc"+FIN, then bytes after the FIN: only "abc" is echoed, then FIN.
    c = ctx.raw()
    c.send(P.ACK | P.PSH | P.FIN, b"abc")
    c.send(P.ACK | P.PSH, b"AFTER-FIN", seq=c.snd_nxt + 1, advance=False)
    got = c.recv(3, 1.0)
    expect(got == b"abc", f"echo before FIN: {got!r}")
    extra = c.recv(100, 0.5)
    expect(not extra, f"data after FIN echoed: {extra!r}")
    expect(c.fin, "handshake did not close after echoing")


@case("fin_before_its_data")
def _(ctx):
    # The FIN segment arrives first, beyond a hole; the hole fills; every
    # byte then the FIN come back.
    c = ctx.raw(sack=True)
    data = P.payload(3000, b"FINFIRST-")
    base = c.snd_nxt
    c.send(P.ACK | P.PSH | P.FIN, data[2000:], seq=base + 2000, advance=False)
    c.send(P.ACK | P.PSH, data[1000:2000], seq=base + 1000, advance=False)
    c.send(P.ACK | P.PSH | P.FIN, data[2000:2500], seq=base + 2000, advance=False)
    c.send(P.ACK | P.PSH, data[:1000], seq=base, advance=False)
    c.snd_nxt = (base + 3001) & 0xFFFFFFFF
    got = c.recv(len(data), 1.5)
    expect(got == data, f"{len(got)}/{len(data)} bytes echoed"
           f"{'' if got == data[:len(got)] else ', different'}")
    c.recv(1, 1.0)
    expect(c.fin, "handshake did not close after echoing")


@case("data_beyond_window")
def _(ctx):
    # Data 1 GiB ahead and just past the advertised window: dropped, and
    # the stream goes on.
    c = ctx.raw()
    c.send(P.ACK | P.PSH, b"FAR" * 100, seq=c.snd_nxt + 0x40000000, advance=False)
    c.send(P.ACK | P.PSH, b"EDGE" * 100, seq=c.snd_nxt + 0x10000 * 4, advance=False)
    c.echo(b"in order " + os.urandom(200), 1.0)


@case("syn_with_data")
def _(ctx):
    # Data on a SYN (no Fast Open): handshake may queue it or drop it, but
    # the stream must start either with it, once, or without it.
    c = ctx.raw(connect=False)
    c.link.send(P.tcp_ip(c.src, c.dst, c.sport, c.dport, c.iss, 0, P.SYN,
                         opts=P.mss_opt(1460), data=b"ON-SYN"))
    sa = c.link.wait(lambda p: c.mine(p) and p.flags & P.SYN, 0.5, c.cursor)
    expect(sa, "no SYN-ACK to a SYN carrying data")
    took = (sa[0].ack - c.iss - 1) & 0xFFFFFFFF
    expect(took in (0, 6), f"SYN-ACK acknowledges {took} bytes of a 6-byte SYN payload")
    c.rcv_nxt = (sa[0].seq + 1) & 0xFFFFFFFF
    c.snd_nxt = (c.iss + 1 + took) & 0xFFFFFFFF
    c.cursor = c.link.mark()
    c.send(P.ACK)
    c.send(P.ACK | P.PSH, b"then this")
    want = (b"ON-SYN" if took else b"") + b"then this"
    got = c.recv(len(want), 1.0)
    expect(got == want, f"echo {got!r}, expected {want!r}")


def conn_rto_ms(ctx, c):
    """The RTO serve's SIGUSR1 table shows for raw connection c."""
    start = ctx.serve._log_size()
    ctx.serve.counters()
    lines = ctx.serve.text(start).splitlines()
    me = f"{c.src}:{c.sport}"
    for i, line in enumerate(lines):
        if me in line and i + 1 < len(lines) and "rto:" in lines[i + 1]:
            return float(lines[i + 1].split("rto:")[1].split()[0])
    raise Fail(f"{me} not in serve's table")


@case("rtt_sample_from_absurd_tsecr", fault="new: src/tcp/rtt.c:74")
def _(ctx):
    # Two genuine exchanges, then one ACK of new data whose TSecr is 2^31
    # ticks old. That echo cannot be of a segment this data rode on; taken
    # as an RTT sample (24 days) it sends the RTO to its 120 s cap, so any
    # later loss stalls the connection for two minutes. Linux takes TSecr
    # samples only for retransmitted data and ignores deltas over
    # INT_MAX/1000 ticks (tcp_rtt_tsopt_us).
    c = ctx.raw(ts=True)
    for k in range(3):
        c.send(P.ACK | P.PSH, P.payload(1000, b"tsecr-"))
        got = c.recv(1000, 1.0, ack=k < 2)
        expect(len(got) == 1000, f"echo {len(got)}/1000 bytes")
    c.send(P.ACK, opts=P.ts_opt(c.tsval(), c.ts_recent - 0x7FFFFF00))
    rto = conn_rto_ms(ctx, c)
    expect(rto <= 3000, f"RTO {rto:.0f} ms after one ACK echoing a 2^31-tick-old TSval")
