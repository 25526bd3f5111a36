"""Packet bytes for the attack suite: builders that can lie in every field,
and a fast parser for what handshake sends back.

The builders are plain struct code rather than scapy layers on purpose:
every length, offset and checksum can be set to a wrong value, which is the
point of the suite, and the SYN flood needs 20,000 packets built in well
under a second. scapy (see `wellformed`) checks handshake's replies.
"""
import os
import random
import socket
import struct

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
MF = 0x2000
DF = 0x4000
PROTO_ICMP, PROTO_TCP, PROTO_ICMP6 = 1, 6, 58


def csum(b):
    """RFC 1071 Internet checksum."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def aton(a):
    return socket.inet_aton(a)


def ipv4(src, dst, proto, payload, *, ihl=None, tot=None, frag=0, ident=None,
         ttl=64, tos=0, opts=b"", version=4, check=None, trailer=b""):
    """An IPv4 packet. ihl (in 32-bit words) and tot default to the truth;
    check=None computes the checksum, anything else is written as given.
    trailer: bytes after the datagram (link padding), outside tot."""
    hlen = 20 + len(opts)
    if ihl is None:
        ihl = hlen // 4
    if tot is None:
        tot = hlen + len(payload)
    if ident is None:
        ident = random.randrange(1, 65536)
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 0xF), tos, tot & 0xFFFF,
                    ident, frag, ttl, proto, 0, aton(src), aton(dst)) + opts
    c = csum(h) if check is None else check
    h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + payload + trailer


def ipv6(src, dst, proto, payload, *, hlim=64):
    """An IPv6 packet without extension headers (the conformance tool's:
    the attack suite itself is IPv4's)."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, hlim,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def pseudo(src, dst, proto, n):
    """The pseudo-header of a TCP checksum, IPv4's or IPv6's by address."""
    if ":" in src:
        return struct.pack("!16s16sIxxxB", socket.inet_pton(socket.AF_INET6, src),
                           socket.inet_pton(socket.AF_INET6, dst), n, proto)
    return struct.pack("!4s4sBBH", aton(src), aton(dst), 0, proto, n)


def tcp(src, dst, sport, dport, seq, ack=0, flags=SYN, *, win=65535, opts=b"",
        data=b"", doff=None, urp=0, check=None, csum_len=None):
    """A TCP segment (no IP header). doff in 32-bit words defaults to the
    truth; check=None computes the checksum over the pseudo-header."""
    hlen = 20 + len(opts)
    if doff is None:
        doff = hlen // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                    (doff & 0xF) << 4, flags, win, 0, urp) + opts
    seg = h + data
    if check is None:
        n = len(seg) if csum_len is None else csum_len
        check = csum(pseudo(src, dst, PROTO_TCP, n) + seg)
    return seg[:16] + struct.pack("!H", check) + seg[18:]


def tcp_ip(src, dst, sport, dport, seq, ack=0, flags=SYN, ip_kw=None, **kw):
    if ":" in src:
        return ipv6(src, dst, PROTO_TCP, tcp(src, dst, sport, dport, seq, ack, flags, **kw),
                    **(ip_kw or {}))
    return ipv4(src, dst, PROTO_TCP, tcp(src, dst, sport, dport, seq, ack, flags, **kw),
                **(ip_kw or {}))


def icmp(typ, code, rest=0, body=b""):
    m = struct.pack("!BBHI", typ, code, 0, rest) + body
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def icmp_ip(src, dst, typ, code, rest=0, body=b"", **ip_kw):
    return ipv4(src, dst, PROTO_ICMP, icmp(typ, code, rest, body), **ip_kw)


def fragments(src, dst, proto, pieces, ident, *, ihl=None):
    """IPv4 fragments of one datagram. pieces: (offset_in_bytes, bytes, more)
    with the offset a multiple of 8 (or not: the suite lies there too)."""
    out = []
    for off, data, more in pieces:
        frag = ((off // 8) & 0x1FFF) | (MF if more else 0)
        out.append(ipv4(src, dst, proto, data, frag=frag, ident=ident, ihl=ihl))
    return out


def split(payload, sizes):
    """Cuts payload into consecutive (offset, bytes, more) pieces."""
    pieces, off = [], 0
    for n in sizes:
        pieces.append((off, payload[off:off + n], True))
        off += n
    if off < len(payload):
        pieces.append((off, payload[off:], False))
    else:
        o, d, _ = pieces[-1]
        pieces[-1] = (o, d, False)
    return pieces


def mss_opt(v):
    return struct.pack("!BBH", 2, 4, v)


def ts_opt(val, ecr):
    return b"\x01\x01" + struct.pack("!BBII", 8, 10, val & 0xFFFFFFFF, ecr & 0xFFFFFFFF)


def parse_opts(o):
    """[(kind, body)] of a TCP option list (stops at EOL or a bad length)."""
    out, i = [], 0
    while i < len(o):
        k = o[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(o) or o[i + 1] < 2 or i + o[i + 1] > len(o):
            break
        out.append((k, o[i + 2:i + o[i + 1]]))
        i += o[i + 1]
    return out


class Pkt:
    """The fields of an IPv4 packet (and its TCP or ICMP header) the suite
    looks at, or of an IPv6 one without extension headers (src and dst in
    inet_ntop's form, ihl 40); parsing never raises."""
    __slots__ = ("raw", "src", "dst", "proto", "tot", "ihl", "sport", "dport", "seq",
                 "ack", "flags", "win", "data", "opts", "icmp_type", "icmp_code", "t")

    def __init__(self, raw, t=0.0):
        self.raw = raw
        self.t = t
        self.src = self.dst = ""
        self.proto = self.tot = self.ihl = 0
        self.sport = self.dport = self.seq = self.ack = self.flags = self.win = 0
        self.data = self.opts = b""
        self.icmp_type = self.icmp_code = -1
        if len(raw) >= 40 and raw[0] >> 4 == 6:
            self.ihl = 40
            self.tot = 40 + struct.unpack("!H", raw[4:6])[0]
            self.proto = raw[6]
            self.src = socket.inet_ntop(socket.AF_INET6, raw[8:24])
            self.dst = socket.inet_ntop(socket.AF_INET6, raw[24:40])
        elif len(raw) < 20 or raw[0] >> 4 != 4:
            return
        else:
            self.ihl = (raw[0] & 0xF) * 4
            self.tot = struct.unpack("!H", raw[2:4])[0]
            self.proto = raw[9]
            self.src = socket.inet_ntoa(raw[12:16])
            self.dst = socket.inet_ntoa(raw[16:20])
        l4 = raw[self.ihl:self.tot]
        if self.proto == PROTO_TCP and len(l4) >= 20:
            (self.sport, self.dport, self.seq, self.ack, off, self.flags,
             self.win) = struct.unpack("!HHIIBBH", l4[:16])
            doff = (off >> 4) * 4
            self.opts = l4[20:doff]
            self.data = l4[doff:]
        elif self.proto == PROTO_ICMP and len(l4) >= 8:
            self.icmp_type, self.icmp_code = l4[0], l4[1]
            self.data = l4[8:]

    def tcp_to(self, addr, port=None):
        return self.proto == PROTO_TCP and self.dst == addr and (port is None or self.dport == port)

    def seg_len(self):
        return len(self.data) + (1 if self.flags & SYN else 0) + (1 if self.flags & FIN else 0)

    def tsopt(self):
        """(TSval, TSecr) or None."""
        for k, body in parse_opts(self.opts):
            if k == 8 and len(body) == 8:
                return struct.unpack("!II", body)
        return None

    def mss(self):
        """The MSS option's value, or None."""
        for k, body in parse_opts(self.opts):
            if k == 2 and len(body) == 2:
                return struct.unpack("!H", body)[0]
        return None

    def flagstr(self):
        return "".join(c for b, c in ((SYN, "S"), (ACK, "A"), (FIN, "F"), (RST, "R"),
                                      (PSH, "P"), (URG, "U")) if self.flags & b) or "-"

    def __repr__(self):
        if self.proto == PROTO_TCP:
            return (f"{self.src}:{self.sport}>{self.dst}:{self.dport} [{self.flagstr()}] "
                    f"seq={self.seq} ack={self.ack} len={len(self.data)} ip_len={self.tot}")
        if self.proto == PROTO_ICMP:
            return f"{self.src}>{self.dst} icmp {self.icmp_type}/{self.icmp_code} len={self.tot}"
        return f"{self.src}>{self.dst} proto={self.proto} len={len(self.raw)}"


def wellformed(p, mtu=1500):
    """None when a packet handshake sent is one a strict receiver takes
    (scapy re-derives both checksums and decodes the options), else why."""
    from scapy.layers.inet import IP, TCP, ICMP  # noqa: deferred, slow import
    if len(p.raw) > mtu:
        return f"{len(p.raw)} bytes on a {mtu}-byte link"
    if p.tot != len(p.raw):
        return f"IP total length {p.tot} != {len(p.raw)} bytes written"
    ip = IP(p.raw)
    if csum(p.raw[:p.ihl]) != 0:
        return "bad IP checksum"
    if ip.haslayer(TCP):
        t = ip[TCP]
        seg = p.raw[p.ihl:p.tot]
        ph = struct.pack("!4s4sBBH", aton(p.src), aton(p.dst), 0, PROTO_TCP, len(seg))
        if csum(ph + seg) != 0:
            return "bad TCP checksum"
        if t.dataofs * 4 > len(seg) or t.dataofs < 5:
            return f"data offset {t.dataofs}"
        for o in t.options:
            if isinstance(o, tuple) and o[0] == "MSS" and not 88 <= o[1] <= mtu - 40:
                return f"MSS option {o[1]}"
    elif ip.haslayer(ICMP) and csum(p.raw[p.ihl:p.tot]) != 0:
        return "bad ICMP checksum"
    return None


def rand_src(rng, first=1):
    """A spoofed source in 198.18.<first..>.0/.. .. 198.19.255.254: inside
    198.18.0.0/15, never in the kernel side's 198.18.0.0/24."""
    while True:
        a = rng.randrange((198 << 24) | (18 << 16) | (first << 8), (198 << 24) | (20 << 16) - 1)
        if a & 0xFF not in (0, 255):
            return socket.inet_ntoa(struct.pack("!I", a))


def payload(n, tag=b""):
    return (tag + os.urandom(n))[:n]
