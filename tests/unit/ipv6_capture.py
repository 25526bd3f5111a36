#!/usr/bin/python3
"""Captures the IPv6 test vectors of tests/unit/ipv6_vectors.h from the
Linux kernel, and prints that header.

Run as root (it creates and deletes a network namespace):
    /usr/bin/python3 tests/unit/ipv6_capture.py > tests/unit/ipv6_vectors.h

In namespace hsk-v6cap-PID the kernel owns TAP device hsk0 with
2001:2::1/64 (RFC 5180 benchmarking prefix). This script holds the other
end of the TAP (no vnet header: the kernel completes every checksum before
the frame reaches us) and plays 2001:2::2, MAC 02:68:73:12:00:02, with
scapy: it answers the kernel's neighbour solicitations and sends the
packets that make the kernel answer (echo requests, a SYN, malformed
extension headers). Every packet kept is one the kernel sent, except those
marked "crafted", which are ours (the kernel's answer to each is kept
too). A veth pair (v0 with MTU 1280, 2001:2:1::/64) with forwarding on
makes the kernel a router for a packet-too-big and a time-exceeded.
"""
import ctypes
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

from scapy.all import (Ether, IPv6, ICMPv6EchoRequest, ICMPv6ND_NA,
                       ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
                       ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptMTU,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrRouting, HBHOptUnknown, PadN, TCP, UDP, Raw,
                       ICMPv6EchoReply, raw)

NS = "hsk-v6cap-%d" % os.getpid()
KADDR = "2001:2::1"
US = "2001:2::2"
USMAC = "02:68:73:12:00:02"
KMAC = "02:00:00:00:00:01"
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000

frames = []      # (name, comment, ip bytes)


def sh(*cmd):
    subprocess.run(cmd, check=True)


def nsx(*cmd):
    sh("ip", "netns", "exec", NS, *cmd)


class Tap:
    def __init__(self):
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(self.fd, TUNSETIFF,
                    struct.pack("16sH", b"hsk0", IFF_TAP | IFF_NO_PI))
        self.kmac = KMAC

    def read(self, timeout):
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                return os.read(self.fd, 65536)

    def send(self, pkt):
        os.write(self.fd, raw(Ether(src=USMAC, dst=self.kmac) / pkt))

    def expect(self, pred, timeout=3.0, answer_ns=True):
        """Frames until pred(scapy frame) holds; answers NS for US meanwhile."""
        end = time.time() + timeout
        while time.time() < end:
            f = self.read(end - time.time())
            if f is None:
                break
            e = Ether(f)
            if e.type != 0x86DD:
                continue
            if answer_ns and ICMPv6ND_NS in e and e[ICMPv6ND_NS].tgt == US and \
                    e[IPv6].src != "::":
                if pred(e):
                    return f[14:]
                self.na(e[IPv6].src)
                continue
            if pred(e):
                return f[14:]
        raise SystemExit("capture: expected frame not seen")

    def na(self, dst):
        self.send(IPv6(src=US, dst=dst, hlim=255) /
                  ICMPv6ND_NA(tgt=US, R=0, S=1, O=1) /
                  ICMPv6NDOptDstLLAddr(lladdr=USMAC))


def keep(name, comment, b):
    frames.append((name, comment, bytes(b)))


def kernel(cmd):
    """Runs python code in the namespace, in the background."""
    return subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c", cmd])


def main():
    sh("ip", "netns", "add", NS)
    try:
        run()
    finally:
        subprocess.run(["ip", "netns", "del", NS])
    emit()


