"""Scenarios in ESTABLISHED: the acceptability test (RFC 9293 §3.10.7.4),
RFC 5961's RST, SYN and ACK rules, timestamps (RFC 7323), SACK (RFC 2018,
RFC 2883), urgent data, FINs. The system's application reads and drops
(serve --discard), so the system sends no data: its SND.NXT stays 1."""
import pkt as P
from duo import opt_sack, opt_ts, scenario, syn_opts, TS_BASE

A, S, F, R, U, PSH = P.ACK, P.SYN, P.FIN, P.RST, P.URG, P.PSH
D10 = b"0123456789"
FAR = 100 << 20         # beyond any receive window of both systems


@scenario("est_data_in_window")
def _(d):
    """10 bytes at RCV.NXT: ACK 11 (the first segments of a connection are
    acknowledged at once by both: Linux's quick ACK mode)."""
    d.establish()
    d.seg("data", A | PSH, 1, 1, D10)


@scenario("est_data_left_of_window")
def _(d):
    """The same 10 bytes twice: the copy is wholly old: an ACK at once
    with a D-SACK block for it (RFC 2883 §4.1.1)."""
    d.establish()
    d.seg("data", A | PSH, 1, 1, D10)
    d.seg("data again", A | PSH, 1, 1, D10)


@scenario("est_data_overlapping_rcv_nxt")
def _(d):
    """Bytes 6..16 after 1..11: the new part taken (ACK 16), the old part
    reported as D-SACK 6-11 (RFC 2883 §4.1.3... partial duplicate)."""
    d.establish()
    d.seg("data", A | PSH, 1, 1, D10)
    d.seg("overlap", A | PSH, 6, 1, D10)


@scenario("est_data_right_of_window")
def _(d):
    """10 bytes 100 MiB ahead: unacceptable: an ACK (RFC 9293 §3.10.7.4)."""
    d.establish()
    d.seg("data far", A | PSH, FAR, 1, D10)


@scenario("est_ack_at_rcv_nxt")
def _(d):
    """An empty ACK at RCV.NXT acknowledging nothing new: no reply."""
    d.establish()
    d.seg("ACK", A, 1, 1)


@scenario("est_ack_left_of_window")
def _(d):
    """An empty ACK at RCV.NXT-1 (a keepalive's shape): unacceptable, an
    ACK (RFC 9293 §3.10.7.4; RFC 1122 §4.2.3.6)."""
    d.establish()
    d.seg("ACK seq-1", A, 0, 1)


@scenario("est_ack_in_window")
def _(d):
    """An empty ACK 1000 above RCV.NXT, inside the window: acceptable, and
    empty: no reply."""
    d.establish()
    d.seg("ACK seq+1000", A, 1001, 1)


@scenario("est_ack_right_of_window")
def _(d):
    """An empty ACK 100 MiB ahead: unacceptable: an ACK."""
    d.establish()
    d.seg("ACK far", A, FAR, 1)


@scenario("est_rst_at_rcv_nxt")
def _(d):
    """RST at exactly RCV.NXT: the connection is reset, no reply (RFC 5961
    §3.2); the next segment meets no connection: RST."""
    d.establish()
    d.seg("RST", R, 1, 0)
    d.seg("data after", A | PSH, 1, 1, D10)


@scenario("est_rst_in_window")
def _(d):
    """RST inside the window, not at RCV.NXT: a challenge ACK (RFC 5961
    §3.2); the connection lives."""
    d.establish()
    d.seg("RST +1000", R, 1001, 0)
    d.seg("data after", A | PSH, 1, 1, D10)


@scenario("est_rst_ack_in_window")
def _(d):
    """RST,ACK inside the window: a challenge ACK too."""
    d.establish()
    d.seg("RST,ACK +1", R | A, 2, 1)


@scenario("est_rst_out_of_window")
def _(d):
    """RST 100 MiB ahead, and one below RCV.NXT: no reply (RFC 5961 §3.2)."""
    d.establish()
    d.seg("RST far", R, FAR, 0)
    d.seg("RST seq-1", R, 0, 0)
    d.seg("data after", A | PSH, 1, 1, D10)


