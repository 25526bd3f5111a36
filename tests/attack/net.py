"""The attack suite's view of the namespace: the TUN device's kernel side
as a packet socket (inject anything, see what handshake sends), the
`handshake serve` process, kernel TCP clients, and a raw TCP client whose
every segment the suite writes itself.

Packets are injected with an AF_PACKET socket on the TUN device: they go
straight into the device, past the kernel's routing and raw-socket fix-ups
(a raw IP socket would rewrite the total length, the checksum and a zero
source). Spoofed sources therefore never meet a route, and nothing leaves
the namespace. handshake's replies to addresses the kernel does not own are
dropped by the kernel (forwarding is off in a new namespace) after the
packet socket has seen them.
"""
import ctypes
import errno
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import time

import pkt as P

ETH_P_ALL, ETH_P_IP, ETH_P_IPV6 = 0x0003, 0x0800, 0x86DD
PACKET_OUTGOING = 4
SO_ATTACH_FILTER, SO_RCVBUFFORCE = 26, 33


class Fail(Exception):
    """A sub-case's assertion did not hold."""


def expect(cond, msg):
    if not cond:
        raise Fail(msg)


def _bpf_incoming_only(sock):
    """Classic BPF: drop what the kernel itself sends on the device (our
    injections and the kernel clients' segments), keep handshake's."""
    prog = [(0x20, 0, 0, 0xFFFFF000 + 4),      # ld pkttype
            (0x15, 0, 1, PACKET_OUTGOING),       # jeq OUTGOING
            (0x06, 0, 0, 0),                     # ret 0
            (0x06, 0, 0, 0x40000)]               # ret all
    buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


class Link:
    """Injection into and capture from the TUN device's kernel side.
    Captured packets (handshake's only) are kept in order with absolute
    indices: a consumer remembers mark() and asks from there."""

    def __init__(self, dev):
        self.dev = dev
        self.tx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        self.rx = None
        self.pkts = []
        self.off = 0
        self.sent = 0
        self.open()

    def open(self):
        if self.rx:
            return
        rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        _bpf_incoming_only(rx)
        try:
            rx.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        except OSError:
            pass
        rx.bind((self.dev, ETH_P_ALL))
        rx.setblocking(False)
        self.rx = rx

    def pause(self):
        """Stop capturing (during floods: nobody reads 20,000 SYN-ACKs)."""
        if self.rx:
            self.rx.close()
            self.rx = None

    def send(self, *pkts):
        for p in pkts:
            for _ in range(200):
                try:
                    self.tx.sendto(p, (self.dev, ETH_P_IPV6 if p[0] >> 4 == 6 else ETH_P_IP))
                    self.sent += 1
                    break
                except OSError as e:
                    if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                        raise
                    time.sleep(0.001)

    def send_paced(self, pkts, rate=20000, batch=100):
        """A flood at `rate` packets/s at most, so that the device's queue
        (500 packets) does not drop what handshake would have read."""
        t0 = time.monotonic()
        for i in range(0, len(pkts), batch):
            self.send(*pkts[i:i + batch])
            lag = t0 + (i + batch) / rate - time.monotonic()
            if lag > 0:
                time.sleep(lag)
        return time.monotonic() - t0

    def tx_dropped(self):
        """Packets the device dropped on their way to handshake."""
        try:
            with open(f"/sys/class/net/{self.dev}/statistics/tx_dropped") as f:
                return int(f.read())
        except OSError:
            return 0

    def pump(self, wait=0.0):
        """Reads what is there (waiting up to `wait` for the first)."""
        if not self.rx:
            return
        if wait > 0:
            select.select([self.rx], [], [], wait)
        while True:
            try:
                raw, addr = self.rx.recvfrom(70000)
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING:
                continue
            self.pkts.append(P.Pkt(raw, time.monotonic()))
        if len(self.pkts) > 20000:
            drop = len(self.pkts) - 5000
            del self.pkts[:drop]
            self.off += drop

    def mark(self):
        self.pump()
        return self.off + len(self.pkts)

    def since(self, idx):
        return self.pkts[max(idx - self.off, 0):]

    def wait(self, pred, timeout, since, count=1):
        """Packets from `since` matching pred: returns as soon as `count`
        matched, or what matched when `timeout` runs out."""
        end = time.monotonic() + timeout
        while True:
            got = [p for p in self.since(since) if pred(p)]
            left = end - time.monotonic()
            if len(got) >= count or left <= 0:
                return got
            self.pump(min(left, 0.05))

    def collect(self, pred, duration, since):
        """Everything matching pred within `duration` (always waits it out)."""
        return self.wait(pred, duration, since, count=1 << 30)


