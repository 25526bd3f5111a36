"""The two systems under test, each behind the same small interface: send
an IP packet (IPv4 or IPv6, as the addresses) from the scripted peer,
read the TCP segments the system sent back to the peer.

- LinuxSide: the kernel of a namespace of its own, through a TUN device
  whose fd this process owns (packetdrill's method): what we write into
  the fd arrives at the kernel, what the kernel routes to the peer comes
  out of it. Its applications are listening sockets of this process,
  served by threads.
- HskSide: `handshake serve` on a TUN device in another namespace, driven
  as the attack suite does (tests/attack/net.py: AF_PACKET on the
  device's kernel side; the peer's address belongs to nobody there, so
  the kernel drops handshake's replies after the packet socket saw them).
"""
import ctypes
import fcntl
import os
import select
import socket
import struct
import subprocess
import threading
import time

import pkt as P
from net import Link, Serve

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
_libc = ctypes.CDLL(None, use_errno=True)


class netns:
    """`with netns(NAME):` runs the block in network namespace NAME (this
    thread only; sockets keep the namespace they were made in)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {self.name}")
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(self.home)


# The applications, the same on both sides (handshake serve's modes):
#   "discard" (port 7): reads and drops; closes after the peer's FIN
#   "close"   (port 9): closes at once after the accept (serve --send of an
#                       empty file): this side's FIN comes first
#   "hold"    (port 11): accepts and never reads, with a small receive
#                       buffer (SO_RCVBUF; serve --hold --rcvbuf): the
#                       window closes after a few segments
#   "connect" (no listener): the system opens to the peer (a socket's
#                       connect(); `handshake connect`), for SYN_SENT and
#                       on: it reads and drops, and closes after the
#                       peer's FIN (as connect without --send)
#   "connect-shut"      the same, but it shuts its sending side at once
#                       when connected (connect --send of an empty file):
#                       its FIN first, as a client done with its request
#   "send"    (port 13): sends SEND_BYTES at once after the accept, then
#                       closes (serve --send of such a file): data in
#                       flight, for the ICMP errors about it
PORTS = {"discard": 7, "close": 9, "hold": 11, "send": 13}
CLOSED_PORT = 2
RCVBUF = 4096           # the hold port's SO_RCVBUF on both
SEND_BYTES = 4000       # three segments: under any initial window


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


class LinuxSide:
    name = "linux"

    def __init__(self, ns, dev, peer, addr):
        self.peer, self.addr, self.ns = peer, addr, ns
        self.apps = []
        self.pending = []           # the hold port's connections
        self.client = None
        with netns(ns):
            self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
            fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TUN | IFF_NO_PI))
            for mode, port in PORTS.items():
                s = socket.socket(family(addr), socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if mode == "hold":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
                s.bind((addr, port))
                s.listen(64)
                self.apps.append(s)
                threading.Thread(target=self._serve, args=(s, mode), daemon=True).start()

    def _serve(self, lsock, mode):
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            if mode == "close":
                c.close()
                continue
            if mode == "send":
                c.sendall(bytes(SEND_BYTES))
                c.close()
                continue
            if mode == "hold":
                self.pending.append(c)      # kept open, never read
                continue
            threading.Thread(target=LinuxSide._discard, args=(c,), daemon=True).start()

    @staticmethod
    def _discard(c):
        c.settimeout(30)
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()

    def start(self, mode):
        pass                        # every application listens all the time

    def connect(self, port, shut=False):
        """An active open to the peer's port (a socket of the namespace),
        then `handshake connect`'s application: read and drop, close
        after the peer's FIN (or the socket's error); shut: SHUT_WR as
        soon as it is connected."""
        with netns(self.ns):
            c = socket.socket(family(self.peer), socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex((self.peer, port))
        self.client = c
        self.client_lock = threading.Lock()
        threading.Thread(target=self._client_app, args=(c, shut), daemon=True).start()

    def _client_app(self, c, shut):
        while True:
            with self.client_lock:
                if self.client is not c:
                    return              # the scenario ended
                try:
                    r, w, _ = select.select([c], [c] if shut else [], [], 0)
                    if w and c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        c.shutdown(socket.SHUT_WR)
                        shut = False
                    data = c.recv(65536) if r else None
                except OSError:
                    data = b""          # refused, reset: the socket is done
                if data == b"":
                    c.close()
                    self.client = None
                    return
            time.sleep(0.005)

    def forget_pmtu(self):
        """The kernel keeps a path MTU learnt from a too-big per
        destination (a route exception): gone, so that the next
        scenarios' SYNs offer the link's MSS again."""
        subprocess.run(["ip", "-n", self.ns, "-4", "route", "flush", "cache"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "-n", self.ns, "-6", "route", "flush", "cache"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def end_connect(self):
        if self.client:
            with self.client_lock:
                if self.client:
                    self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                    self.client.close()
                    self.client = None

    def send(self, raw):
        os.write(self.fd, raw)

    def fileno(self):
        return self.fd

    def read(self):
        """The TCP segments to the peer read since the last call."""
        out = []
        while True:
            try:
                raw = os.read(self.fd, 70000)
            except BlockingIOError:
                break
            p = P.Pkt(raw, time.monotonic())
            if p.tcp_to(self.peer):
                out.append(p)
        return out

    def close(self):
        self.end_connect()
        for s in self.apps + self.pending:
            s.close()
        os.close(self.fd)


class HskSide:
    name = "handshake"

    def __init__(self, ns, dev, peer, addr, hsk, logdir, empty_file):
        self.peer, self.addr = peer, addr
        self.hsk, self.dev, self.logdir, self.empty = hsk, dev, logdir, empty_file
        self.send_file = os.path.join(logdir, "send")
        with open(self.send_file, "wb") as f:
            f.write(bytes(SEND_BYTES))
        with netns(ns):
            self.link = Link(dev)
        self.ns = ns
        self.serve = None
        self.client = None
        self.mode = None
        self.exits = []
        self.cursor = self.link.mark()

    def start(self, mode):
        """serve in the application mode `mode` (restarted on a change);
        "connect...": no serve (connect needs the device)."""
        if mode == self.mode or mode is None:
            return
        self.stop()
        if mode.startswith("connect"):
            self.mode = mode
            return
        extra = {"discard": ["--discard"], "close": ["--send", self.empty],
                 "hold": ["--hold", "--rcvbuf", str(RCVBUF)],
                 "send": ["--send", self.send_file]}[mode]
        # --idle-timeout 0 and no per-source limit: nothing of serve's own
        # policy may show in a reply. (A short drain: the connections a
        # group leaves open have no peer to answer the stop's FINs.)
        self.serve = Serve("ip", self.dev, self.addr_prefix(),
                           os.path.join(self.logdir, "serve.log"), port=PORTS[mode],
                           extra=["--idle-timeout", "0", "--max-conn-per-source", "0",
                                  "--drain-timeout", "0.2", *extra,
                                  *os.environ.get("CONFORM_SERVE_ARGS", "").split()])
        self.serve.argv[:2] = ["ip", "netns", "exec", self.ns, self.hsk, "serve"]
        self.serve.start()
        self.mode = mode

    def addr_prefix(self):
        return self.addr + ("/64" if ":" in self.addr else "/24")

    def stop(self):
        """Stops serve; its exit status is kept in self.exits (None: it
        had to be killed)."""
        if self.serve:
            self.exits.append(self.serve.stop(timeout=5))
            self.serve = None
        self.mode = None

    def connect(self, port, shut=False):
        """`handshake connect` to the peer's port, for one scenario
        (shut: --send of an empty file, its FIN as soon as connected)."""
        log = open(os.path.join(self.logdir, "connect.log"), "ab")
        self.client = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, self.hsk, "connect", "--tun", self.dev,
             "--addr", self.addr_prefix(),
             (f"[{self.peer}]" if ":" in self.peer else self.peer) + f":{port}", "--timeout", "5",
             *(["--send", self.empty] if shut else [])],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()

    def end_connect(self):
        if self.client:
            self.client.kill()          # (ip execs connect: this is connect)
            self.client.wait()
            self.client = None

    def send(self, raw):
        self.link.send(raw)

    def fileno(self):
        return self.link.rx.fileno()

    def read(self):
        self.link.pump()
        new = self.link.since(self.cursor)
        self.cursor += len(new)         # (not mark(): it reads on, unseen)
        return [p for p in new if p.tcp_to(self.peer)]

    def close(self):
        self.end_connect()
        self.stop()

    def sanitizer_reports(self):
        """Lines of an ASan/UBSan report in serve's or connect's output."""
        out = []
        for name in ("serve.log", "connect.log"):
            try:
                with open(os.path.join(self.logdir, name), errors="replace") as f:
                    out += [l.rstrip() for l in f if "Sanitizer" in l or "runtime error:" in l]
            except OSError:
                pass
        return out


def collect(sides, duration, mine, grace=0.4):
    """What each side sent to the peer (segments `mine` takes) within
    `duration` seconds. A side that then has fewer than the other gets up
    to `grace` more, alone, to catch up (a loaded host schedules serve
    late); the other side's later segments stay unread for the next step."""
    got = {s.name: [] for s in sides}
    end = time.monotonic() + duration
    late = end + grace
    live = list(sides)
    while True:
        for s in live:
            got[s.name] += [p for p in s.read() if mine(p)]
        now = time.monotonic()
        if now >= end:
            most = max(len(v) for v in got.values())
            live = [s for s in sides if len(got[s.name]) < most]
            if not live or now >= late:
                return got
        left = (end if now < end else late) - now
        select.select([s.fileno() for s in live], [], [], min(left, 0.05))


def collect_until(sides, pred, mine, timeout):
    """Like collect, but returns once every side sent a segment matching
    pred (or when timeout runs out)."""
    got = {s.name: [] for s in sides}
    end = time.monotonic() + timeout
    while True:
        for s in sides:
            if not any(pred(p) for p in got[s.name]):
                got[s.name] += [p for p in s.read() if mine(p)]
        if all(any(pred(p) for p in got[s.name]) for s in sides):
            return got
        left = end - time.monotonic()
        if left <= 0:
            return got
        select.select([s.fileno() for s in sides], [], [], min(left, 0.05))