@scenario("est_syn")
def _(d):
    """A SYN in ESTABLISHED, at RCV.NXT: a challenge ACK (RFC 5961 §4)."""
    d.establish()
    d.seg("SYN", S, 1, 0, opts=syn_opts(tsval=TS_BASE + 1000))


@scenario("est_syn_old_seq")
def _(d):
    """The original SYN again (its ISN) in ESTABLISHED: an ACK."""
    d.establish()
    d.seg("SYN again", S, 0, 0, opts=syn_opts(tsval=TS_BASE + 1000))


@scenario("est_ack_above_snd_nxt")
def _(d):
    """Data acknowledging 1000 bytes never sent: "send an ACK, drop the
    segment" (RFC 9293 §3.10.7.4; RFC 5961 §5.2)."""
    d.establish()
    d.seg("data ack+1000", A | PSH, 1, 1001, D10)
    d.seg("data", A | PSH, 1, 1, D10)


@scenario("est_ack_below_snd_una")
def _(d):
    """Data acknowledging the ISN itself (one below SND.UNA, within the
    window): the ACK is a duplicate, the data is taken (RFC 5961 §5.2)."""
    d.establish()
    d.seg("data ack-1", A | PSH, 1, 0, D10)


@scenario("est_ack_far_below_snd_una")
def _(d):
    """Data acknowledging 1 GiB below SND.UNA: a challenge ACK, the
    segment dropped (RFC 5961 §5.2)."""
    d.establish()
    d.seg("data ack-1GiB", A | PSH, 1, -(1 << 30), D10)


@scenario("est_paws_old_timestamp")
def _(d):
    """Data with a TSval 1000 below the last: PAWS: dropped, an ACK
    (RFC 7323 §5.3)."""
    d.establish()
    d.seg("data", A | PSH, 1, 1, D10)
    d.seg("data TS-1000", A | PSH, 11, 1, D10, ts=-1000)


@scenario("est_no_timestamp_after_agreed")
def _(d):
    """Data without a timestamp after both agreed on them (RFC 7323 §3.2:
    "SHOULD silently drop"; Linux takes it)."""
    d.establish()
    d.seg("data no TS", A | PSH, 1, 1, D10, ts=False)


@scenario("est_rst_without_timestamp")
def _(d):
    """A RST at RCV.NXT without a timestamp after both agreed: accepted
    (RFC 7323 §3.2: a RST need not carry one); nothing then."""
    d.establish()
    d.seg("RST no TS", R, 1, 0, ts=False)
    d.seg("data after", A | PSH, 1, 1, D10)


@scenario("est_out_of_order_sack")
def _(d):
    """Data beyond a hole, twice, then the hole filled: each ACKed at once
    with the SACK blocks, the latest first (RFC 2018 §4)."""
    d.establish()
    d.seg("data 101", A | PSH, 101, 1, D10)
    d.seg("data 201", A | PSH, 201, 1, D10)
    d.seg("hole", A | PSH, 1, 1, bytes(100))


@scenario("est_dsack_of_out_of_order")
def _(d):
    """Out-of-order data sent twice: the second copy reported as D-SACK,
    first block, then the SACK of what is held (RFC 2883 §4.2)."""
    d.establish()
    d.seg("data 101", A | PSH, 101, 1, D10)
    d.seg("data 101 again", A | PSH, 101, 1, D10)


@scenario("est_ooo_without_sack")
def _(d):
    """Out-of-order data when SACK was not agreed: a duplicate ACK, no
    SACK option."""
    d.establish(opts=syn_opts(sack=False))
    d.seg("data 101", A | PSH, 101, 1, D10)


@scenario("est_urg_pointer_end")
def _(d):
    """URG with the pointer at the end of the data, then at 0 and past
    the data: the data is taken each time (RFC 6093: inline)."""
    d.establish()
    d.seg("URG ptr=10", A | U | PSH, 1, 1, D10, urp=10)
    d.seg("URG ptr=0", A | U | PSH, 11, 1, D10, urp=0)
    d.seg("URG ptr=1000", A | U | PSH, 21, 1, D10, urp=1000)