class Serve:
    """`handshake serve --echo` on the TUN device, owned by the suite: it is
    restarted when an attack kills it, so every other sub-case still runs."""

    def __init__(self, hsk, dev, addr, log, port=7, extra=()):
        self.argv = [hsk, "serve", "--tun", dev, "--addr", addr, "--port", str(port),
                     "--echo", "--stats", *extra]
        self.log = log
        self.p = None
        self.starts = 0

    def _log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def text(self, start=0):
        with open(self.log, "rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")

    def start(self):
        start = self._log_size()
        with open(self.log, "ab") as f:
            f.write(b"==== serve start\n")
            self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=f, stderr=f)
        self.starts += 1
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if "listening on" in self.text(start):
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("serve did not start:\n" + self.text(start)[-2000:])

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def tail(self, n=15):
        lines = self.text().splitlines()
        return "\n".join(lines[-n:])

    def sanitizer_reports(self):
        t = self.text()
        return [l for l in t.splitlines()
                if "Sanitizer" in l or "runtime error:" in l]

    @staticmethod
    def parse_counters(text):
        """The last `counters (non-zero):` block of a --stats dump."""
        i = text.rfind("counters (non-zero):")
        if i < 0:
            return {}
        block = text[i:].split("\n", 1)[1] if "\n" in text[i:] else ""
        c = {}
        for line in block.splitlines():
            if not line.startswith("  "):
                break
            for name, v in re.findall(r"([A-Za-z]\w*)\s+(\d+)", line):
                c[name] = int(v)
        return c

    def counters(self, timeout=3.0):
        """Counters now, through SIGUSR1 (prints the table and counters)."""
        if not self.alive():
            return {}
        start = self._log_size()
        self.p.send_signal(signal.SIGUSR1)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            t = self.text(start)
            if "\nin use:" in t or t.startswith("in use:"):
                return self.parse_counters(t)
            time.sleep(0.02)
        return {}

    def stop(self, timeout=15):
        """SIGTERM; the exit status (None if it had to be killed)."""
        if not self.p:
            return None
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                return None
        return self.p.returncode


class KConn:
    """A kernel TCP client of the echo port."""

    def __init__(self, addr, port=7, src=None, timeout=3.0):
        self.s = None
        try:
            self.s = socket.create_connection((addr, port), timeout,
                                              source_address=(src, 0) if src else None)
        except OSError as e:
            raise Fail(f"kernel connect{' from ' + src if src else ''}: {e}") from None
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.lport = self.s.getsockname()[1]

    def echo(self, data, timeout=3.0, what="echo"):
        self.s.settimeout(timeout)
        got = b""
        try:
            self.s.sendall(data)
            while len(got) < len(data):
                b = self.s.recv(len(data) - len(got))
                if not b:
                    raise Fail(f"{what}: EOF after {len(got)}/{len(data)} bytes")
                got += b
        except OSError as e:
            raise Fail(f"{what}: {e} after {len(got)}/{len(data)} bytes") from None
        if got != data:
            i = next(i for i in range(len(got)) if got[i] != data[i])
            raise Fail(f"{what}: stream corrupted at byte {i}: got {got[i:i+8]!r}, "
                       f"sent {data[i:i+8]!r}")
        return got

    def close(self, rst=False):
        if not self.s:
            return
        if rst:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()
        self.s = None


