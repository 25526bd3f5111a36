"""Martian sources (RFC 1122 §3.2.1.3, RFC 9293 §3.10.7.2) and a peer's
absurd MSS (CVE-2019-11479 class).

Martians: a packet from loopback, multicast, broadcast, 0.0.0.0 or our own
address is never answered: no SYN-ACK, no RST, no echo reply (the replies
would go to addresses that cannot answer or to everyone, and SYN-ACKs to
our own address are the LAND attack). These packets never leave the
namespace: they are written into the TUN device by the suite.
"""
import pkt as P
from net import Fail, expect
from suite import case

MARTIANS = [
    ("loopback", "127.0.0.1", 11),
    ("loopback_net", "127.255.255.254", 11),
    ("zero", "0.0.0.0", None),
    ("limited_broadcast", "255.255.255.255", None),
    ("multicast", "224.0.0.1", None),
    ("multicast_scoped", "239.255.255.250", None),
    ("subnet_broadcast", "198.18.0.255", 11),
    ("own_address", "198.18.0.2", 11),
]


def martian(ctx, src):
    m = ctx.link.mark()
    for sport in (7, 4321):         # 7 -> 7 from our own address is LAND
        ctx.link.send(P.tcp_ip(src, ctx.haddr, sport, ctx.port, 1000 + sport, 0, P.SYN,
                               opts=P.mss_opt(1460)),
                      P.tcp_ip(src, ctx.haddr, sport, ctx.closed_port, 1, 1, P.ACK),
                      P.tcp_ip(src, ctx.haddr, sport, ctx.closed_port, 1, 0, P.SYN))
    ctx.link.send(P.icmp_ip(src, ctx.haddr, 8, 0, 0x77770001, b"martian ping"))
    got = ctx.link.collect(lambda p: p.src == ctx.haddr and p.dst == src, 0.3, m)
    if got:
        kinds = sorted({p.flagstr() if p.proto == P.PROTO_TCP else "ICMP %d" % p.icmp_type
                        for p in got})
        expect(False, f"{len(got)} replies to {src} ({', '.join(kinds)})")


for _name, _src, _fault in MARTIANS:
    def _make(src):
        return lambda ctx: martian(ctx, src)
    case(f"martian_{_name}", fault=_fault)(_make(_src))


# ---- the peer's MSS: floor it (Linux tcp_min_snd_mss 48), never exceed
# the path MTU, never stall. handshake echoes 6,000 bytes in segments
# whose count says which floor applies.
def tiny_mss(ctx, mss, ts, n=6000):
    c = ctx.raw(mss=mss, ts=ts)
    data = P.payload(n, b"MSS%d-" % mss)
    for i in range(0, n, 1200):     # back to back: the echo goes out in bulk
        c.send(P.ACK | P.PSH, data[i:i + 1200])
    got = c.recv(n, 4.0)
    segs = [p for p in c.seen if p.data]
    over = [p for p in c.seen if len(p.raw) > 1500]
    if over:
        raise Fail(f"MSS {mss}{' +TS' if ts else ''}: a {len(over[0].raw)}-byte packet "
                   "on a 1500-byte link")
    expect(got == data, f"MSS {mss}{' +TS' if ts else ''}: {len(got)}/{n} bytes echoed "
           f"in 4 s ({len(segs)} segments)")
    # 48 (Linux's floor) less 12 for timestamps is 36 bytes a segment; the
    # echo's chunking adds a short segment here and there: n/30.
    limit = n // 30
    expect(len(segs) <= limit, f"MSS {mss}{' +TS' if ts else ''}: {len(segs)} segments "
           f"for {n} bytes (at most {limit} with a 48-byte floor)")


@case("mss_1_with_timestamps", fault=4)
def _(ctx):
    tiny_mss(ctx, 1, True)


@case("mss_12_with_timestamps", fault=4)
def _(ctx):
    tiny_mss(ctx, 12, True)


@case("mss_13_with_timestamps", fault=4)
def _(ctx):
    tiny_mss(ctx, 13, True)


@case("mss_1_without_timestamps", fault=4)
def _(ctx):
    tiny_mss(ctx, 1, False)


@case("mss_65535")
def _(ctx):
    # Larger than the link: segments must still fit the 1500-byte MTU.
    c = ctx.raw(mss=65535)
    data = P.payload(6000, b"BIGMSS-")
    c.echo(data, 2.0)
    over = [p for p in c.seen if len(p.raw) > 1500]
    if over:
        raise Fail(f"a {len(over[0].raw)}-byte packet on a 1500-byte link")
