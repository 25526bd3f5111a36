"""Blind in-window attacks (RFC 5961), their replies' rate limits, blind
ICMP errors (RFC 5927) and a forged timestamp (RFC 7323 §4.3), all aimed
at the sub-case's earlier kernel connection, the victim. The attacker is
an off-path one who guessed the 4-tuple and has a fair idea of the
sequence numbers: the suite reads them from handshake's last segment.

Every reply to an unacceptable segment is an ACK carrying handshake's
SND.NXT and RCV.NXT (a challenge ACK); none is a RST; and the victim's
stream is never touched: suite.py checks it still echoes exactly.
"""
import os

import pkt as P
from net import Fail, expect
from suite import case

BIG = 0x40000000        # 1 GiB: outside any window handshake advertises


def is_challenge(p, v):
    return (p.flags & (P.SYN | P.RST | P.FIN | P.ACK)) == P.ACK and \
        p.seq == v["snd_nxt"] and p.ack == v["rcv_nxt"]


def one_challenge(ctx, pkt, what):
    v = ctx.victim()
    m = ctx.link.mark()
    ctx.link.send(pkt(v))
    ctx.link.wait(lambda p: p.tcp_to(ctx.kaddr, v["lport"]) and is_challenge(p, v), 1.0, m)
    ctx.link.pump(0.05)
    got = ctx.victim_replies(m)
    expect(not any(p.flags & P.RST for p in got), f"{what}: handshake sent a RST")
    expect(any(is_challenge(p, v) for p in got),
           f"{what}: no challenge ACK (seq {v['snd_nxt']} ack {v['rcv_nxt']}); got "
           f"{got[:2] or 'nothing'}")


def no_answer(ctx, pkt, what):
    v = ctx.victim()
    m = ctx.link.mark()
    ctx.link.send(pkt(v))
    ctx.silence(m, ctx.kaddr, what, dur=0.3, dport=v["lport"])


@case("rfc5961_rst_in_window", moves=("TCPChallengeACK",))
def _(ctx):
    one_challenge(ctx, lambda v: ctx.to_victim(P.RST, v["rcv_nxt"] + 1, 0),
                  "RST at RCV.NXT+1")


@case("rfc5961_rst_ack_in_window")
def _(ctx):
    one_challenge(ctx, lambda v: ctx.to_victim(P.RST | P.ACK, v["rcv_nxt"] + 1000,
                                               v["snd_nxt"]), "RST,ACK at RCV.NXT+1000")


@case("rfc5961_rst_outside_window")
def _(ctx):
    no_answer(ctx, lambda v: ctx.to_victim(P.RST, v["rcv_nxt"] + BIG, 0), "RST 1 GiB ahead")
    no_answer(ctx, lambda v: ctx.to_victim(P.RST | P.ACK, v["rcv_nxt"] - 1, v["snd_nxt"]),
              "RST just below RCV.NXT")


@case("rfc5961_syn_in_window", moves=("TCPSYNChallenge",))
def _(ctx):
    one_challenge(ctx, lambda v: ctx.to_victim(P.SYN, v["rcv_nxt"] + 1, 0,
                                               opts=P.mss_opt(1460)), "SYN at RCV.NXT+1")


@case("rfc5961_syn_at_rcv_nxt")
def _(ctx):
    one_challenge(ctx, lambda v: ctx.to_victim(P.SYN, v["rcv_nxt"], 0, opts=P.mss_opt(1460)),
                  "SYN at RCV.NXT")


@case("rfc5961_syn_outside_window")
def _(ctx):
    # §4.2: "irrespective of the sequence number" a challenge ACK.
    one_challenge(ctx, lambda v: ctx.to_victim(P.SYN, v["rcv_nxt"] + BIG, 0,
                                               opts=P.mss_opt(1460)), "SYN 1 GiB ahead")


def blind_data(ctx, ack_of, what):
    """Data at exactly RCV.NXT whose ACK field is unacceptable: it must be
    dropped, so the victim's next bytes are echoed, not the attacker's."""
    v = ctx.victim()
    evil = b"EVIL" * 16
    m = ctx.link.mark()
    ctx.link.send(ctx.to_victim(P.ACK | P.PSH, v["rcv_nxt"], ack_of(v), data=evil))
    got = ctx.link.collect(lambda p: True, 0.2, m)
    got = ctx.victim_replies(m)
    expect(not any(p.flags & P.RST for p in got), f"{what}: handshake sent a RST")
    expect(not any(p.data for p in got), f"{what}: handshake echoed the forged data")
    moved = [p for p in got if p.ack != v["rcv_nxt"]]
    if moved:
        raise Fail(f"{what}: handshake acknowledged the forged bytes ({moved[0]})")
    ctx.earlier.echo(b"genuine bytes " + os.urandom(48), what=f"{what}: victim's next echo")


@case("rfc5961_data_ack_of_unsent", moves=("DropBadAck",))
def _(ctx):
    blind_data(ctx, lambda v: v["snd_nxt"] + 0x10000, "data ACKing 64 KiB never sent")


