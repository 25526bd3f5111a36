#!/usr/bin/env python3
"""Writes hand-made seeds for fuzz_stack into tests/fuzz/corpus/fuzz_stack/.

Each seed is a short program in the input language of fuzz_stack.c (see the
comment at its top): scenarios the fuzzer would take long to find alone --
a transfer both ways, a closed receive window, a peer that vanishes,
crafted handshakes with unusual options, ICMP errors and fragments against
live connections, TIME_WAIT. The fuzzer's own finds are added with
pick_corpus.py (see docs/fuzzing.md). Reproducers of known faults go to
tests/fuzz/findings/ instead.

  tests/fuzz/make_seeds.py [CORPUS_DIR [FINDINGS_DIR]]
"""
import os
import struct
import sys

A, B = 0x00, 0x80          # side bit of an opcode
# The harness's descriptor lists start as: listener (80 on A, 443 on B),
# listener 8080, the client connected to the other side.
L0, L1, CLIENT, ACCEPTED = 0, 1, 2, 3


def u8(v): return struct.pack("B", v & 0xff)
def u16(v): return struct.pack(">H", v & 0xffff)
def u32(v): return struct.pack(">I", v & 0xffffffff)


def cfg(features=0, mtu=0, bufs=0, seed=0):
    return u8(features) + u8(mtu) + u8(bufs) + u8(seed)


def pump(rounds=63): return u8(12) + u8(rounds)
def time(code): return u8(11) + u8(code)          # <100: ms, <200: x100 ms, <250: x10 s


def sock(side, call, idx=0, arg=0, extra=b""):
    return u8(side | 7) + u8(call) + u8(idx) + u16(arg) + extra


def accept(side, idx=L0): return sock(side, 4, idx)
def send(side, idx, n): return sock(side, 5, idx, n - 1)
def recv(side, idx, n): return sock(side, 7, idx, n - 1)
def shutdown(side, idx, how): return sock(side, 9, idx, how)
def close(side, idx): return sock(side, 10, idx)
def setopt(side, idx, opt, which, val=0):
    return sock(side, 12, idx, (opt - 1) | which << 4, u32(val))


def link(frm, to, how, extra=b""):
    return u8(0) + u8(frm | to << 1 | how << 2) + extra


def opts_mss_ts(mss, ts=True):
    return u8(3 | (4 if ts else 0)) + u16(mss)


def opts_struct(mss=None, ws=None, sack_ok=False, ts=None, sacks=()):
    f = (1 if mss is not None else 0) | (2 if ws is not None else 0) | \
        (4 if sack_ok else 0) | (8 if ts is not None else 0) | len(sacks) << 4
    b = u8(1) + u8(f)
    if mss is not None:
        b += u16(mss)
    if ws is not None:
        b += u8(ws)
    if ts is not None:
        b += u8(ts[0]) + u32(ts[1])     # TSval = TS.Recent + int8, TSecr
    for left, size in sacks:
        b += u16(left) + u16(size)      # relative to SND.UNA
    return b


# send_l4's wrapper: no IP options, no fragments, IP id 0.
PLAIN = u8(0) + u16(0)


def segment(side, target, flags, seqmode, ackmode, win, opts=u8(0), payload=b"",
            sv=0, av=0, wrap=PLAIN):
    """target: (sel, port) as pick_target reads them; seqmode/ackmode as
    rel_seq/rel_ack (5: exactly RCV.NXT / SND.MAX)."""
    modes = seqmode | ackmode << 3
    return (u8(side | 3) + u8(target[0]) + u8(target[1]) + u8(flags) + u8(modes) +
            u32(sv) + u32(av) + u16(win) + opts + u8(len(payload)) + payload + wrap)


def icmp(side, target, tsel, code, mtu, qmode, qv=0, rest=0, wrap=PLAIN):
    # (tsel & 0x40 would take the MTU from a list of boundaries instead)
    """tsel 0x80: fragmentation needed with next-hop MTU mtu; else
    type [3, 3, 3, 3, 11, 12, 4, 5, 0, 3][tsel % 10] with code % 16. The
    quote: our IPv4 header and 8 bytes of the connection's segment, SEG.SEQ
    by qmode (0: SND.UNA, 2: SND.MAX - 1, 4: ISS, 5: qv)."""
    needfrag = tsel & 0x80 or (tsel % 10 in (0, 1, 2, 3, 9) and code % 16 == 4)
    return (u8(side | 5) + u8(target[0]) + u8(target[1]) + u8(tsel) + u8(code) +
            u16(mtu) + u8(qmode) + u32(qv) + u16(0) + (b"" if needfrag else u16(rest)) +
            wrap)


