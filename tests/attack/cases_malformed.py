"""AMNESIA:33 / Ripple20 classes: IPv4 and TCP headers whose lengths and
offsets lie, TCP options of every bad length, the urgent pointer, and
fragments that overlap, are tiny, or run past 64 KiB.

What is asserted:
  - a packet that cannot be parsed safely is dropped: handshake says
    nothing at all to it (no SYN-ACK, no RST);
  - a malformed segment on an established connection never becomes data:
    the same bytes sent cleanly afterwards are echoed exactly once;
  - where a packet may legitimately be answered either way (bad TCP
    options: handshake drops the segment, Linux ignores the options), any
    answer must be well-formed (checksums, lengths, options, <= MTU);
  - handshake survives, the earlier connection still echoes, a new one
    connects (suite.py checks that after every sub-case).
"""
import os
import struct

import pkt as P
from net import expect
from suite import case


def syn(ctx, sport=None, **kw):
    """A SYN to the echo port from a fresh spoofed source."""
    src = ctx.new_src()
    sport = sport or ctx.rng.randrange(20000, 60000)
    ip_kw = kw.pop("ip_kw", {})
    return src, sport, P.ipv4(src, ctx.haddr, P.PROTO_TCP,
                              P.tcp(src, ctx.haddr, sport, ctx.port,
                                    ctx.rng.randrange(1 << 32), 0, kw.pop("flags", P.SYN),
                                    opts=kw.pop("opts", P.mss_opt(1460)), **kw),
                              **ip_kw)


def dropped(ctx, src, pkts, what):
    """Every packet in pkts is dropped without a word."""
    m = ctx.link.mark()
    ctx.link.send(*pkts)
    ctx.silence(m, src, what, dur=0.2)


def answered_wellformed(ctx, src, sport, pkt, what):
    got = ctx.probe(pkt, src, sport, dur=0.15)
    for p in got:
        bad = P.wellformed(p)
        expect(bad is None, f"{what}: malformed reply {p}: {bad}")
    return got


def estab_then_clean(ctx, bad_packet, what, size=48):
    """On a fresh raw connection: a malformed segment that would carry
    `data` at RCV.NXT, then the same data cleanly at the same sequence
    number: the echo must be exactly `data`, once."""
    c = ctx.raw()
    data = P.payload(size, b"ATTACK-" + what.encode()[:16] + b"-")
    ctx.link.send(bad_packet(c, data))
    ctx.link.collect(lambda p: False, 0.05, ctx.link.mark())
    c.send(P.ACK | P.PSH, data)
    got = c.recv(len(data), 1.0)
    expect(not c.reset, f"{what}: connection reset")
    expect(got == data, f"{what}: echo {len(got)} bytes, "
           f"{'equal' if got == data[:len(got)] else 'different'}; expected the "
           f"{len(data)} clean bytes once")
    extra = c.recv(1, 0.05)
    expect(not extra, f"{what}: more bytes echoed than sent: malformed segment taken as data")


# ---------------------------------------------------------------- IPv4
@case("ip_version_not_4")
def _(ctx):
    src, _, p = syn(ctx)
    dropped(ctx, src, [bytes([0x65]) + p[1:], bytes([0x55]) + p[1:]], "IP version 6/5")


@case("ip_ihl_below_5", moves=("InHdrErrors",))
def _(ctx):
    src, _, p = syn(ctx)
    dropped(ctx, src, [bytes([0x40 | ihl]) + p[1:] for ihl in range(5)], "IHL 0..4")


@case("ip_ihl_beyond_total_length", moves=("InHdrErrors",))
def _(ctx):
    # IHL 15 (60 bytes) in a 64-byte buffer whose total length says 44.
    src, _, p = syn(ctx, ip_kw={"ihl": 15, "trailer": bytes(20)})
    dropped(ctx, src, [p], "IHL 15, total length 44")


@case("ip_ihl_beyond_buffer", moves=("InHdrErrors",))
def _(ctx):
    src, _, p = syn(ctx, ip_kw={"ihl": 15})
    dropped(ctx, src, [p], "IHL 15 in a 44-byte packet")


@case("ip_total_length_beyond_buffer", moves=("InHdrErrors",))
def _(ctx):
    src, _, p = syn(ctx, ip_kw={"tot": 1000})
    src2, _, p2 = syn(ctx, ip_kw={"tot": 65535})
    m = ctx.link.mark()
    ctx.link.send(p, p2)
    ctx.silence(m, src, "total length 1000 in 44 bytes", dur=0.1)
    ctx.silence(m, src2, "total length 65535 in 44 bytes", dur=0.1)