def run():
    nsx("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0",
        "net.ipv6.conf.default.disable_ipv6=0")
    # Open the TAP inside the namespace: setns for this process.
    fd = os.open("/run/netns/" + NS, os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, 0) != 0:
        raise SystemExit("capture: setns failed")
    os.close(fd)
    tap = Tap()
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "link", "set", "hsk0", "address", KMAC)
    sh("ip", "link", "set", "hsk0", "up")
    sh("ip", "addr", "add", KADDR + "/64", "dev", "hsk0")

    # Link up: MLDv2 report (hop-by-hop router alert), DAD for the
    # link-local and global addresses, a router solicitation.
    mld = tap.expect(lambda e: e[IPv6].nh == 0 and e[IPv6].dst == "ff02::16", 5)
    keep("v6_mld_report", "MLDv2 report to ff02::16: hop-by-hop header "
         "(router alert, PadN) then ICMPv6 143", mld)
    dad = tap.expect(lambda e: ICMPv6ND_NS in e and e[IPv6].src == "::" and
                     e[ICMPv6ND_NS].tgt == KADDR, 5)
    keep("v6_ns_dad", "DAD neighbour solicitation for 2001:2::1 from :: to "
         "its solicited-node group ff02::1:ff00:1 with a nonce option (RFC 7527)", dad)
    rs = tap.expect(lambda e: e[IPv6].nh == 58 and raw(e[IPv6].payload)[0] == 133, 10)
    keep("v6_rs", "router solicitation from the link-local address to "
         "ff02::2 with a source link-layer option", rs)
    time.sleep(1.5)   # DAD done: the address is preferred

    # The kernel pings us: it resolves us first (NS to our solicited-node
    # group), we answer, then the echo request; 3000 bytes: fragments.
    k = kernel("import socket,time\n"
               "s=socket.socket(socket.AF_INET6,socket.SOCK_RAW,socket.IPPROTO_ICMPV6)\n"
               "s.sendto(b'\\x80\\x00\\x00\\x00\\x00\\x00\\x00\\x01'+b'handshake-ping6',('%s',0))\n"
               "time.sleep(0.5)\n"
               "s.sendto(b'\\x80\\x00\\x00\\x00\\x00\\x00\\x00\\x02'+bytes(i%%256 for i in range(3000)),('%s',0))\n"
               "time.sleep(0.5)\n" % (US, US))
    ns = tap.expect(lambda e: ICMPv6ND_NS in e and e[ICMPv6ND_NS].tgt == US, 5,
                    answer_ns=False)
    keep("v6_ns", "neighbour solicitation for 2001:2::2 from 2001:2::1 to "
         "ff02::1:ff00:2 with a source link-layer option (hop limit 255)", ns)
    tap.na(KADDR)
    req = tap.expect(lambda e: ICMPv6EchoRequest in e and e[IPv6].nh == 58)
    keep("v6_echo_req", "echo request 2001:2::1 -> 2001:2::2, id 0, "
         "seq 1, 15 bytes 'handshake-ping6'", req)
    f1 = tap.expect(lambda e: IPv6ExtHdrFragment in e and e[IPv6ExtHdrFragment].offset == 0)
    keep("v6_frag1", "first fragment (offset 0, M) of a 3008-byte echo request", f1)
    f2 = tap.expect(lambda e: IPv6ExtHdrFragment in e and e[IPv6ExtHdrFragment].offset != 0)
    keep("v6_frag2", "second fragment of the same datagram", f2)
    f3 = tap.expect(lambda e: IPv6ExtHdrFragment in e and e[IPv6ExtHdrFragment].m == 0, 2)
    keep("v6_frag3", "last fragment (M clear) of the same datagram", f3)
    k.wait()

    # Our NS: the kernel answers with a solicited NA with its link-layer address.
    ns2 = IPv6(src=US, dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=KADDR) / \
        ICMPv6NDOptSrcLLAddr(lladdr=USMAC)
    tap.send(ns2)
    na = tap.expect(lambda e: ICMPv6ND_NA in e, answer_ns=False)
    keep("v6_na", "solicited neighbour advertisement for 2001:2::1 to "
         "2001:2::2 (S and O set) with a target link-layer option", na)

    # We ping the kernel: its echo reply.
    tap.send(IPv6(src=US, dst=KADDR) / ICMPv6EchoRequest(id=0x1234, seq=7, data=b"abcdefgh"))
    rep = tap.expect(lambda e: ICMPv6EchoReply in e)
    keep("v6_echo_rep", "echo reply 2001:2::1 -> 2001:2::2, id 0x1234 seq 7, 'abcdefgh'", rep)

    # An atomic fragment (RFC 6946): answered as an ordinary request.
    atomic = IPv6(src=US, dst=KADDR) / IPv6ExtHdrFragment(offset=0, m=0, id=0xabcd) / \
        ICMPv6EchoRequest(id=0x1234, seq=8, data=b"atomic")
    keep("v6_atomic_crafted", "crafted: an atomic fragment (offset 0, M clear, "
         "id 0xabcd) holding an echo request, seq 8", raw(atomic))
    tap.send(atomic)
    rep = tap.expect(lambda e: ICMPv6EchoReply in e)
    keep("v6_atomic_rep", "the kernel's echo reply to it: no fragment header", rep)

    # TCP: the kernel connects to us (its SYN), and answers ours (SYN-ACK).
    k = kernel("import socket\n"
               "s=socket.socket(socket.AF_INET6)\n"
               "s.settimeout(1)\n"
               "try: s.connect(('%s',8080))\n"
               "except Exception: pass\n" % US)
    syn = tap.expect(lambda e: TCP in e and e[TCP].flags == "S")
    keep("v6_tcp_syn", "SYN 2001:2::1 -> [2001:2::2]:8080, MSS 1440, SACK_PERM, "
         "TS, WS", syn)
    k.wait()
    k = kernel("import socket,time\n"
               "s=socket.socket(socket.AF_INET6)\n"
               "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
               "s.bind(('%s',80)); s.listen()\n"
               "time.sleep(1.5)\n" % KADDR)
    time.sleep(0.3)
    tap.send(IPv6(src=US, dst=KADDR) / TCP(sport=40000, dport=80, flags="S", seq=1000,
                                           options=[("MSS", 1440)]))
    sa = tap.expect(lambda e: TCP in e and e[TCP].flags == "SA")
    keep("v6_tcp_synack", "SYN-ACK [2001:2::1]:80 -> [2001:2::2]:40000, ack 1001, MSS 1440", sa)
    tap.send(IPv6(src=US, dst=KADDR) / TCP(sport=40001, dport=81, flags="S", seq=5))
    rst = tap.expect(lambda e: TCP in e and "R" in e[TCP].flags)
    keep("v6_tcp_rst", "RST+ACK from closed port 81 to [2001:2::2]:40001", rst)
    k.wait()

    # Errors the kernel sends: extension headers it refuses (RFC 8200 §4),
    # a closed UDP port.
    cases = [
        ("v6_unknown_nh", "next header 253 (experimental): parameter problem "
         "code 1, pointer 6", IPv6(src=US, dst=KADDR, nh=253) / Raw(b"\x00" * 8)),
        ("v6_dstopt_10", "destination options with an unknown option of type "
         "0x93 (action 10): parameter problem code 2, pointer 42",
         IPv6(src=US, dst=KADDR) / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x93, optdata=b"\x00\x00\x00\x00")]) /
         ICMPv6EchoRequest(id=1, seq=1)),
        ("v6_rh0", "routing header type 0 with segments left 1 (RFC 5095): "
         "parameter problem code 0, pointer 42 (the routing type)",
         IPv6(src=US, dst=KADDR) / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:2::3"]) /
         ICMPv6EchoRequest(id=1, seq=2)),
        ("v6_frag_len", "a non-last fragment of 12 bytes (not a multiple of "
         "8): parameter problem code 0, pointer 4 (payload length)",
         IPv6(src=US, dst=KADDR) / IPv6ExtHdrFragment(offset=0, m=1, id=7) /
         ICMPv6EchoRequest(id=1, seq=3, data=b"abcd")),
        ("v6_udp_closed", "UDP to closed port 9: destination unreachable "
         "code 4 (port unreachable)",
         IPv6(src=US, dst=KADDR) / UDP(sport=5000, dport=9) / Raw(b"hello")),
    ]
    for name, comment, pkt in cases:
        keep(name + "_crafted", "crafted: " + comment.split(":")[0], raw(pkt))
        tap.send(pkt)
        err = tap.expect(lambda e: e[IPv6].nh == 58 and raw(e[IPv6].payload)[0] < 128)
        keep(name + "_err", "the kernel's answer to it: " + comment.split(": ", 1)[1], err)

    # A router: forwarding on, v0 with MTU 1280 behind it.
    sh("ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    sh("ip", "link", "set", "v1", "up")
    sh("ip", "link", "set", "v0", "mtu", "1280", "up")
    sh("ip", "addr", "add", "2001:2:1::1/64", "dev", "v0", "nodad")
    sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
    sh("ip", "-6", "neigh", "add", "2001:2:1::5", "lladdr", "02:00:00:00:00:05",
       "dev", "v0", "nud", "permanent")
    big = IPv6(src=US, dst="2001:2:1::5") / TCP(sport=40002, dport=80, flags="A",
                                               seq=0x01020304, ack=1) / Raw(b"x" * 1400)
    keep("v6_ptb_crafted", "crafted: a 1460-byte TCP segment to 2001:2:1::5, "
         "seq 0x01020304, forwarded towards a 1280-byte link", raw(big))
    tap.send(big)
    ptb = tap.expect(lambda e: e[IPv6].nh == 58 and raw(e[IPv6].payload)[0] == 2)
    keep("v6_ptb", "packet too big, MTU 1280, from 2001:2::1 quoting the "
         "segment (as much as fits in 1280 bytes)", ptb)
    ttl = IPv6(src=US, dst="2001:2:1::5", hlim=1) / TCP(sport=40003, dport=80, flags="S", seq=77)
    tap.send(ttl)
    te = tap.expect(lambda e: e[IPv6].nh == 58 and raw(e[IPv6].payload)[0] == 3)
    keep("v6_time_exceeded", "time exceeded (hop limit) from 2001:2::1 quoting "
         "a SYN 2001:2::2:40003 -> 2001:2:1::5:80 seq 77", te)

    # Crafted only (the kernel sends no RA): a router advertisement.
    ra = IPv6(src="fe80::1", dst="ff02::1", hlim=255) / \
        ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:fe") / \
        ICMPv6NDOptMTU(mtu=1500) / ICMPv6NDOptPrefixInfo(prefix="2001:2::", prefixlen=64)
    keep("v6_ra_crafted", "crafted: router advertisement from fe80::1, lifetime "
         "1800 s, source link-layer 02:00:00:00:00:fe, MTU 1500, prefix 2001:2::/64", raw(ra))


def emit():
    print("/*\n * IPv6 packets, IPv6 header first, as Linux (%s) sent them over a\n"
          " * TAP device (no vnet header, so every checksum is complete). Made by\n"
          " * tests/unit/ipv6_capture.py, which says how: the kernel owns\n"
          " * 2001:2::1/64 and the script plays 2001:2::2 (MAC 02:68:73:12:00:02).\n"
          " * Arrays named *_crafted are the script's own packets (scapy), kept\n"
          " * beside the kernel's answer to them.\n */" % os.uname().release)
    print("#ifndef HSK_TEST_IPV6_VECTORS_H\n#define HSK_TEST_IPV6_VECTORS_H\n")
    print("#include <stdint.h>\n")
    for name, comment, b in frames:
        print("/* %s */" % comment)
        print("static const uint8_t %s[] = {" % name)
        for i in range(0, len(b), 12):
            print("\t" + " ".join("0x%02x," % x for x in b[i:i + 12]))
        print("};\n")
    print("#endif")


if __name__ == "__main__":
    main()
