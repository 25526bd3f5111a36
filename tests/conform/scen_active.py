"""Scenarios of an active open: the system connects to the peer (Linux: a
socket's connect(); handshake: `handshake connect`), and the peer answers
its SYN in unusual ways (SYN_SENT, RFC 9293 §3.10.7.3); then the states
after it with the system as the client: ESTABLISHED (the client reads and
closes after the server's FIN: CLOSE_WAIT, LAST_ACK) and, the client
shutting its sending side at once (connect-shut), FIN_WAIT_1, FIN_WAIT_2,
CLOSING, TIME_WAIT."""
import pkt as P
from duo import scenario, syn_opts, TS_BASE

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


# ---- an active open's later states: the system is the client, the peer
# the server; its application reads and drops and closes after the peer's
# FIN (connect without --send; on Linux a socket read the same way).

def _client_established(d):
    """The system's SYN, the peer's SYN-ACK, the system's ACK."""
    d.open_active()
    d.seg("SYN,ACK", S | A, 0, 1, opts=_synack_opts)


@scenario("act_est_data", app="connect")
def _(d):
    """The server's 10 bytes to the client: ACK 11, twice (quick ACKs at
    a connection's start)."""
    _client_established(d)
    d.seg("data", A | PSH, 1, 1, D10)
    d.seg("data 11", A | PSH, 11, 1, D10)


@scenario("act_est_out_of_order", app="connect")
def _(d):
    """Data beyond a hole at the client: a duplicate ACK with a SACK block
    (RFC 2018); the hole filled: ACK 111."""
    _client_established(d)
    d.seg("data 101", A | PSH, 101, 1, D10)
    d.seg("hole", A | PSH, 1, 1, bytes(100))


@scenario("act_est_fin", app="connect")
def _(d):
    """The server's data and FIN: the client ACKs both (12) and closes:
    its FIN (CLOSE_WAIT, LAST_ACK); the server's ACK of it ends the
    connection, nothing answered."""
    _client_established(d)
    d.seg("data+FIN", A | PSH | F, 1, 1, D10, until=F)
    d.seg("ACK of FIN", A, 12, 2)


@scenario("act_est_rst", app="connect")
def _(d):
    """A RST at RCV.NXT to the client: the connection is reset, nothing
    answered (RFC 5961 §3.2)."""
    _client_established(d)
    d.seg("RST", R, 1, 0)


@scenario("act_est_rst_in_window", app="connect")
def _(d):
    """A RST in the client's window, not at RCV.NXT: a challenge ACK; the
    connection lives: data then is acknowledged."""
    _client_established(d)
    d.seg("RST +1000", R, 1001, 0)
    d.seg("data", A | PSH, 1, 1, D10)


@scenario("act_est_syn", app="connect")
def _(d):
    """A SYN at RCV.NXT to the established client: a challenge ACK (RFC
    5961 §4)."""
    _client_established(d)
    d.seg("SYN", S, 1, 0, opts=syn_opts(tsval=TS_BASE + 1000))


@scenario("act_est_paws", app="connect")
def _(d):
    """Data with a TSval 1000 older than the last at the client: PAWS, a
    duplicate ACK (RFC 7323 §5.3)."""
    _client_established(d)
    d.seg("data", A | PSH, 1, 1, D10)
    d.seg("data TS-1000", A | PSH, 11, 1, D10, ts=-1000)


@scenario("act_est_ack_unsent", app="connect")
def _(d):
    """Data acknowledging 1000 bytes the client never sent: an ACK, the
    segment dropped (RFC 9293 §3.10.7.4; RFC 5961 §5.2)."""
    _client_established(d)
    d.seg("data ack+1000", A | PSH, 1, 1001, D10)


# ---- the client done with its request: connect-shut shuts its sending
# side as soon as it is connected (its FIN first), and reads on.

def _client_fin_first(d):
    d.open_active()
    d.seg("SYN,ACK", S | A, 0, 1, opts=_synack_opts, until=F)


@scenario("act_fin_first_half_close", app="connect-shut")
def _(d):
    """The client's FIN right after the handshake; the server ACKs it
    (FIN_WAIT_2) and sends data: taken, the client still reads (RFC 9293
    §3.10.7.4: FIN_WAIT_2 processes text); the server's FIN: ACKed
    (TIME_WAIT). (Not the FIN again: connect exits once in TIME_WAIT,
    its device with it; the server side's TIME_WAIT is scen_close's.)"""
    _client_fin_first(d)
    d.seg("ACK of FIN", A, 1, 2)
    d.seg("data", A | PSH, 1, 2, D10)
    d.seg("FIN", A | F, 11, 2)


@scenario("act_fin_wait_1_data", app="connect-shut")
def _(d):
    """Data to the client in FIN_WAIT_1 (its FIN not yet acknowledged):
    taken, ACK 11 (the client shut its sending side only)."""
    _client_fin_first(d)
    d.seg("data", A | PSH, 1, 1, D10)


@scenario("act_fin_wait_1_crossing", app="connect-shut")
def _(d):
    """The server's FIN crossing the client's (not acknowledging it):
    CLOSING, an ACK; then the ACK of the client's FIN: TIME_WAIT, no
    reply."""
    _client_fin_first(d)
    d.seg("FIN", A | F, 1, 1, wait=0.06)
    d.seg("ACK of FIN", A, 2, 2)


@scenario("act_fin_wait_2_rst", app="connect-shut")
def _(d):
    """A RST in the client's window in FIN_WAIT_2, not at RCV.NXT: a
    challenge ACK (RFC 5961 §3.2 in every synchronized state)."""
    _client_fin_first(d)
    d.seg("ACK of FIN", A, 1, 2)
    d.seg("RST +1000", R, 1001, 0)


@scenario("act_fin_first_zero_window", app="connect-shut")
def _(d):
    """The server's SYN-ACK offers window 0; the client shuts its sending
    side at once: its FIN waits for room (as data would: the FIN's
    sequence number is outside the window offered); the window opens: the
    FIN goes."""
    d.open_active()
    d.seg("SYN,ACK win=0", S | A, 0, 1, opts=_synack_opts, win=0, wait=0.06)
    d.seg("window update", A, 1, 1, until=F)