@case("ip_total_length_below_header", moves=("InHdrErrors",))
def _(ctx):
    src, _, p = syn(ctx, ip_kw={"tot": 19})
    src2, _, p2 = syn(ctx, ip_kw={"tot": 0})
    m = ctx.link.mark()
    ctx.link.send(p, p2)
    ctx.silence(m, src, "total length 19", dur=0.1)
    ctx.silence(m, src2, "total length 0", dur=0.1)


@case("ip_total_length_cuts_tcp_header")
def _(ctx):
    src, _, p = syn(ctx, ip_kw={"tot": 30})
    dropped(ctx, src, [p], "total length leaves 10 bytes of TCP header")


@case("ip_bad_checksum", moves=("InHdrErrors",))
def _(ctx):
    src, _, p = syn(ctx, ip_kw={"check": 0x1234})
    dropped(ctx, src, [p], "bad IP header checksum")


@case("ip_trailing_padding_ignored")
def _(ctx):
    # Bytes after the total length are link padding: the SYN is valid and
    # its checksum covers only what the total length says.
    src, sport, p = syn(ctx, ip_kw={"trailer": os.urandom(26)})
    got = answered_wellformed(ctx, src, sport, p, "SYN with 26 bytes of padding")
    expect(any(p.flags & P.SYN and p.flags & P.ACK for p in got),
           "a valid SYN followed by link padding got no SYN-ACK")


@case("ip_options_honoured")
def _(ctx):
    # IHL 6 with four NOPs: the TCP header starts at byte 24.
    src, sport, p = syn(ctx, ip_kw={"opts": b"\x01\x01\x01\x01"})
    got = answered_wellformed(ctx, src, sport, p, "SYN behind IP options")
    expect(any(p.flags & P.SYN and p.flags & P.ACK for p in got),
           "a SYN behind 4 bytes of IP options got no SYN-ACK")


@case("ip_options_bad_length")
def _(ctx):
    for name, o in (("LSRR len 0", b"\x83\x00\x00\x00"), ("TS len 255", b"\x44\xff\x00\x00"),
                    ("RR len 1", b"\x07\x01\x00\x00"), ("len 40", b"\x94\x28" + bytes(38))):
        src, sport, p = syn(ctx, ip_kw={"opts": o})
        answered_wellformed(ctx, src, sport, p, f"IP option {name}")


@case("ip_not_for_us")
def _(ctx):
    src = ctx.new_src()
    pkts = [P.tcp_ip(src, d, 4000, ctx.port, 1, 0, P.SYN, opts=P.mss_opt(1460))
            for d in ("198.18.0.77", "198.18.0.255", "255.255.255.255", "224.0.0.1")]
    dropped(ctx, src, pkts, "SYN to another, broadcast or multicast address")


@case("ip_unknown_protocol")
def _(ctx):
    src = ctx.new_src()
    m = ctx.link.mark()
    ctx.link.send(*[P.ipv4(src, ctx.haddr, proto, os.urandom(32)) for proto in (0, 17, 41, 253, 255)])
    got = ctx.link.collect(lambda p: p.src == ctx.haddr and p.dst == src, 0.2, m)
    # RFC 1122 3.2.2.1: answered (the stack's error rate limit lets ten
    # through at once)
    expect(len(got) == 5, f"{len(got)} protocol unreachables for 5 unknown protocols")
    for p in got:
        expect(p.proto == P.PROTO_ICMP and p.icmp_type == 3 and p.icmp_code == 2,
               f"unknown protocol answered with {p}")
        bad = P.wellformed(p)
        expect(bad is None, f"malformed ICMP reply {p}: {bad}")


# ---------------------------------------------------------------- TCP header
@case("tcp_data_offset_below_5", moves=("InErrs",))
def _(ctx):
    src, _, _ = syn(ctx)
    pkts = [P.ipv4(src, ctx.haddr, P.PROTO_TCP,
                   P.tcp(src, ctx.haddr, 4000 + doff, ctx.port, 1, 0, P.SYN, doff=doff))
            for doff in range(5)]
    dropped(ctx, src, pkts, "data offset 0..4")
    estab_then_clean(ctx, lambda c, d: c.packet(P.ACK | P.PSH, d, doff=4), "doff 4 on data")


