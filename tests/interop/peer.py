#!/usr/bin/env python3
"""The Linux kernel's side of the interop tests: plain sockets, run inside
the test's network namespace. Every mode prints one JSON line with what it
saw (hashes, byte counts, timings, socket states from `ss`) and exits 0 only
when its own checks passed; the shell test decides the rest.

Modes:
  echo-client HOST PORT SIZE [nostate]
                                 send SIZE random bytes, shut down, read the
                                 echo to EOF; sha256 both ways; the kernel
                                 closed first, so its socket must be in
                                 TIME-WAIT afterwards (unless "nostate")
  recv-client HOST PORT SHA      read to EOF (the server closes first): the
                                 socket must be in CLOSE-WAIT then; compare
                                 the sha256; close (LAST-ACK -> gone)
  (servers listen on 0.0.0.0; with HSK_PEER_V6=1 on [::], dual stack)
  sink-server PORT FILE [nostate]
                                 accept one connection, read to EOF, then
                                 send FILE and close (the peer half-closed);
                                 CLOSE-WAIT at EOF and gone 3 s after the
                                 close (unless "nostate")
  source-server PORT FILE        accept one, send FILE and close first;
                                 then read to EOF; kernel ends in TIME-WAIT
  many HOST PORT N SIZE          N clients connected at once, each echoes
                                 SIZE bytes, all verified and closed
  refused HOST PORT              connect must fail with ECONNREFUSED
  closer-server PORT             accept one, wait for data, close at once
                                 (simultaneous-close partner: must pass
                                 through CLOSING to TIME-WAIT)
  halfclose-client HOST PORT SHA shut down writing at once, then read to
                                 EOF while the server keeps sending
  hold HOST PORT N SECONDS       N connections held open, then closed
  conns HOST PORT N SRC HOLD     N connections from address SRC ("-": any)
                                 at once, then one byte each that must come
                                 back (echo): how many were served and how
                                 many refused (reset or closed); then held
                                 HOLD seconds: how many the server closed
  drain-client HOST PORT N KEEP  N echo connections; then wait for the
                                 server's FIN on each (it is told to stop):
                                 N-KEEP close at once, KEEP stay open
                                 until the server resets them
  drain-server PORT              accept one, read to EOF, never close:
                                 wait for the client's RST
  raw-request HOST PORT TEXT [PAD]
                                 send TEXT (with \\r\\n escapes) and PAD bytes
                                 of 'a', never more; read to EOF: the
                                 status code of the answer and how long
                                 the server took to close
  ping HOST COUNT SIZE           ICMP echo through a raw socket
"""
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

CHUNK = 65536


def out(**kw):
    print(json.dumps(kw), flush=True)


def ss_state(local_port=None, remote_port=None):
    """States of the kernel's TCP sockets matching the ports."""
    res = subprocess.run(["ss", "-tanH"], capture_output=True, text=True)
    states = []
    for line in res.stdout.splitlines():
        f = line.split()
        if len(f) < 5:
            continue
        lport = f[3].rsplit(":", 1)[-1]
        rport = f[4].rsplit(":", 1)[-1]
        if local_port is not None and lport != str(local_port):
            continue
        if remote_port is not None and rport != str(remote_port):
            continue
        states.append(f[0])
    return states