@scenario("est_urg_without_data")
def _(d):
    """URG on an empty ACK: nothing to answer."""
    d.establish()
    d.seg("URG empty", A | U, 1, 1, urp=5)


@scenario("est_fin_with_data")
def _(d):
    """Data with a FIN: both taken (ACK 12); the application closes:
    the system's FIN (CLOSE_WAIT -> LAST_ACK)."""
    d.establish()
    d.seg("data+FIN", A | PSH | F, 1, 1, D10, until=F)


@scenario("est_fin_out_of_order")
def _(d):
    """A FIN beyond a hole: held (an ACK at once, the FIN SACKed: Linux
    sends a block for it); the hole filled: data and FIN taken."""
    d.establish()
    d.seg("FIN at 11", A | F, 11, 1)
    d.seg("data 1..11", A | PSH, 1, 1, D10, until=F)


@scenario("est_sack_option_in", app="discard")
def _(d):
    """A SACK option on a segment from the peer (the system sent nothing:
    the blocks lie): no reply, data taken."""
    d.establish()
    d.seg("data +SACK", A | PSH, 1, 1, D10,
          opts=lambda c: opt_ts(TS_BASE + 1, c.ts_recent) + opt_sack([(c.irs + 1, c.irs + 5)]))


@scenario("est_data_without_ack")
def _(d):
    """Data without the ACK bit in ESTABLISHED: dropped silently (RFC 9293
    §3.10.7.4, fifth); the same bytes with ACK then taken."""
    d.establish()
    d.seg("data no ACK", PSH, 1, 0, D10)
    d.seg("data", A | PSH, 1, 1, D10)


@scenario("est_synack_at_rcv_nxt")
def _(d):
    """A SYN,ACK at RCV.NXT in ESTABLISHED: a challenge ACK (RFC 5961 §4)."""
    d.establish()
    d.seg("SYN,ACK", S | A, 1, 1, opts=syn_opts(tsval=TS_BASE + 1000))


@scenario("est_keepalive_with_byte")
def _(d):
    """A keepalive with one garbage byte (SEG.SEQ = RCV.NXT-1, 1 byte):
    wholly old: an ACK, the byte a D-SACK (RFC 2883)."""
    d.establish()
    d.seg("keepalive+1", A, 0, 1, b"x")


@scenario("est_fin_left_of_window")
def _(d):
    """After 10 bytes, a bare FIN at seq 1 (wholly old: RCV.NXT is 11): a
    duplicate ACK, the connection stays ESTABLISHED."""
    d.establish()
    d.seg("data", A | PSH, 1, 1, D10)
    d.seg("FIN at 1", A | F, 1, 1)


@scenario("est_rst_with_data")
def _(d):
    """A RST at RCV.NXT carrying 10 bytes: the reset wins, the data is not
    taken; nothing answered; the next segment meets no connection."""
    d.establish()
    d.seg("RST+data", R | A, 1, 1, D10)
    d.seg("data after", A | PSH, 1, 1, D10)


@scenario("est_oow_ack_twice")
def _(d):
    """Two empty ACKs 100 MiB ahead, at once: the first answered, the
    second not (a duplicate ACK for an out-of-window segment without text
    is rate limited, one per 500 ms: Linux's tcp_invalid_ratelimit, RFC
    5961 §7's spirit); data then is answered."""
    d.establish()
    d.seg("ACK far", A, FAR, 1)
    d.seg("ACK far again", A, FAR, 1)
    d.seg("data", A | PSH, 1, 1, D10)


@scenario("est_challenge_twice")
def _(d):
    """A RST in the window and then a SYN, at once: a challenge ACK for
    each from handshake (a budget of 10 a second, docs/engine.md); Linux
    answers the first only (its 500 ms per-socket limit comes first):
    known.py."""
    d.establish()
    d.seg("RST +1000", R, 1001, 0)
    d.seg("SYN", S, 1, 0, opts=syn_opts(tsval=TS_BASE + 1000))