@case("tcp_data_offset_beyond_segment", moves=("InErrs",))
def _(ctx):
    src = ctx.new_src()
    pkts = [P.ipv4(src, ctx.haddr, P.PROTO_TCP,
                   P.tcp(src, ctx.haddr, 4000 + doff, ctx.port, 1, 0, P.SYN, doff=doff))
            for doff in (6, 10, 15)]
    dropped(ctx, src, pkts, "data offset past a 20-byte segment")
    estab_then_clean(ctx, lambda c, d: c.packet(P.ACK | P.PSH, d[:8], doff=15),
                     "doff 15 on 28 bytes")


@case("tcp_header_short", moves=("InErrs",))
def _(ctx):
    src = ctx.new_src()
    full = P.tcp(src, ctx.haddr, 4000, ctx.port, 1, 0, P.SYN)
    pkts = [P.ipv4(src, ctx.haddr, P.PROTO_TCP, full[:n]) for n in (0, 1, 8, 12, 19)]
    dropped(ctx, src, pkts, "TCP header of 0..19 bytes")


@case("tcp_bad_checksum", moves=("InCsumErrors",))
def _(ctx):
    src, _, p = syn(ctx, check=0xBEEF)
    dropped(ctx, src, [p], "SYN with a bad checksum")
    estab_then_clean(ctx, lambda c, d: c.packet(P.ACK | P.PSH, d, check=0xBEEF),
                     "bad checksum on data")
    # A checksum computed over a longer segment than the IP header says.
    estab_then_clean(ctx, lambda c, d: c.packet(P.ACK | P.PSH, d,
                                                ip_kw={"tot": 20 + 20 + len(d) - 8}),
                     "data cut by the IP total length")


@case("tcp_flag_combinations")
def _(ctx):
    for name, f in (("SYN+FIN", P.SYN | P.FIN), ("SYN+RST", P.SYN | P.RST),
                    ("all flags", 0xFF), ("no flags", 0), ("FIN+PSH+URG", P.FIN | P.PSH | P.URG),
                    ("SYN+URG", P.SYN | P.URG)):
        src, sport, p = syn(ctx, flags=f, urp=0xFFFF)
        got = answered_wellformed(ctx, src, sport, p, name)
        for r in got:
            expect(not (f & P.RST and r.flags & P.RST), f"{name}: RST answered with RST")
        dport_closed = P.tcp_ip(src, ctx.haddr, sport + 1, ctx.closed_port, 1, 0, f)
        answered_wellformed(ctx, src, sport + 1, dport_closed, f"{name} to a closed port")


@case("tcp_port_zero")
def _(ctx):
    src, sport, p = syn(ctx, sport=0)
    answered_wellformed(ctx, src, 0, p, "SYN from port 0")
    src = ctx.new_src()
    answered_wellformed(ctx, src, 4000, P.tcp_ip(src, ctx.haddr, 4000, 0, 1, 0, P.SYN),
                        "SYN to port 0")


# ---------------------------------------------------------------- TCP options
BAD_OPTS = [
    ("len0_mss", b"\x02\x00\x00\x00"),
    ("len0_unknown", b"\xfd\x00\x00\x00"),
    ("len1_unknown", b"\xfd\x01\x00\x00"),
    ("len1_ts", b"\x08\x01\x01\x01"),
    ("len255_unknown", b"\xfd\xff\x00\x00"),
    ("len_past_end", b"\x01\x01\x08\x0a"),
    ("len_past_40", b"\x01" * 36 + b"\xfd\x08\x00\x00"),
    ("mss_len3", b"\x02\x03\x05\x00"),
    ("mss_len5", b"\x02\x05\x05\xb4\x00\x00\x00\x00"),
    ("mss_0", P.mss_opt(0)),
    ("ws_len2", b"\x03\x02\x01\x01"),
    ("ws_len4", b"\x03\x04\x07\x00"),
    ("ws_255", b"\x01\x03\x03\xff"),
    ("sackperm_len3", b"\x04\x03\x00\x01"),
    ("sack_len2", b"\x05\x02\x01\x01"),
    ("sack_len9", b"\x05\x09" + bytes(7) + b"\x00\x00\x00"),
    ("sack_len11", b"\x05\x0b" + bytes(9) + b"\x00"),
    ("sack_len40", b"\x05\x28" + os.urandom(38)),
    ("sack_4_wild_blocks", b"\x01\x01\x05\x22" + os.urandom(32)),
    ("ts_len9", b"\x08\x09" + bytes(7) + b"\x00\x00\x00"),
    ("ts_len11", b"\x08\x0b" + bytes(9) + b"\x00"),
    ("eol_then_garbage", b"\x00\xfd\x00\xff"),
    ("eol_then_mss_16", b"\x00\x00\x00\x00\x02\x04\x00\x10"),
    ("nop_40", b"\x01" * 40),
    ("unknown_40", b"\xfd\x28" + os.urandom(38)),
    ("mss_twice", P.mss_opt(1460) + P.mss_opt(88)),
    ("md5_tfo_mptcp", b"\x13\x12" + bytes(16) + b"\x22\x0a" + bytes(8) + b"\x1e\x04\x00\x00"),
]

