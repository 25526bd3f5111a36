"""Scenarios of the close: LAST_ACK (the peer's FIN first, the discard
application then closes), FIN_WAIT_1, FIN_WAIT_2, CLOSING and TIME_WAIT
(the "close" application closes at once after the accept: the system's
FIN first)."""
import pkt as P
from duo import scenario, syn_opts, TS_BASE

A, S, F, R, PSH = P.ACK, P.SYN, P.FIN, P.RST, P.PSH
D10 = b"0123456789"


def _last_ack(d):
    """Peer's FIN at 1, the system's ACK and FIN: LAST_ACK."""
    d.establish()
    d.seg("FIN", A | F, 1, 1, until=F)


@scenario("lastack_fin_again")
def _(d):
    """In LAST_ACK the peer's FIN again (our ACK of theirs was "lost"):
    an ACK of it; then the final ACK: CLOSED; then a segment: RST."""
    _last_ack(d)
    d.seg("FIN again", A | F, 1, 1)
    d.seg("ACK of FIN", A, 2, 2)
    d.seg("data after", A | PSH, 2, 2, D10)


@scenario("lastack_data")
def _(d):
    """Data in LAST_ACK, after the peer's FIN: nothing new is accepted
    (RFC 9293 §3.10.7.4, seventh: ignore the segment text); an ACK."""
    _last_ack(d)
    d.seg("data after FIN", A | PSH, 2, 1, D10)


def _fin_first(d):
    """The close app: the system's FIN right after the handshake."""
    d.syn()
    d.seg("ACK", A, 1, 1, until=F)


@scenario("finwait1_data", app="close")
def _(d):
    """Data to a system in FIN_WAIT_1 whose application has closed (not
    acknowledging its FIN): RST (RFC 9293 §3.10.7.4 seventh says "ignore",
    but the application is gone: RFC 1122 §4.2.2.13 and Linux reset)."""
    _fin_first(d)
    d.seg("data", A | PSH, 1, 1, D10)


@scenario("finwait1_simultaneous_close", app="close")
def _(d):
    """The peer's FIN without acknowledging the system's: CLOSING, an
    ACK; then the ACK of the system's FIN: TIME_WAIT, no reply."""
    _fin_first(d)
    d.seg("FIN", A | F, 1, 1, wait=0.06)
    d.seg("ACK of FIN", A, 2, 2)


@scenario("finwait2_fin_then_timewait", app="close")
def _(d):
    """FIN_WAIT_2 (the peer ACKed the system's FIN), then the peer's FIN:
    an ACK (TIME_WAIT); the FIN again: ACKed again (RFC 9293 §3.10.7.4);
    a RST in TIME_WAIT: no reply."""
    _fin_first(d)
    d.seg("ACK of FIN", A, 1, 2)
    d.seg("FIN", A | F, 1, 2)
    d.seg("FIN again", A | F, 1, 2)
    d.seg("RST", R, 2, 0)


@scenario("finwait2_data", app="close")
def _(d):
    """Data in FIN_WAIT_2 after the application closed: RST."""
    _fin_first(d)
    d.seg("ACK of FIN", A, 1, 2)
    d.seg("data", A | PSH, 1, 2, D10)


def _time_wait(d):
    _fin_first(d)
    d.seg("ACK of FIN", A, 1, 2)
    d.seg("FIN", A | F, 1, 2)


@scenario("timewait_syn_higher", app="close")
def _(d):
    """In TIME_WAIT, a SYN above RCV.NXT with a newer timestamp: a new
    connection (RFC 6191; Linux reuses TIME_WAIT so)."""
    _time_wait(d)
    d.syn("SYN isn+100000", seq=100000, opts=syn_opts(tsval=TS_BASE + 1000))


@scenario("timewait_syn_old", app="close")
def _(d):
    """In TIME_WAIT, the first ISN again (below RCV.NXT) with a newer
    TSval: a new connection all the same (RFC 6191 §2)."""
    _time_wait(d)
    d.syn("SYN isn", seq=0, opts=syn_opts(tsval=TS_BASE + 1000), wait=0.3)


@scenario("timewait_syn_old_no_ts", app="close")
def _(d):
    """In TIME_WAIT, the first ISN again without timestamps: an old
    duplicate: an ACK (RFC 1122 4.2.2.13; RFC 5961 §4)."""
    _time_wait(d)
    d.syn("SYN isn no TS", seq=0, opts=syn_opts(ts=False), wait=0.3)


@scenario("timewait_data", app="close")
def _(d):
    """In TIME_WAIT, data at RCV.NXT: an ACK (nothing can be taken)."""
    _time_wait(d)
    d.seg("data", A | PSH, 2, 2, D10)


@scenario("timewait_syn_higher_old_ts", app="close")
def _(d):
    """In TIME_WAIT, a SYN above RCV.NXT with an older TSval: RFC 6191 §2
    and Linux (paws_reject) refuse it; handshake takes it (RFC 1122
    4.2.2.13's rule), see known.py."""
    _time_wait(d)
    d.syn("SYN isn+100000 old TS", seq=100000, opts=syn_opts(tsval=TS_BASE - 1000), wait=0.3)


@scenario("timewait_syn_higher_no_ts", app="close")
def _(d):
    """In TIME_WAIT, a SYN above RCV.NXT without timestamps: a new
    connection (RFC 1122 4.2.2.13)."""
    _time_wait(d)
    d.syn("SYN isn+100000 no TS", seq=100000, opts=syn_opts(ts=False))


@scenario("closing_fin_again", app="close")
def _(d):
    """CLOSING (the FINs crossed), then the peer's FIN again: an ACK."""
    _fin_first(d)
    # short windows: the system's FIN stays unacknowledged, and its
    # retransmission (RTO 200 ms and more) must not fall into a step
    d.seg("FIN", A | F, 1, 1, wait=0.06)
    d.seg("FIN again", A | F, 1, 1, wait=0.06)
