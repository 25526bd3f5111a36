"""A short, seeded random campaign (the suite's --seed; printed at the
start of every run, so a failure replays): header fields and option bytes
at random with valid checksums, to the listener and into an established
connection near its sequence numbers. Only survival is asserted (the
earlier connection and a new one, checked after every sub-case); under
the ASan build, any out-of-bounds read is a failure too.
"""
import pkt as P
from suite import case

COUNT = 2000


def rand_opts(rng):
    """Up to 40 bytes mixing well-formed and broken options."""
    out, want = b"", rng.choice((0, 4, 12, 20, 40))
    while len(out) < want:
        k = rng.random()
        if k < 0.15:
            out += P.mss_opt(rng.choice((0, 1, 12, 13, 48, 536, 1460, 65535)))
        elif k < 0.3:
            out += P.ts_opt(rng.getrandbits(32), rng.getrandbits(32))
        elif k < 0.4:
            out += bytes([1, 3, 3, rng.randrange(256)])
        elif k < 0.5:
            n = rng.randrange(5)
            out += bytes([1, 1, 5, 2 + 8 * n]) + rng.randbytes(8 * n)
        elif k < 0.6:
            out += bytes([4, 2, 1, 1])
        else:
            out += bytes([rng.randrange(256), rng.randrange(256)]) + rng.randbytes(2)
    out = out[:40]
    return out + bytes(-len(out) % 4)


@case("fuzz_listener_random_headers")
def _(ctx):
    rng = ctx.rng
    pkts = []
    for i in range(COUNT):
        src = P.rand_src(rng, first=200)
        seg = P.tcp(src, ctx.haddr, rng.randrange(1, 65536), rng.choice((ctx.port, ctx.closed_port)),
                    rng.getrandbits(32), rng.getrandbits(32), rng.randrange(256),
                    win=rng.randrange(65536), opts=rand_opts(rng),
                    data=rng.randbytes(rng.choice((0, 0, 1, 100))), urp=rng.randrange(65536),
                    doff=rng.randrange(16) if rng.random() < 0.2 else None)  # may lie
        ip_kw = {}
        if rng.random() < 0.1:
            ip_kw["frag"] = rng.randrange(1 << 16) & ~P.DF
        pkts.append(P.ipv4(src, ctx.haddr, P.PROTO_TCP, seg, **ip_kw))
    ctx.link.pause()
    d0 = ctx.link.tx_dropped()
    t = ctx.link.send_paced(pkts)
    ctx.link.open()
    ctx.info(f"{len(pkts)} packets in {t:.2f} s, {ctx.link.tx_dropped() - d0} dropped by the device")


@case("fuzz_established_random_segments")
def _(ctx):
    # Aimed at one live connection: sequence and ACK numbers near the real
    # ones, any flags, any options, some data.
    rng = ctx.rng
    c = ctx.raw(ts=True, sack=True)
    c.echo(P.payload(3000, b"warm-"), 1.0)
    pkts = []
    for i in range(COUNT):
        flags = rng.randrange(256) & ~(P.RST if rng.random() < 0.8 else 0)
        seq = c.snd_nxt + rng.choice((0, 1, -1, rng.randrange(-70000, 70000)))
        ack = c.rcv_nxt + rng.choice((0, 1, -1, rng.randrange(-70000, 70000)))
        pkts.append(c.packet(flags, rng.randbytes(rng.choice((0, 0, 1, 10, 500))), seq=seq,
                             ack=ack, opts=rand_opts(rng), win=rng.randrange(65536),
                             urp=rng.randrange(65536)))
    ctx.link.pause()
    d0 = ctx.link.tx_dropped()
    t = ctx.link.send_paced(pkts)
    ctx.link.open()
    ctx.info(f"{len(pkts)} packets in {t:.2f} s, {ctx.link.tx_dropped() - d0} dropped by the device")