for _name, _opts in BAD_OPTS:
    def _make(opts, name):
        def f(ctx):
            src, sport, p = syn(ctx, opts=opts)
            answered_wellformed(ctx, src, sport, p, f"SYN with {name}")
            estab_then_clean(ctx, lambda c, d: c.packet(P.ACK | P.PSH, d, opts=opts),
                             f"data with {name}")
        return f
    case(f"opt_{_name}")(_make(_opts, _name))


# ---------------------------------------------------------------- urgent pointer
def urg_echo(ctx, what, *segs):
    """Sends segs (flags, data, urp) on a fresh connection: the echo must be
    every byte, in order, exactly once (urgent data stays inline)."""
    c = ctx.raw()
    want = b""
    for flags, data, urp in segs:
        c.send(flags, data, urp=urp)
        want += data
    got = c.recv(len(want), 1.0)
    expect(not c.reset, f"{what}: connection reset")
    expect(got == want, f"{what}: echoed {got[:40]!r}..., sent {want[:40]!r}...")


@case("urg_pointer_beyond_data")
def _(ctx):
    urg_echo(ctx, "URG, pointer 1000 past 10 bytes",
             (P.ACK | P.PSH | P.URG, b"0123456789", 1000), (P.ACK | P.PSH, b"abcdef", 0))


@case("urg_pointer_max")
def _(ctx):
    urg_echo(ctx, "URG, pointer 65535", (P.ACK | P.PSH | P.URG, b"urgent?", 0xFFFF),
             (P.ACK | P.PSH | P.URG, b"again", 0xFFFF), (P.ACK | P.PSH, b"plain", 0))


@case("urg_pointer_without_flag")
def _(ctx):
    urg_echo(ctx, "pointer set, URG clear", (P.ACK | P.PSH, b"no urgent here", 7),
             (P.ACK | P.PSH, b"nor here", 0xFFFF))


@case("urg_pointer_zero")
def _(ctx):
    urg_echo(ctx, "URG, pointer 0", (P.ACK | P.PSH | P.URG, b"zero pointer", 0),
             (P.ACK | P.PSH, b"after", 0))


@case("urg_without_data")
def _(ctx):
    urg_echo(ctx, "URG on a pure ACK", (P.ACK | P.URG, b"", 0xFFFF),
             (P.ACK | P.PSH, b"data after", 0))


# ---------------------------------------------------------------- fragments
def frag_segment(c, data, flags=P.ACK | P.PSH, seq=None):
    """The TCP segment (no IP header) carrying data on raw connection c."""
    return P.tcp(c.src, c.dst, c.sport, c.dport, c.snd_nxt if seq is None else seq,
                 c.rcv_nxt, flags, opts=c.opts(), data=data)


def frag_echo(ctx, pieces_of, what, size=200, expect_echo=True):
    """Sends a data segment of `size` bytes as the fragments
    pieces_of(seg, fix) gives (fix(bytes) recomputes the TCP checksum of a
    rewritten segment). expect_echo: the datagram is valid and must be
    echoed exactly; otherwise it must not be delivered, and the data sent
    cleanly after it is echoed exactly once."""
    c = ctx.raw()
    data = P.payload(size, b"FRAG-" + what.encode()[:12] + b"-")
    seg = frag_segment(c, data)

    def fix(b):
        b = b[:16] + b"\0\0" + b[18:]
        ph = struct.pack("!4s4sBBH", P.aton(c.src), P.aton(c.dst), 0, P.PROTO_TCP, len(b))
        return b[:16] + struct.pack("!H", P.csum(ph + b)) + b[18:]
    ident = ctx.rng.randrange(1, 65536)
    ctx.link.send(*P.fragments(c.src, c.dst, P.PROTO_TCP, pieces_of(seg, fix), ident))
    got = c.recv(len(data), 0.5 if expect_echo else 0.25)
    expect(not c.reset, f"{what}: connection reset")
    if expect_echo:
        expect(got == data, f"{what}: {len(got)}/{len(data)} bytes echoed"
               f"{'' if got == data[:len(got)] else ', different'}")
        return
    expect(not got, f"{what}: the datagram was delivered ({len(got)} bytes echoed"
           f"{', corrupted' if got != data[:len(got)] else ''})")
    c.send(P.ACK | P.PSH, data)
    got = c.recv(len(data), 1.0)
    expect(got == data, f"{what}: clean resend echoed {len(got)}/{len(data)} bytes")