def frags(specs, ident=7):
    """An IP wrapper cutting the datagram: specs of (block offset, length
    byte, control byte) as fragments() reads them."""
    b = u8(2) + u16(ident) + u8(len(specs) - 1)
    for a, ln, c in specs:
        b += u8(a) + u8(ln) + u8(c)
    return b


SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
# pick_target: sel < 0x80 picks the live object sel % n (hsk_stack_conns
# order: listeners first, then the table); 0x80 a new tuple.
NEW_FROM_P = (0xc0, 1)       # new tuple from the attacker to port 80
NEW_FROM_PEER = (0x80, 2)

seeds = {
    # Both connections up, data both ways, read, half-close, close.
    "transfer": cfg() + pump() + accept(B) + accept(A) +
        send(A, CLIENT, 3000) + send(B, ACCEPTED, 1200) + pump() +
        recv(B, ACCEPTED, 4000) + recv(A, CLIENT, 4000) + shutdown(A, CLIENT, 1) +
        pump() + send(B, ACCEPTED, 100) + pump() + recv(A, CLIENT, 200) +
        close(B, ACCEPTED) + pump() + time(250) + pump(),
    # B never reads: its window closes; A probes; time passes; B reads.
    "zero_window": cfg(bufs=0x01) + pump() + accept(B) + accept(A) +
        send(A, CLIENT, 20000) + pump() + send(A, CLIENT, 20000) + pump() +
        time(150) + pump() + time(210) + pump() + recv(B, ACCEPTED, 20000) + pump() +
        recv(B, ACCEPTED, 20000) + pump(),
    # Loss and reordering on a transfer: drop, swap, duplicate.
    "loss": cfg() + pump() + accept(B) + accept(A) + send(A, CLIENT, 12000) +
        link(0, 1, 3) + link(0, 1, 6) + link(0, 1, 4) + link(0, 1, 0) +
        link(0, 1, 3) + pump() + time(120) + pump() + recv(B, ACCEPTED, 20000) + pump(),
    # Same without SACK and timestamps (NewReno, RTT by timing).
    "loss_nosack": cfg(features=0x1b) + pump() + accept(B) + accept(A) +
        send(A, CLIENT, 12000) + link(0, 1, 3) + link(0, 1, 5) + pump() + time(120) +
        pump() + recv(B, ACCEPTED, 20000) + pump(),
    # A's SYN to B rewritten: a small but sane MSS with timestamps, shift 14.
    "syn_small_mss": cfg() + link(0, 1, 7, opts_mss_ts(100)) + pump() +
        accept(B) + send(B, ACCEPTED, 3000) + pump() + recv(A, CLIENT, 4000),
    "syn_wscale_14": cfg() + link(0, 1, 7, opts_struct(mss=1460, ws=14, sack_ok=True,
        ts=(1, 0))) + pump() + accept(B) + send(B, ACCEPTED, 3000) + pump(),
    # An attacker's handshake to A:80 with odd options, then data.
    "attacker_syn": cfg() + segment(A, NEW_FROM_P, SYN, 0, 0, 512,
        opts_struct(mss=600, ws=3, sack_ok=True, ts=(0, 0)), sv=1000) +
        segment(A, (0x02, 1), ACK, 5, 5, 100, payload=b"GET / HTTP/1.0\r\n\r\n") +
        accept(A) + pump(),
    # Blind RST and SYN into a live connection, and an old ACK.
    "blind": cfg() + pump() + accept(B) +
        segment(B, (0x02, 0), RST, 1, 0, 0, sv=1) +
        segment(B, (0x02, 0), SYN, 1, 0, 0, sv=5) +
        segment(B, (0x02, 0), ACK, 5, 5, 1000) + pump(),
    # ICMP fragmentation-needed for a connection with data in flight.
    "icmp_needfrag": cfg() + pump() + accept(B) + send(A, CLIENT, 4000) +
        icmp(A, (0x02, 0), 0x80, 4, 1200, 0) + pump(),
    "icmp_unreach_connecting": cfg() + icmp(A, (0x02, 0), 0, 3, 0, 0) + pump(),
    # A SYN arriving in overlapping and tiny fragments.
    "fragments": cfg() + segment(A, NEW_FROM_P, SYN, 0, 0, 1000,
        opts_struct(mss=1400), sv=77,
        wrap=frags([(0, 0, 0x02), (1, 0x80, 0x00), (0, 0x80, 0x01)])) + pump(),
    # A closes first and sits in TIME_WAIT; then a RST, a FIN, data, an
    # old SYN and a new one (above RCV.NXT) reach the entry.
    "timewait": cfg() + pump() + accept(B) + send(B, ACCEPTED, 100) + pump() +
        shutdown(A, CLIENT, 1) + pump() + close(B, ACCEPTED) + pump() + b"".join(
        segment(A, (sel, 0), RST, 5, 5, 100) + segment(A, (sel, 0), FIN | ACK, 5, 5, 100) +
        segment(A, (sel, 0), ACK | PSH, 5, 5, 100, payload=b"late") +
        segment(A, (sel, 0), SYN, 3, 0, 100, sv=10) +
        segment(A, (sel, 0), SYN, 4, 0, 100, opts_struct(mss=1000), sv=70000)
        for sel in range(2, 6)) + pump() + accept(A, L1) + pump(),
    # An echo request larger than the MTU, reassembled from fragments.
    "echo": cfg() + u8(0x46) + u16(3000) + u32(1) +
        frags([(0, 0x80, 0x01), (0, 0x80, 0x00)]) + pump(),
}


