"""The IP layer's other forms of the same TCP segment, for the scenarios
of scen_ip.py: each takes the packet Duo built (IPv4 or IPv6, no options,
no extension headers) and returns the packets to send instead. The TCP
segment and its checksum are unchanged (the pseudo-header is the same)."""
import random
import socket
import struct

import pkt as P

PROTO_TCP, NH_DSTOPTS, NH_FRAG, NH_ICMP6 = 6, 60, 44, 58


def _v6(raw):
    return raw[0] >> 4 == 6


def with_options(raw):
    """IPv4: four NOP options (IHL 6); IPv6: a Destination Options header
    holding a PadN of 4 bytes before TCP."""
    if _v6(raw):
        ext = bytes([PROTO_TCP, 0, 1, 4, 0, 0, 0, 0])
        plen = struct.unpack("!H", raw[4:6])[0] + len(ext)
        return [raw[:4] + struct.pack("!HB", plen, NH_DSTOPTS) + raw[7:40] + ext + raw[40:]]
    ihl = (raw[0] & 0xF) * 4
    hdr = bytearray(raw[:ihl] + b"\x01\x01\x01\x01")
    hdr[0] = (hdr[0] & 0xF0) | (len(hdr) // 4)
    struct.pack_into("!H", hdr, 2, len(raw) + 4)
    struct.pack_into("!H", hdr, 10, 0)
    struct.pack_into("!H", hdr, 10, _csum(bytes(hdr)))
    return [bytes(hdr) + raw[ihl:]]


def fragments(raw, first=48):
    """The packet in two fragments, the first carrying `first` bytes of the
    TCP segment (a multiple of 8), the second the rest (IPv4: MF and the
    offset in the header; IPv6: a Fragment header each)."""
    ident = random.randrange(1, 1 << 16)
    seg = raw[40:] if _v6(raw) else raw[(raw[0] & 0xF) * 4:]
    assert 0 < first < len(seg) and first % 8 == 0, "a fragment boundary inside the segment"
    if _v6(raw):
        out = []
        for off, part, more in ((0, seg[:first], 1), (first, seg[first:], 0)):
            ext = struct.pack("!BBHI", PROTO_TCP, 0, (off // 8) << 3 | more, ident)
            out.append(raw[:4] + struct.pack("!HB", len(ext) + len(part), NH_FRAG) +
                       raw[7:40] + ext + part)
        return out
    ihl = (raw[0] & 0xF) * 4
    out = []
    for off, part, more in ((0, seg[:first], 0x2000), (first, seg[first:], 0)):
        hdr = bytearray(raw[:ihl])
        struct.pack_into("!HHH", hdr, 2, ihl + len(part), ident, more | off // 8)
        struct.pack_into("!H", hdr, 10, 0)
        struct.pack_into("!H", hdr, 10, _csum(bytes(hdr)))
        out.append(bytes(hdr) + part)
    return out


def atomic_fragment(raw):
    """IPv6 only: a Fragment header with offset 0 and M clear (RFC 6946:
    no fragment at all)."""
    ext = struct.pack("!BBHI", PROTO_TCP, 0, 0, random.randrange(1, 1 << 32))
    plen = struct.unpack("!H", raw[4:6])[0] + len(ext)
    return [raw[:4] + struct.pack("!HB", plen, NH_FRAG) + raw[7:40] + ext + raw[40:]]


def icmp_error(src, dst, quote, v4, v6, mtu=0):
    """An ICMP error from src to dst quoting `quote` (a packet dst sent:
    its IP header and 8 bytes of TCP, as RFC 792 asks, or RFC 4443's as
    much as fits; here 8). v4, v6: (type, code) in each family; mtu: the
    next-hop MTU of a fragmentation needed / packet too big."""
    if ":" in src:
        typ, code = v6
        body = quote[:48]
        msg = bytearray(struct.pack("!BBHI", typ, code, 0, mtu) + body)
        ph = struct.pack("!16s16sIxxxB", socket.inet_pton(socket.AF_INET6, src),
                         socket.inet_pton(socket.AF_INET6, dst), len(msg), NH_ICMP6)
        struct.pack_into("!H", msg, 2, _csum(ph + bytes(msg) + b"\0" * (len(msg) % 2)))
        return P.ipv6(src, dst, NH_ICMP6, bytes(msg))
    typ, code = v4
    ihl = (quote[0] & 0xF) * 4
    return P.icmp_ip(src, dst, typ, code, mtu & 0xFFFF, quote[:ihl + 8])


def reversed_order(forms):
    """A form whose packets go last first (fragments out of order)."""
    return lambda raw: list(reversed(forms(raw)))


def _csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF
