#!/usr/bin/env python3
"""Crafted IPv6 frames on the kernel's end of a veth pair, by a packet
socket (test_xdp6.sh). Each frame carries its own flow label: the kernel
picks the queue a frame reaches on the other end by the flow's hash.

  nd6.py DEV MAC solicit TARGET...
      16 neighbour solicitations for each TARGET (to its solicited-node
      group); prints how many MAC answered per target as JSON.
  nd6.py DEV MAC probes SECONDS
      counts the DAD probes MAC sends (solicitations from ::) per target
      for SECONDS after it says "ready" (on stderr); prints them as JSON.
  nd6.py DEV MAC fake-neighbour ADDR DST PORT N
      N TCP SYNs from ADDR (a host the kernel does not have), ports
      40001.., to [DST]:PORT at MAC; answers every solicitation for ADDR
      with one flow label (so every answer reaches the same queue), counts
      the SYN-ACKs and resets each connection. Exit 0 when all N came.
"""
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer import csum  # noqa: E402  (the Internet checksum)


def mac_of(text):
    return bytes.fromhex(text.replace(":", ""))


def a6(text):
    return socket.inet_pton(socket.AF_INET6, text)


class Link:
    def __init__(self, dev):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
        self.s.bind((dev, 0))
        self.s.settimeout(0.05)
        self.mac = mac_of(open("/sys/class/net/%s/address" % dev).read().strip())

    def send(self, dmac, src, dst, proto, body, label, hops=255):
        pseudo = src + dst + struct.pack("!I3xB", len(body), proto)
        k = 2 if proto == 58 else 16            # where the checksum goes
        body = body[:k] + struct.pack("!H", csum(pseudo + body)) + body[k + 2:]
        ip = struct.pack("!IHBB", 6 << 28 | label, len(body), proto, hops) + src + dst
        self.s.send(dmac + self.mac + b"\x86\xdd" + ip + body)

    def recv(self):
        try:
            f = self.s.recv(4000)
        except socket.timeout:
            return None
        return f if f[6:12] != self.mac else None   # not our own


def solicit(link, mac, targets):
    src = a6("2001:2::1")
    answered = {}
    for target in targets:
        t = a6(target)
        group = bytes.fromhex("ff0200000000000000000001ff") + t[13:]
        for i in range(1, 17):
            body = struct.pack("!BBHI", 135, 0, 0, 0) + t + bytes([1, 1]) + link.mac
            link.send(b"\x33\x33\xff" + t[13:], src, group, 58, body, i * 40503 & 0xfffff)
        n = 0
        end = time.time() + 1
        while time.time() < end and n < 16:
            f = link.recv()
            if f and f[6:12] == mac and f[20] == 58 and f[54] == 136 and f[62:78] == t:
                n += 1
        answered[target] = n
    print(json.dumps(answered))
    return 0


def probes(link, mac, seconds):
    seen = {}
    print("ready", file=sys.stderr, flush=True)
    end = time.time() + seconds
    while time.time() < end:
        f = link.recv()
        if (f and f[6:12] == mac and len(f) >= 78 and f[20] == 58 and f[54] == 135
                and f[22:38] == bytes(16)):
            t = socket.inet_ntop(socket.AF_INET6, f[62:78])
            seen[t] = seen.get(t, 0) + 1
    print(json.dumps(seen, sort_keys=True))
    return 0


def fake_neighbour(link, mac, addr, dst, port, n):
    me, them = a6(addr), a6(dst)
    acked, solicited = set(), 0
    for i in range(n):
        body = struct.pack("!HHIIBBHHH", 40001 + i, port, 1000 * i, 0, 5 << 4, 0x02, 65535, 0, 0)
        link.send(mac, me, them, 6, body, (i + 1) * 40503 & 0xfffff, 64)
    end = time.time() + 8
    while len(acked) < n and time.time() < end:
        f = link.recv()
        if not f or f[12:14] != b"\x86\xdd" or len(f) < 14 + 60:
            continue
        ip = f[14:]
        if ip[6] == 58 and ip[40] == 135 and ip[48:64] == me:
            # solicited NA, always the same flow label: one queue hears it
            na = struct.pack("!BBHI", 136, 0, 0, 0x60000000) + me + bytes([2, 1]) + link.mac
            link.send(f[6:12], me, ip[8:24], 58, na, 0)
            solicited += 1
        elif ip[6] == 6 and ip[24:40] == me and ip[53] & 0x12 == 0x12:
            sport, dport, seq, ack = struct.unpack("!HHII", ip[40:52])
            if 40001 <= dport < 40001 + n and dport not in acked:
                acked.add(dport)
                rst = struct.pack("!HHIIBBHHH", dport, sport, ack, 0, 5 << 4, 0x04, 0, 0, 0)
                link.send(f[6:12], me, them, 6, rst, 0, 64)
    print(json.dumps({"syn_acks": len(acked), "of": n, "solicitations": solicited}))
    return 0 if len(acked) == n else 1


def main(argv):
    link, mac = Link(argv[1]), mac_of(argv[2])
    if argv[3] == "solicit":
        return solicit(link, mac, argv[4:])
    if argv[3] == "probes":
        return probes(link, mac, float(argv[4]))
    if argv[3] == "fake-neighbour":
        return fake_neighbour(link, mac, argv[4], argv[5], int(argv[6]), int(argv[7]))
    sys.exit("unknown command %s" % argv[3])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