@case("rfc5961_data_ack_too_old", moves=("DropBadAck",))
def _(ctx):
    blind_data(ctx, lambda v: v["snd_nxt"] - BIG, "data with an ACK 1 GiB old")


@case("rfc5961_data_without_ack")
def _(ctx):
    v = ctx.victim()
    m = ctx.link.mark()
    ctx.link.send(ctx.to_victim(P.PSH, v["rcv_nxt"], 0, data=b"NOACK" * 8))
    ctx.link.collect(lambda p: True, 0.2, m)
    expect(not any(p.data for p in ctx.victim_replies(m)), "data without ACK was echoed")
    ctx.earlier.echo(b"genuine " + os.urandom(40), what="victim's next echo")


@case("rfc7323_ts_recent_not_taken_from_dropped_segment", fault=6)
def _(ctx):
    # One blind segment with a huge TSval that is then dropped (it ACKs
    # unsent data) must not become TS.Recent: if it does, PAWS rejects
    # every genuine segment after it and the connection stalls.
    v = ctx.victim()
    expect(v["tsecr"] is not None, "the kernel connection has no timestamps")
    ts = P.ts_opt(v["tsecr"] + 0x70000000, 0)
    ctx.link.send(ctx.to_victim(P.ACK, v["rcv_nxt"], v["snd_nxt"] + 0x10000, opts=ts),
                  ctx.to_victim(P.ACK | P.PSH, v["rcv_nxt"], v["snd_nxt"] + 0x10000, opts=ts,
                                data=b"poison"))
    ctx.earlier.echo(b"still flowing " + os.urandom(48), timeout=3.0,
                     what="victim's echo after a forged TSval")


# ---- RFC 5961 §7 and Linux's per-connection out-of-window limit: a flood
# of unacceptable segments gets a handful of replies, not one each.
FLOOD, MAX_REPLIES = 100, 12


def reply_flood(ctx, make, what):
    v = ctx.victim()
    m = ctx.link.mark()
    ctx.link.send(*[make(v, i) for i in range(FLOOD)])
    ctx.link.collect(lambda p: True, 0.4, m)
    got = ctx.victim_replies(m)
    expect(not any(p.flags & P.RST for p in got), f"{what}: handshake sent a RST")
    expect(len(got) <= MAX_REPLIES,
           f"{what}: {len(got)} replies to {FLOOD} segments (at most {MAX_REPLIES})")


@case("ratelimit_rst_in_window")
def _(ctx):
    reply_flood(ctx, lambda v, i: ctx.to_victim(P.RST, v["rcv_nxt"] + 1 + i, 0),
                "in-window RSTs")


@case("ratelimit_syn_in_window")
def _(ctx):
    reply_flood(ctx, lambda v, i: ctx.to_victim(P.SYN, v["rcv_nxt"] + 1 + i, 0),
                "in-window SYNs")


@case("ratelimit_syn_outside_window", fault=5)
def _(ctx):
    reply_flood(ctx, lambda v, i: ctx.to_victim(P.SYN, v["rcv_nxt"] + BIG + i, 0),
                "out-of-window SYNs")


@case("ratelimit_ack_of_unsent", fault=5)
def _(ctx):
    reply_flood(ctx, lambda v, i: ctx.to_victim(P.ACK, v["rcv_nxt"], v["snd_nxt"] + 0x10000 + i),
                "ACKs of unsent data")


@case("ratelimit_ack_too_old", fault=5)
def _(ctx):
    reply_flood(ctx, lambda v, i: ctx.to_victim(P.ACK, v["rcv_nxt"], v["snd_nxt"] - BIG - i),
                "ACKs too old")


@case("ratelimit_ack_outside_window")
def _(ctx):
    reply_flood(ctx, lambda v, i: ctx.to_victim(P.ACK, v["rcv_nxt"] + BIG + i, v["snd_nxt"]),
                "out-of-window ACKs")


def request_flood(ctx, make, what):
    """A SYN-queue request (handshake answered our SYN; we never complete),
    then FLOOD segments at it."""
    src, sport, iss = ctx.new_src(), 40000, ctx.rng.randrange(1 << 32)
    m = ctx.link.mark()
    ctx.link.send(P.tcp_ip(src, ctx.haddr, sport, ctx.port, iss, 0, P.SYN,
                           opts=P.mss_opt(1460)))
    sa = ctx.link.wait(lambda p: p.tcp_to(src, sport) and p.flags & P.SYN, 0.5, m)
    expect(sa, "no SYN-ACK to start the request")
    irs = sa[0].seq
    m = ctx.link.mark()
    ctx.link.send(*[make(src, sport, iss, irs, i) for i in range(FLOOD)])
    got = ctx.link.collect(lambda p: p.tcp_to(src, sport), 0.4, m)
    ctx.link.send(P.tcp_ip(src, ctx.haddr, sport, ctx.port, iss + 1, 0, P.RST))
    expect(len(got) <= MAX_REPLIES,
           f"{what}: {len(got)} replies to {FLOOD} segments (at most {MAX_REPLIES})")