class RawConn:
    """A TCP client from a spoofed source, written segment by segment.
    Enough of TCP to hold an echo conversation with handshake: in-order
    receive with a small out-of-order store, an ACK per batch received,
    timestamps when asked for. No retransmission: the link does not lose."""

    def __init__(self, link, src, dst, dport=7, sport=None, mss=1460, ts=False,
                 sack=False, syn_opts=None):
        self.link, self.src, self.dst, self.dport = link, src, dst, dport
        self.sport = sport or random.randrange(20000, 60000)
        self.mss, self.ts, self.sack = mss, ts, sack
        self.syn_opts = syn_opts
        self.iss = random.randrange(1 << 32)
        self.snd_nxt = self.iss
        self.rcv_nxt = 0
        self.ts_recent = 0
        self.peer_ts = False
        self.cursor = link.mark()
        self.seen = []          # every segment handshake sent us
        self.ooo = {}
        self.buf = b""          # received in order, not yet returned by recv
        self.peer_ack = None    # the highest ACK handshake sent
        self.fin = False
        self.reset = False

    def mine(self, p):
        return p.tcp_to(self.src, self.sport) and p.src == self.dst and p.sport == self.dport

    def tsval(self):
        return int(time.monotonic() * 1000) & 0xFFFFFFFF

    def opts(self):
        return P.ts_opt(self.tsval(), self.ts_recent) if self.ts and self.peer_ts else b""

    def packet(self, flags=P.ACK, data=b"", seq=None, ack=None, opts=None, ip_kw=None, **kw):
        return P.tcp_ip(self.src, self.dst, self.sport, self.dport,
                        self.snd_nxt if seq is None else seq,
                        self.rcv_nxt if ack is None else ack, flags,
                        opts=self.opts() if opts is None else opts, data=data,
                        ip_kw=ip_kw, **kw)

    def send(self, flags=P.ACK, data=b"", advance=True, **kw):
        self.link.send(self.packet(flags, data, **kw))
        if advance:
            self.snd_nxt = (self.snd_nxt + len(data)) & 0xFFFFFFFF

    def connect(self, timeout=1.0):
        o = self.syn_opts
        if o is None:
            o = P.mss_opt(self.mss)
            if self.ts:
                ts = P.ts_opt(self.tsval(), 0)
                o += (b"\x04\x02" + ts[2:]) if self.sack else ts
            elif self.sack:
                o += b"\x01\x01\x04\x02"
        self.link.send(P.tcp_ip(self.src, self.dst, self.sport, self.dport, self.iss, 0,
                                P.SYN, opts=o))
        got = self.link.wait(lambda p: self.mine(p) and p.flags & P.SYN, timeout, self.cursor)
        expect(got, f"no SYN-ACK for {self.src}:{self.sport}")
        sa = got[0]
        expect(sa.flags & P.ACK and sa.ack == (self.iss + 1) & 0xFFFFFFFF,
               f"bad SYN-ACK {sa}")
        self.rcv_nxt = (sa.seq + 1) & 0xFFFFFFFF
        self.snd_nxt = (self.iss + 1) & 0xFFFFFFFF
        self.peer_mss = sa.mss()
        self.peer_ack = sa.ack
        t = sa.tsopt()
        self.peer_ts = t is not None
        if t:
            self.ts_recent = t[0]
        self.cursor = self.link.mark()
        self.send(P.ACK)
        return sa

    def _take(self, p):
        self.seen.append(p)
        if p.flags & P.RST:
            self.reset = True
            return
        t = p.tsopt()
        if t:
            self.ts_recent = t[0]
        if p.flags & P.ACK and (self.peer_ack is None or
                                0 < (p.ack - self.peer_ack) & 0xFFFFFFFF < 1 << 31):
            self.peer_ack = p.ack
        if not p.data and not p.flags & P.FIN:
            return
        self.ooo[p.seq] = p
        progressed = True
        while progressed:
            progressed = False
            for seq, q in list(self.ooo.items()):
                skip = (self.rcv_nxt - seq) & 0xFFFFFFFF
                if skip >= 1 << 31:
                    continue                      # still ahead of us
                del self.ooo[seq]
                if skip < len(q.data):
                    self.buf += q.data[skip:]
                    self.rcv_nxt = (self.rcv_nxt + len(q.data) - skip) & 0xFFFFFFFF
                    progressed = True
                if q.flags & P.FIN and skip <= len(q.data) and not self.fin:
                    self.fin = True
                    self.rcv_nxt = (self.rcv_nxt + 1) & 0xFFFFFFFF

    def recv(self, n, timeout=2.0, ack=True):
        """Up to n bytes of handshake's stream (fewer when time runs out),
        ACKing as they arrive unless ack=False (then the data is taken in
        but handshake hears nothing: its segments stay in flight)."""
        end = time.monotonic() + timeout
        while len(self.buf) < n and not self.reset and not self.fin:
            left = end - time.monotonic()
            if left <= 0:
                break
            self.link.pump(min(left, 0.05))
            self.take_new(ack)
        self.take_new(ack)
        got, self.buf = self.buf[:n], self.buf[n:]
        return got

    def take_new(self, ack=True):
        # mark() reads the device first: every packet up to the new cursor
        # is taken (reading after since() skipped what mark() read)
        start, self.cursor = self.cursor, self.link.mark()
        new = [p for p in self.link.since(start) if self.mine(p)]
        before = self.rcv_nxt
        for p in new:
            self._take(p)
        if ack and new and (self.rcv_nxt != before or any(p.data for p in new)):
            self.send(P.ACK)

    def echo(self, data, timeout=2.0, seg=1400, what="echo"):
        for i in range(0, len(data), seg):
            self.send(P.ACK | P.PSH, data[i:i + seg])
        got = self.recv(len(data), timeout)
        if got != data:
            why = "reset" if self.reset else f"{len(got)}/{len(data)} bytes back"
            if len(got) == len(data) or (got and got != data[:len(got)]):
                why = "bytes differ"
            raise Fail(f"{what} on {self.src}:{self.sport}: {why}")
        return got

    def abort(self):
        """RST at SND.NXT: frees the connection on handshake's side."""
        self.send(P.RST | P.ACK)