PROC_STATES = {1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1",
               5: "FIN-WAIT-2", 6: "TIME-WAIT", 7: "UNCONN", 8: "CLOSE-WAIT",
               9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING"}


def proc_state(local_port=None, remote_port=None):
    """As ss_state, from /proc/net/tcp: no process to start, so it can be
    polled every millisecond and catch a state that lasts a few."""
    states = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            p = line.split()
            lport = int(p[1].split(":")[1], 16)
            rport = int(p[2].split(":")[1], 16)
            if local_port is not None and lport != local_port:
                continue
            if remote_port is not None and rport != remote_port:
                continue
            states.append(PROC_STATES.get(int(p[3], 16), p[3]))
    return states


def wait_state(want, local_port=None, remote_port=None, timeout=3.0, seen=None,
               poll=ss_state, interval=0.005):
    """Polls ss until `want` shows; every state observed goes into `seen`."""
    end = time.time() + timeout
    st = []
    while time.time() < end:
        st = poll(local_port, remote_port)
        if seen is not None:
            for x in st:
                if x not in seen:
                    seen.append(x)
        if want in st:
            return st
        time.sleep(interval)
    return st


def wait_gone(local_port, remote_port, timeout=3.0):
    """Polls ss until no socket matches; returns what is left."""
    end = time.time() + timeout
    st = ss_state(local_port, remote_port)
    while st and time.time() < end:
        time.sleep(0.005)
        st = ss_state(local_port, remote_port)
    return st


def recv_all(s, h=None):
    n = 0
    while True:
        b = s.recv(CHUNK)
        if not b:
            return n
        n += len(b)
        if h:
            h.update(b)


def send_file(s, path):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            s.sendall(b)
            h.update(b)
            n += len(b)
    return n, h.hexdigest()


def echo_client(host, port, size, check_state=True):
    data = os.urandom(size)
    sent_sha = hashlib.sha256(data).hexdigest()
    s = socket.create_connection((host, port), timeout=30)
    lport = s.getsockname()[1]
    t0 = time.time()

    def sender():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    th = threading.Thread(target=sender)
    th.start()
    h = hashlib.sha256()
    n = recv_all(s, h)
    th.join()
    dt = time.time() - t0
    # We sent FIN first and got the peer's FIN: TIME-WAIT.
    st_before_close = ss_state(lport)
    s.close()
    st = wait_state("TIME-WAIT", lport, timeout=1)
    ok = n == size and h.hexdigest() == sent_sha and (not check_state or "TIME-WAIT" in st)
    out(mode="echo-client", ok=ok, sent=size, received=n, sent_sha=sent_sha,
        recv_sha=h.hexdigest(), seconds=round(dt, 3),
        mbps=round(2 * size / dt / 1e6, 1), state_at_eof=st_before_close,
        state_after_close=st)
    return ok


def recv_client(host, port, want_sha):
    s = socket.create_connection((host, port), timeout=30)
    lport = s.getsockname()[1]
    t0 = time.time()
    h = hashlib.sha256()
    n = recv_all(s, h)
    dt = time.time() - t0
    # The server closed first: we are in CLOSE-WAIT until we close.
    st_eof = ss_state(lport)
    s.close()
    time.sleep(0.2)
    st_after = ss_state(lport)
    ok = (h.hexdigest() == want_sha and "CLOSE-WAIT" in st_eof
          and "LAST-ACK" not in st_after and "CLOSE-WAIT" not in st_after)
    out(mode="recv-client", ok=ok, received=n, recv_sha=h.hexdigest(),
        seconds=round(dt, 3), mbps=round(n / dt / 1e6, 1),
        state_at_eof=st_eof, state_after_close=st_after)
    return ok


def listener(port):
    # HSK_PEER_V6=1: a dual-stack socket on [::] (the IPv6 tests; the
    # others' namespaces have IPv6 off)
    if os.environ.get("HSK_PEER_V6") == "1":
        ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("::", port))
    else:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", port))
    ls.listen(16)
    ls.settimeout(30)
    print("listening", file=sys.stderr, flush=True)
    return ls


def sink_server(port, path, check_state=True):
    ls = listener(port)
    s, peer = ls.accept()
    s.settimeout(30)
    t0 = time.time()
    h = hashlib.sha256()
    n = recv_all(s, h)
    # The client half-closed: we are in CLOSE-WAIT and still send.
    st_eof = ss_state(port, peer[1])
    sent, sent_sha = send_file(s, path)
    dt = time.time() - t0
    s.close()
    # LAST-ACK until the peer acknowledges our FIN, then gone.
    st_after = wait_gone(port, peer[1], timeout=3)
    ok = not check_state or ("CLOSE-WAIT" in st_eof and not st_after)
    out(mode="sink-server", ok=ok, received=n, recv_sha=h.hexdigest(),
        sent=sent, sent_sha=sent_sha, seconds=round(dt, 3),
        mbps=round((n + sent) / dt / 1e6, 1), state_at_eof=st_eof,
        state_after_close=st_after)
    return ok


def source_server(port, path):
    ls = listener(port)
    s, peer = ls.accept()
    s.settimeout(30)
    t0 = time.time()
    sent, sent_sha = send_file(s, path)
    s.shutdown(socket.SHUT_WR)
    n = recv_all(s)
    dt = time.time() - t0
    s.close()
    st = wait_state("TIME-WAIT", port, peer[1], timeout=2)
    ok = "TIME-WAIT" in st
    out(mode="source-server", ok=ok, sent=sent, sent_sha=sent_sha, received=n,
        seconds=round(dt, 3), mbps=round(sent / dt / 1e6, 1), state_after_close=st)
    return ok


