"""Scenarios of an active open: the system connects to the peer (Linux: a
socket's connect(); handshake: `handshake connect`), and the peer answers
its SYN in unusual ways (SYN_SENT, RFC 9293 §3.10.7.3)."""
import pkt as P
from duo import scenario, syn_opts

A, S, F, R, PSH = P.ACK, P.SYN, P.FIN, P.RST, P.PSH
D10 = b"0123456789"


def _synack_opts(c):
    """The peer's SYN-ACK options: Linux's layout, echoing the SYN's TSval."""
    return syn_opts(tsecr=c.ts_recent)


@scenario("act_synack", app="connect")
def _(d):
    """The system's SYN (MSS, SACK-permitted, timestamps, window scale on
    both), a good SYN-ACK: the ACK, ESTABLISHED."""
    d.open_active()
    d.seg("SYN,ACK", S | A, 0, 1, opts=_synack_opts)


@scenario("act_synack_bad_ack", app="connect")
def _(d):
    """A SYN-ACK acknowledging 1000 bytes past the SYN: RST <SEQ=SEG.ACK>
    (RFC 9293 §3.10.7.3, first: an unacceptable ACK)."""
    d.open_active()
    d.seg("SYN,ACK ack=1000", S | A, 0, 1000, opts=_synack_opts)


@scenario("act_synack_ack_of_isn", app="connect")
def _(d):
    """A SYN-ACK acknowledging the ISN itself (not the SYN): RST."""
    d.open_active()
    d.seg("SYN,ACK ack=0", S | A, 0, 0, opts=_synack_opts)


@scenario("act_rst_bad_ack", app="connect")
def _(d):
    """RST,ACK with an unacceptable ACK: dropped (the connection stays);
    then a good SYN-ACK: the ACK."""
    d.open_active()
    d.seg("RST,ACK ack=1000", R | A, 0, 1000)
    d.seg("SYN,ACK", S | A, 0, 1, opts=_synack_opts)


@scenario("act_rst_without_ack", app="connect")
def _(d):
    """A RST without ACK in SYN_SENT: dropped (§3.10.7.3, second: only
    with an acceptable ACK does it reset); then a good SYN-ACK: the ACK."""
    d.open_active()
    d.seg("RST", R, 0, 0)
    d.seg("SYN,ACK", S | A, 0, 1, opts=_synack_opts)


@scenario("act_rst_ack_refused", app="connect")
def _(d):
    """RST,ACK acknowledging the SYN: refused, nothing answered."""
    d.open_active()
    d.seg("RST,ACK", R | A, 0, 1)


@scenario("act_bare_ack", app="connect")
def _(d):
    """An ACK of the SYN without SYN: dropped (§3.10.7.3, fifth); then a
    good SYN-ACK: the ACK."""
    d.open_active()
    d.seg("ACK", A, 1, 1)
    d.seg("SYN,ACK", S | A, 0, 1, opts=_synack_opts)


@scenario("act_simultaneous_open", app="connect")
def _(d):
    """A SYN without ACK (the SYNs crossed): SYN_RECEIVED, the system's
    SYN again with an ACK; then the peer's SYN-ACK: ESTABLISHED (RFC 9293
    figure 8); then data is taken."""
    d.open_active()
    d.seg("SYN", S, 0, 0, opts=_synack_opts)
    d.seg("SYN,ACK", S | A, 0, 1, opts=_synack_opts)
    d.seg("data", A | PSH, 1, 1, D10)


@scenario("act_synack_with_data", app="connect")
def _(d):
    """A SYN-ACK carrying 10 bytes: taken (ACK 11)."""
    d.open_active()
    d.seg("SYN,ACK+data", S | A | PSH, 0, 1, D10, opts=_synack_opts)


@scenario("act_synack_no_options", app="connect")
def _(d):
    """A SYN-ACK without options: the ACK carries no timestamp."""
    d.open_active()
    d.seg("SYN,ACK", S | A, 0, 1, opts=b"")


@scenario("act_synack_ts_echo_from_future", app="connect")
def _(d):
    """A SYN-ACK whose TSecr is a TSval the system has not sent yet
    (100,000 ahead): the answer to another incarnation's SYN: RST
    (Linux's PAWSActive)."""
    d.open_active()
    d.seg("SYN,ACK TSecr+100000", S | A, 0, 1,
          opts=lambda c: syn_opts(tsecr=c.ts_recent + 100000))


@scenario("act_synack_fin", app="connect")
def _(d):
    """A SYN-ACK with FIN: the handshake and the FIN taken: ACK 2."""
    d.open_active()
    d.seg("SYN,ACK,FIN", S | A | F, 0, 1, opts=_synack_opts)
