"""Scenarios of the receive window: an application that accepts and never
reads (the "hold" port, a small SO_RCVBUF on both), its window filled to
zero, then what arrives into the closed window (RFC 9293 §3.8.6,
§3.10.7.4; RFC 5961). The two windows differ by design: `Duo.fill` fills
each to its own zero from what it advertised, and the numbers after it
are relative to each one's RCV.NXT."""
import pkt as P
from duo import opt_sack, opt_ts, scenario, syn_opts, TS_BASE

A, S, F, R, PSH = P.ACK, P.SYN, P.FIN, P.RST, P.PSH
D100 = bytes(100)


@scenario("win_fill_to_zero", app="hold")
def _(d):
    """Data up to the advertised window, round after round: the window
    closes (win=0) and every byte in it is acknowledged."""
    d.establish()
    d.fill()


@scenario("win_zero_probe_one_byte", app="hold")
def _(d):
    """A zero-window probe, 1 byte at RCV.NXT: not taken (RCV.WND is 0,
    RFC 9293 §3.10.7.4: not acceptable), answered at once with an ACK of
    RCV.NXT and the window still 0 (RFC 9293 §3.8.6.1)."""
    d.establish()
    d.fill()
    d.seg("probe 1 byte", A | PSH, 1, 1, b"x")
    d.seg("probe again", A | PSH, 1, 1, b"x")


@scenario("win_zero_probe_empty", app="hold")
def _(d):
    """A zero-window probe without data at RCV.NXT-1 (Linux's own probe's
    shape): an ACK of RCV.NXT, window 0."""
    d.establish()
    d.fill()
    d.seg("probe seq-1", A, 0, 1)
    d.seg("probe seq-1 again", A, 0, 1)     # (an empty one: rate limited)


@scenario("win_zero_data_beyond", app="hold")
def _(d):
    """100 bytes 1000 beyond a closed window: dropped, an ACK of RCV.NXT
    (no SACK block: nothing was held); a FIN there: the same."""
    d.establish()
    d.fill()
    d.seg("data +1000", A | PSH, 1001, 1, D100)
    d.seg("FIN +1000", A | F, 1001, 1)


@scenario("win_zero_old_data", app="hold")
def _(d):
    """10 bytes ending at RCV.NXT (the fill's last again) into a closed
    window: wholly old: an ACK with a D-SACK block (RFC 2883), window 0;
    and a keepalive's garbage byte at RCV.NXT-1: the same."""
    d.establish()
    d.fill()
    d.seg("old 10 bytes", A | PSH, -9, 1, bytes(10))
    d.seg("keepalive+1", A, 0, 1, b"x")


@scenario("win_zero_data_without_ack", app="hold")
def _(d):
    """A byte without ACK at RCV.NXT into a closed window: dropped
    silently (RFC 9293 §3.10.7.4, fifth: no ACK bit)."""
    d.establish()
    d.fill()
    d.seg("data no ACK", PSH, 1, 0, b"x")


@scenario("win_data_partly_in_window", app="hold")
def _(d):
    """The window filled but for 600 bytes, then a segment 100 bytes
    longer than what is left: the part in the window taken (ACK at the
    window's end, the window 0), the rest dropped (RFC 9293 §3.10.7.4:
    trimmed to the window)."""
    d.establish()
    d.fill("fill but 600", seg=600, leave=True)
    d.seg("data window+100", A | PSH, 1, 1, lambda c: bytes(c.wnd + 100))


@scenario("win_zero_fin", app="hold")
def _(d):
    """A bare FIN at RCV.NXT into a closed window."""
    d.establish()
    d.fill()
    d.seg("FIN", A | F, 1, 1)
    d.seg("FIN again", A | F, 1, 1)


@scenario("win_zero_rst_at_rcv_nxt", app="hold")
def _(d):
    """A RST at RCV.NXT while the window is 0: it resets (RFC 9293
    §3.10.7.4: RSTs get a special allowance; RFC 5961 §3.2: exactly
    RCV.NXT); then data meets no connection: RST."""
    d.establish()
    d.fill()
    d.seg("RST", R, 1, 0)
    d.seg("data after", A | PSH, 1, 1, D100)