def many(host, port, n, size):
    # Each client ends in TIME-WAIT, which is what is counted below. A
    # late duplicate ACK (a re-ACK of a probed FIN, delayed on a loaded
    # machine) reaches handshake after its LAST-ACK ended and rightly
    # draws a RST (RFC 9293 3.10.7.1), and Linux lets a RST end a
    # TIME-WAIT unless tcp_rfc1337 is set: set it in this namespace, so
    # the count shows the close sequences, not scheduling delays.
    with open("/proc/sys/net/ipv4/tcp_rfc1337", "w") as f:
        f.write("1")
    socks = []
    t0 = time.time()
    for _ in range(n):
        socks.append(socket.create_connection((host, port), timeout=30))
    t_conn = time.time() - t0
    # All n are connected at once before anything is sent.
    est = sum(1 for st in ss_state(remote_port=port) if st == "ESTAB")
    results = [False] * n

    def one(i):
        s = socks[i]
        data = os.urandom(size)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            got = bytearray()
            while True:
                b = s.recv(CHUNK)
                if not b:
                    break
                got += b
            results[i] = bytes(got) == data
        except OSError as e:
            print("client %d: %s" % (i, e), file=sys.stderr)
        finally:
            s.close()

    ths = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    dt = time.time() - t0
    time.sleep(0.3)
    states = ss_state(remote_port=port)
    tw = states.count("TIME-WAIT")
    ok = all(results) and est == n and tw == n
    out(mode="many", ok=ok, clients=n, established_at_once=est,
        echoes_ok=sum(results), time_wait=tw, other_states=sorted(set(states) - {"TIME-WAIT"}),
        connect_seconds=round(t_conn, 3), seconds=round(dt, 3))
    return ok