@case("ratelimit_request_ack_outside_window", fault=5)
def _(ctx):
    request_flood(ctx, lambda src, sp, iss, irs, i: P.tcp_ip(
        src, ctx.haddr, sp, ctx.port, iss + 1 + BIG + i, irs + 1, P.ACK), "a request's out-of-window ACKs")


@case("ratelimit_request_syn_repeated", fault=5)
def _(ctx):
    request_flood(ctx, lambda src, sp, iss, irs, i: P.tcp_ip(
        src, ctx.haddr, sp, ctx.port, iss, 0, P.SYN, opts=P.mss_opt(1460)),
        "a request's repeated SYNs")


# ---- blind ICMP errors about the victim (RFC 5927: check the quoted
# sequence number; RFC 1122/5461: soft errors never abort a connection)
def icmp_about_victim(ctx, v, typ, code, seq, rest=0, quote_len=28, src="198.18.0.254"):
    inner = P.tcp_ip(ctx.haddr, ctx.kaddr, ctx.port, v["lport"], seq, v["rcv_nxt"],
                     P.ACK | P.PSH, data=bytes(32))
    return P.icmp_ip(src, ctx.haddr, typ, code, rest, inner[:quote_len])


def biggest_echo_segment(ctx, n=8000):
    """Echoes n bytes on the victim; the largest packet handshake sent."""
    m = ctx.link.mark()
    ctx.earlier.echo(os.urandom(n), what="victim's bulk echo")
    ctx.link.pump(0.02)
    segs = [p for p in ctx.victim_replies(m) if p.data]
    expect(segs, "no data segments captured")
    for p in segs:
        bad = P.wellformed(p)
        expect(bad is None, f"malformed segment {p}: {bad}")
    return max(len(p.raw) for p in segs)


@case("icmp_port_unreachable_bogus_seq")
def _(ctx):
    v = ctx.victim()
    ctx.link.send(icmp_about_victim(ctx, v, 3, 3, v["snd_nxt"] + BIG),
                  icmp_about_victim(ctx, v, 3, 2, v["snd_nxt"] + BIG),
                  icmp_about_victim(ctx, v, 3, 1, v["snd_nxt"] - BIG))


@case("icmp_unreachable_in_window_soft")
def _(ctx):
    # A correct sequence number, but for an established connection every
    # unreachable is soft (RFC 5461; Linux keeps the connection).
    v = ctx.victim()
    ctx.link.send(*[icmp_about_victim(ctx, v, 3, code, v["snd_nxt"]) for code in (0, 1, 2, 3)])
    ctx.link.send(icmp_about_victim(ctx, v, 11, 0, v["snd_nxt"]))


@case("icmp_frag_needed_bogus_seq")
def _(ctx):
    v = ctx.victim()
    ctx.link.send(icmp_about_victim(ctx, v, 3, 4, v["snd_nxt"] + BIG, rest=68),
                  icmp_about_victim(ctx, v, 3, 4, v["snd_nxt"] - BIG, rest=576))
    big = biggest_echo_segment(ctx)
    expect(big == 1500, f"after forged frag-needed: largest segment {big} bytes, not 1500")


@case("icmp_frag_needed_floor", fault=4)
def _(ctx):
    # With a quoted sequence number that checks out, an MTU of 68 must
    # not shrink segments below Linux's floor (min_pmtu 552).
    v = ctx.victim()
    ctx.link.send(icmp_about_victim(ctx, v, 3, 4, v["snd_nxt"], rest=68))
    big = biggest_echo_segment(ctx)
    expect(552 <= big <= 1500, f"after frag-needed MTU 68: largest segment {big} bytes "
           "(floor 552)")


@case("icmp_malformed_quotes")
def _(ctx):
    v = ctx.victim()
    ctx.link.send(icmp_about_victim(ctx, v, 3, 3, v["snd_nxt"], quote_len=20),
                  icmp_about_victim(ctx, v, 3, 4, v["snd_nxt"], rest=0, quote_len=24),
                  icmp_about_victim(ctx, v, 3, 3, v["snd_nxt"], quote_len=4))
    inner = bytearray(P.tcp_ip(ctx.haddr, ctx.kaddr, ctx.port, v["lport"], v["snd_nxt"], 0, P.ACK))
    for ihl in (0, 4, 15):
        inner[0] = 0x40 | ihl
        ctx.link.send(P.icmp_ip("198.18.0.254", ctx.haddr, 3, 3, 0, bytes(inner[:28])))
    ctx.link.send(P.icmp_ip("198.18.0.254", ctx.haddr, 3, 3, 0, b""),
                  P.icmp_ip("198.18.0.254", ctx.haddr, 5, 1, 0x01020304, bytes(inner[:28])))