# Inputs that show a known fault of issue 12: kept in tests/fuzz/findings/,
# out of the corpus make check replays until the fault is fixed.
findings = {
    # Fault 2: a peer that offers a zero window and then never answers
    # pins the connection, closed and orphaned, forever (a probe every
    # 120 s): the end-of-input check finds a TCB and a timer 6 h later.
    "fault2_zero_window_forever": cfg() + sock(A, 0) + sock(A, 3, 3, 2) + b"".join(
        segment(A, (sel, 0), SYN | ACK, 0, 5, 0, sv=5000) for sel in range(2, 7)) +
        send(A, 3, 2000) + pump() + time(210) + pump(),
    # Fault 4: A's SYN reaches B with MSS 5 and timestamps: B's send MSS
    # wraps to 65529 and it hands the link a packet far above the MTU.
    "fault4_mss5_ts": cfg() + link(0, 1, 7, opts_mss_ts(5)) + pump() + accept(B) +
        send(B, ACCEPTED, 3000) + pump(),
    # Fault 4, ICMP half: the peer announced MSS 60; a fragmentation-
    # needed with MTU 68 makes B use the floor of 88, above the peer's MSS.
    "fault4_icmp_raises_mss": cfg() + link(0, 1, 7, opts_mss_ts(60, ts=False)) +
        pump() + accept(B) + send(B, ACCEPTED, 3000) + b"".join(
        icmp(B, (sel, 0), 0x80, 4, 68, 0) for sel in range(2, 5)) +
        send(B, ACCEPTED, 3000) + pump(),
    # Fault 8: an ACK below SND.UNA (but within the largest window) with a
    # newer SEG.SEQ changes the send window (RFC 9293 3.10.7.4 takes the
    # window only from SND.UNA <= SEG.ACK <= SND.NXT).
    "fault8_window_from_old_ack": cfg() + pump() + accept(B) + accept(A) +
        send(A, CLIENT, 3000) + pump() + b"".join(
        segment(B, (sel, 0), ACK, 1, 1, 7, sv=1, av=0xff9c) for sel in (2, 3)),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_stack")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, "seed_" + name), "wb") as f:
            f.write(data)
    fdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "findings")
    os.makedirs(fdir, exist_ok=True)
    for name, data in findings.items():
        with open(os.path.join(fdir, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {out}, {len(findings)} findings in {fdir}")


if __name__ == "__main__":
    main()