def refused(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((host, port))
        err = "connected"
    except ConnectionRefusedError:
        err = "ECONNREFUSED"
    except OSError as e:
        err = "%s" % e
    out(mode="refused", ok=err == "ECONNREFUSED", error=err)
    return err == "ECONNREFUSED"


def closer_server(port):
    ls = listener(port)
    s, peer = ls.accept()
    s.settimeout(30)
    b = s.recv(CHUNK)
    s.close()
    seen = []
    st = wait_state("TIME-WAIT", port, peer[1], timeout=5, seen=seen,
                    poll=proc_state, interval=0.001)
    # A simultaneous close goes FIN-WAIT-1 -> CLOSING -> TIME-WAIT.
    ok = "TIME-WAIT" in st and "CLOSING" in seen
    out(mode="closer-server", ok=ok, first_read=len(b), states_seen=seen)
    return ok


def halfclose_client(host, port, want_sha):
    s = socket.create_connection((host, port), timeout=30)
    lport = s.getsockname()[1]
    s.shutdown(socket.SHUT_WR)
    h = hashlib.sha256()
    n = recv_all(s, h)
    st_eof = ss_state(lport)
    s.close()
    ok = h.hexdigest() == want_sha and "TIME-WAIT" in st_eof
    out(mode="halfclose-client", ok=ok, received=n, recv_sha=h.hexdigest(),
        state_at_eof=st_eof)
    return ok


def hold(host, port, n, seconds):
    """n connections held open for `seconds`, then closed."""
    socks = [socket.create_connection((host, port), timeout=10) for _ in range(n)]
    print("holding", file=sys.stderr, flush=True)
    time.sleep(seconds)
    for s in socks:
        s.close()
    out(mode="hold", ok=True, connections=n)
    return True


def conns(host, port, n, src, hold):
    socks = []
    refused = 0
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        if src != "-":
            s.bind((src, 0))
        try:
            s.connect((host, port))
        except ConnectionResetError:
            # the RST of a refused connection came before connect()
            # returned (the handshake itself completed)
            refused += 1
            s.close()
            continue
        socks.append(s)
    time.sleep(0.3)   # resets of refused connections arrive
    served = []
    for s in socks:
        try:
            s.sendall(b"x")
            s.settimeout(2)
            if s.recv(1) == b"x":
                served.append(s)
                continue
        except OSError:
            pass
        refused += 1
    out(mode="conns", ok=True, connections=n, served=len(served), refused=refused)
    print("holding", file=sys.stderr, flush=True)
    time.sleep(hold)
    closed = 0
    for s in served:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    for s in socks:
        s.close()
    out(mode="conns", ok=True, connections=n, served=len(served), refused=refused,
        closed_by_server=closed)
    return True


def wait_rst(s, timeout):
    """Seconds until a RST reset s (SO_ERROR set, or gone), None if none."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            return time.time() - t0
        time.sleep(0.01)
    return None


def wait_eof(socks, timeout):
    """Seconds until each socket saw EOF (None: it did not)."""
    t0 = time.time()
    res = [None] * len(socks)
    for s in socks:
        s.setblocking(False)
    while time.time() - t0 < timeout and None in res:
        for i, s in enumerate(socks):
            if res[i] is not None:
                continue
            try:
                if s.recv(CHUNK) == b"":
                    res[i] = round(time.time() - t0, 3)
            except BlockingIOError:
                pass
            except OSError:
                res[i] = -1      # reset instead of FIN
        time.sleep(0.005)
    return res


def drain_client(host, port, n, keep):
    socks = [socket.create_connection((host, port), timeout=5) for _ in range(n)]
    for s in socks:
        s.sendall(b"x")
        if s.recv(1) != b"x":
            out(mode="drain-client", ok=False, error="no echo")
            return False
    print("holding", file=sys.stderr, flush=True)
    # The server is stopped now: a FIN on every connection.
    eof = wait_eof(socks, 10)
    for s in socks[:n - keep]:
        s.close()
    rst = [wait_rst(s, 10) for s in socks[n - keep:]]
    ok = all(x is not None and x >= 0 for x in eof) and all(x is not None for x in rst)
    out(mode="drain-client", ok=ok, eof_seconds=eof,
        rst_after_eof=[None if x is None else round(x, 3) for x in rst])
    for s in socks[n - keep:]:
        s.close()
    return ok


def drain_server(port):
    ls = listener(port)
    s, _ = ls.accept()
    s.settimeout(30)
    n = recv_all(s)
    rst = wait_rst(s, 10)
    out(mode="drain-server", ok=rst is not None, received=n,
        rst_after_eof=None if rst is None else round(rst, 3))
    s.close()
    return rst is not None


def raw_request(host, port, text, pad=0):
    """An HTTP request that never completes (slowloris), or too large."""
    s = socket.create_connection((host, port), timeout=10)
    t0 = time.time()
    s.sendall(text.encode().decode("unicode_escape").encode("latin-1") + b"a" * pad)
    got = b""
    try:
        got = s.recv(CHUNK)
        while True:
            b = s.recv(CHUNK)
            if not b:
                break
            got += b
        eof = True
    except (socket.timeout, ConnectionResetError) as e:
        eof = type(e).__name__
    dt = time.time() - t0
    status = got.split(b" ", 2)[1].decode() if got.startswith(b"HTTP/") else None
    out(mode="raw-request", ok=status is not None and eof is True, status=status,
        eof=eof, seconds=round(dt, 3), received=len(got))
    s.close()
    return status is not None


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ping(host, count, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(1.0)
    ident = os.getpid() & 0xffff
    got = 0
    rtts = []
    for seq in range(count):
        payload = os.urandom(size)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload
        t0 = time.time()
        s.sendto(pkt, (host, 0))
        end = t0 + 1.0
        while time.time() < end:
            try:
                r = s.recv(65536)
            except socket.timeout:
                break
            ihl = (r[0] & 15) * 4
            icmp = r[ihl:]
            if len(icmp) < 8:
                continue
            t, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if t == 0 and rid == ident and rseq == seq:
                if icmp[8:] == payload and csum(icmp) == 0:
                    got += 1
                    rtts.append((time.time() - t0) * 1e3)
                break
    out(mode="ping", ok=got == count, sent=count, received=got,
        rtt_ms=[round(x, 3) for x in rtts])
    return got == count


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    m, a = argv[1], argv[2:]
    if m == "echo-client":
        ok = echo_client(a[0], int(a[1]), int(a[2]), a[3:4] != ["nostate"])
    elif m == "recv-client":
        ok = recv_client(a[0], int(a[1]), a[2])
    elif m == "sink-server":
        ok = sink_server(int(a[0]), a[1], a[2:3] != ["nostate"])
    elif m == "source-server":
        ok = source_server(int(a[0]), a[1])
    elif m == "many":
        ok = many(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif m == "refused":
        ok = refused(a[0], int(a[1]))
    elif m == "halfclose-client":
        ok = halfclose_client(a[0], int(a[1]), a[2])
    elif m == "closer-server":
        ok = closer_server(int(a[0]))
    elif m == "hold":
        ok = hold(a[0], int(a[1]), int(a[2]), float(a[3]))
    elif m == "conns":
        ok = conns(a[0], int(a[1]), int(a[2]), a[3], float(a[4]))
    elif m == "drain-client":
        ok = drain_client(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif m == "drain-server":
        ok = drain_server(int(a[0]))
    elif m == "raw-request":
        ok = raw_request(a[0], int(a[1]), a[2], int(a[3]) if len(a) > 3 else 0)
    elif m == "ping":
        ok = ping(a[0], int(a[1]), int(a[2]))
    else:
        print("unknown mode " + m, file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