@scenario("win_zero_rst_beyond", app="hold")
def _(d):
    """A RST 1 and 1000 beyond RCV.NXT into a closed window: outside it,
    no reply (RFC 5961 §3.2); the connection lives (a probe: ACK)."""
    d.establish()
    d.fill()
    d.seg("RST +1", R, 2, 0)
    d.seg("RST +1000", R, 1001, 0)
    d.seg("probe", A | PSH, 1, 1, b"x")


@scenario("win_zero_syn", app="hold")
def _(d):
    """A SYN at RCV.NXT while the window is 0: a challenge ACK (RFC 5961
    §4), window 0."""
    d.establish()
    d.fill()
    d.seg("SYN", S, 1, 0, opts=syn_opts(tsval=TS_BASE + 1000))


@scenario("win_wscale_14_peer", app="hold")
def _(d):
    """A peer with window scale 14 (RFC 7323 §2.3's largest): the fill
    and a probe as with any other."""
    d.establish(opts=syn_opts(ws=14))
    d.fill()
    d.seg("probe 1 byte", A | PSH, 1, 1, b"x")


@scenario("win_peer_zero_window_fin", app="close")
def _(d):
    """The peer's own window 0 on the handshake's ACK, and the system's
    application closes at once: its FIN does not fit a zero window (RFC
    9293 §3.8.6.1: it waits, probing); the window opens: the FIN goes."""
    d.syn()
    d.seg("ACK win=0", A, 1, 1, win=0, wait=0.06)    # (before either probes)
    d.seg("window update", A, 1, 1, until=F)


@scenario("win_peer_wscale_14_fin", app="close")
def _(d):
    """A peer with window scale 14 whose ACK says window 1 (16384 bytes
    scaled): the system's FIN goes at once."""
    d.syn(opts=syn_opts(ws=14))
    d.seg("ACK win=1", A, 1, 1, win=1, until=F)


@scenario("win_peer_zero_syn_window_fin", app="close")
def _(d):
    """The peer's SYN and its ACK offer window 0, and the system's
    application closes at once: the FIN waits; the window opens: the
    FIN."""
    d.syn(opts=syn_opts(), win=0)
    d.seg("ACK win=0", A, 1, 1, win=0, wait=0.06)    # (before either probes)
    d.seg("window update", A, 1, 1, until=F)


# ---- the system sending: the send port's 4000 bytes and FIN against the
# peer's window. (Not a window smaller than a segment: Linux then sends
# segments of half the largest window the peer offered, tcp_bound_to_half_wnd,
# and both resend by their loss probes within a step: docs/conformance.md.)

@scenario("snd_peer_window_opens", app="send")
def _(d):
    """The peer's ACK offers window 0: nothing goes (no probe so soon);
    its window update of 65535: the 4000 bytes and the FIN."""
    d.syn()
    d.seg("ACK win=0", A, 1, 1, win=0, wait=0.06)
    d.seg("window update", A, 1, 1, until=F, wait=0.1)


@scenario("snd_all_acked", app="send")
def _(d):
    """The peer acknowledges the 4000 bytes and the FIN at once: nothing
    more (FIN_WAIT_2); its FIN: an ACK (TIME_WAIT)."""
    d.syn()
    d.seg("ACK", A, 1, 1, until=F, wait=0.05)
    d.seg("ACK of all", A, 1, 4002, wait=0.03)
    d.seg("FIN", A | F, 1, 4002)


@scenario("snd_sack_first_lost", app="send")
def _(d):
    """The peer acknowledges nothing new but SACKs everything after the
    first segment, FIN included: the first is lost (RFC 6675; RACK,
    RFC 8985): resent at once, alone; its ACK then: nothing more."""
    d.syn()
    d.seg("ACK", A, 1, 1, until=F, wait=0.05)
    d.seg("SACK 2nd..FIN", A, 1, 1, wait=0.03,
          opts=lambda c: opt_ts(TS_BASE + c.ts_n + 1, c.ts_recent) +
          opt_sack([(c.first_seg_end(), c.irs + 4002)]))
    d.seg("ACK of all", A, 1, 4002, wait=0.03)