@case("frag_valid_two")
def _(ctx):
    frag_echo(ctx, lambda s, fix: P.split(s, [96]), "two fragments")


@case("frag_tiny_8_bytes")
def _(ctx):
    # The TCP header split over 8-byte fragments: legal IPv4 (RFC 1858
    # only asks filters to mind offset 1).
    frag_echo(ctx, lambda s, fix: P.split(s, [8] * (len(s) // 8)), "8-byte fragments",
              size=60)


@case("frag_out_of_order_and_duplicate")
def _(ctx):
    def pieces(s, fix):
        p = P.split(s, [64, 64])
        return [p[2], p[1], p[1], p[0], p[2]]
    frag_echo(ctx, pieces, "reversed, with exact duplicates")


@case("frag_overlap_rewrites_data", moves=("ReasmFails",))
def _(ctx):
    # The second fragment starts 16 bytes early with different bytes, and
    # the TCP checksum is that of the rewritten segment: an assembler that
    # lets the later fragment win delivers forged data (Linux and
    # handshake's frag.c drop the datagram on any overlap).
    def pieces(s, fix):
        evil = fix(s[:80] + bytes(b ^ 0x5A for b in s[80:96]) + s[96:])
        return [(0, evil[:80], True), (80, s[80:96], True), (80, evil[80:], False)]
    frag_echo(ctx, pieces, "overlapping fragments", expect_echo=False)


@case("frag_overlap_rewrites_tcp_header")
def _(ctx):
    # RFC 1858 overlapping-fragment attack: offset 8 rewrites the flags
    # (to RST) of a header that a filter has already passed.
    def pieces(s, fix):
        evil = bytearray(s)
        evil[13] = P.RST | P.ACK
        evil = fix(bytes(evil))
        return [(0, s[:24], True), (8, evil[8:24], True), (24, s[24:], False)]
    frag_echo(ctx, pieces, "header overwritten at offset 8", expect_echo=False)


@case("frag_beyond_64k")
def _(ctx):
    # "Ping of death": fragments that end past 65535 bytes, TCP and ICMP.
    frag_echo(ctx, lambda s, fix: [(0, s[:96], True), (65512, s[96:136], False)],
              "last fragment ends at 65552", expect_echo=False)
    src = ctx.new_src()
    echo = P.icmp(8, 0, 0x12340001, bytes(65528))
    pieces = [(off, echo[off:off + 1480], True) for off in range(0, 65528 - 1480, 1480)]
    last = pieces[-1][0] + 1480
    pieces.append((last, echo[last:] + os.urandom(64), False))
    m = ctx.link.mark()
    ctx.link.send(*P.fragments(src, ctx.haddr, P.PROTO_ICMP, pieces, 0x4242))
    ctx.silence(m, src, "ping of death", dur=0.2)


@case("frag_never_completed")
def _(ctx):
    # Every fragment says more follow: nothing may be delivered.
    frag_echo(ctx, lambda s, fix: [(0, s[:96], True), (96, s[96:], True)],
              "no last fragment", expect_echo=False)


@case("frag_bad_lengths_ignored", moves=("FragmentsDropped",))
def _(ctx):
    # A 13-byte fragment with MF and an empty one are dropped on their
    # own; the valid pair of the same datagram still assembles.
    frag_echo(ctx, lambda s, fix: [(0, s[:13], True), (16, b"", True),
                                   (0, s[:96], True), (96, s[96:], False)],
              "unaligned and empty fragments")


@case("frag_past_declared_end", moves=("ReasmFails",))
def _(ctx):
    # The last fragment fixes the length; one beyond it poisons the datagram.
    def pieces(s, fix):
        end = (len(s) + 15) // 8 * 8
        return [(96, s[96:], False), (end, os.urandom(16), True), (0, s[:96], True)]
    frag_echo(ctx, pieces, "a fragment past the last", expect_echo=False)
