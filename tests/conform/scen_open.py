"""Scenarios of the opening: SYNs of every shape at a listener, the
SYN_RECEIVED state, segments to a listener and to a closed port."""
import pkt as P
from duo import opt_mss, scenario, syn_opts

A, S, F, R, U, PSH = P.ACK, P.SYN, P.FIN, P.RST, P.URG, P.PSH
DATA = b"0123456789"


def _syn_then_data(d, **syn_kw):
    """SYN (options as given), complete, 10 bytes: the options agreed
    must not change what the data gets."""
    d.syn(**syn_kw)
    d.ack_synack()
    d.seg("data", A | PSH, 1, 1, DATA)


@scenario("syn_no_options")
def _(d):
    """SYN without options: SYN-ACK with an MSS (RFC 9293 §3.7.1), no
    other option (RFC 7323 §1.3, RFC 2018: only when offered)."""
    _syn_then_data(d, opts=b"")


@scenario("syn_mss_only")
def _(d):
    """SYN with MSS 1460 only."""
    _syn_then_data(d, opts=opt_mss(1460))


@scenario("syn_ts_without_sack")
def _(d):
    """SYN with MSS and timestamps, no SACK-permitted, no window scale."""
    _syn_then_data(d, opts=syn_opts(sack=False, ws=None))


@scenario("syn_wscale_14")
def _(d):
    """Window scale 14, the largest allowed (RFC 7323 §2.3)."""
    _syn_then_data(d, opts=syn_opts(ws=14))


@scenario("syn_wscale_15")
def _(d):
    """Window scale 15: used as 14 (RFC 7323 §2.3), the SYN answered."""
    _syn_then_data(d, opts=syn_opts(ws=15))


@scenario("syn_mss_0")
def _(d):
    """MSS 0: Linux ignores the option and answers; handshake takes the
    option list for malformed and drops the SYN (known.py)."""
    d.syn(opts=opt_mss(0))


@scenario("syn_mss_1")
def _(d):
    """MSS 1."""
    d.syn(opts=opt_mss(1))


@scenario("syn_mss_65535")
def _(d):
    """MSS 65535."""
    d.syn(opts=opt_mss(65535))


@scenario("syn_ts_with_nonzero_tsecr")
def _(d):
    """A SYN whose TSecr is not 0 (RFC 7323 §3.2: TSecr is meaningful
    only with ACK; ignored)."""
    _syn_then_data(d, opts=syn_opts(tsecr=12345))


@scenario("syn_sack_without_ts")
def _(d):
    """MSS, SACK-permitted and window scale, no timestamps."""
    _syn_then_data(d, opts=syn_opts(ts=False))


@scenario("syn_with_data")
def _(d):
    """A SYN carrying 10 bytes (no Fast Open): the SYN-ACK acknowledges
    the SYN only; the data is taken when sent again."""
    d.syn(data=DATA)
    d.ack_synack()
    d.seg("data again", A | PSH, 1, 1, DATA)


@scenario("syn_fin")
def _(d):
    """SYN+FIN at a listener."""
    d.syn(flags=S | F, wait=0.3)


@scenario("syn_rst")
def _(d):
    """SYN+RST at a listener: a RST is never answered (RFC 9293
    §3.10.7.2: first check for an RST)."""
    d.syn(flags=S | R, wait=0.3)


@scenario("syn_urg")
def _(d):
    """SYN+URG: answered as a SYN."""
    d.syn(flags=S | U)


@scenario("synrecv_dup_syn_same_isn")
def _(d):
    """The SYN again in SYN_RECEIVED: the SYN-ACK again."""
    d.syn()
    d.syn("SYN again")


@scenario("synrecv_syn_other_isn_in_window")
def _(d):
    """In SYN_RECEIVED, a SYN with an ISN 100 above the first."""
    d.syn()
    d.syn("SYN isn+100", seq=100, wait=0.3)


@scenario("synrecv_syn_other_isn_below")
def _(d):
    """In SYN_RECEIVED, a SYN with an ISN 100,000 below the first."""
    d.syn()
    d.syn("SYN isn-100000", seq=-100000, wait=0.3)


@scenario("synrecv_ack_below")
def _(d):
    """The handshake's ACK acknowledging the system's ISN itself (one
    below): RST <SEQ=SEG.ACK> (RFC 9293 §3.10.7.4, SYN_RECEIVED)."""
    d.syn()
    d.ack_synack("ACK isn", ack=0, wait=0.12)


@scenario("synrecv_ack_above")
def _(d):
    """The handshake's ACK one above ISN+1: RST <SEQ=SEG.ACK>."""
    d.syn()
    d.ack_synack("ACK isn+2", ack=2, wait=0.12)


@scenario("synrecv_rst_in_window")
def _(d):
    """RST at RCV.NXT in SYN_RECEIVED: the request is gone (RFC 9293
    §3.10.7.4); the handshake's ACK then meets a listener: RST."""
    d.syn()
    d.seg("RST", R, 1, 0)
    d.ack_synack("ACK", wait=0.12)


@scenario("synrecv_rst_out_of_window")
def _(d):
    """RST 1 GiB ahead in SYN_RECEIVED: ignored; the handshake completes
    and data is acknowledged."""
    d.syn()
    d.seg("RST far", R, 1 << 30, 0)
    d.ack_synack()
    d.seg("data", A | PSH, 1, 1, DATA)


@scenario("listener_bare_ack")
def _(d):
    """An ACK with no connection behind it at a listener: RST
    <SEQ=SEG.ACK> (RFC 9293 §3.10.7.2)."""
    d.seg("ACK", A, 1, 0x1234)


@scenario("listener_fin")
def _(d):
    """A FIN,ACK with no connection at a listener: RST <SEQ=SEG.ACK>."""
    d.seg("FIN,ACK", F | A, 1, 0x1234)


@scenario("listener_data_without_ack")
def _(d):
    """Data without ACK and without a connection at a listener: the
    listener drops it (RFC 9293 §3.10.7.2, "any other control or
    text-bearing segment (not containing SYN) must have an ACK and thus
    would have been discarded by the ACK processing")."""
    d.seg("data", PSH, 1, 0, DATA)


@scenario("closed_syn", app=None)
def _(d):
    """SYN to a closed port: RST,ACK <SEQ=0><ACK=SEG.SEQ+1> (§3.10.7.1)."""
    d.syn(wait=0.3)


@scenario("closed_fin", app=None)
def _(d):
    """FIN (no ACK) to a closed port: RST,ACK <ACK=SEG.SEQ+1>."""
    d.seg("FIN", F, 1, 0)


@scenario("closed_fin_ack", app=None)
def _(d):
    """FIN,ACK to a closed port: RST <SEQ=SEG.ACK>."""
    d.seg("FIN,ACK", F | A, 1, 0x1234)


@scenario("closed_data", app=None)
def _(d):
    """Data (no ACK) to a closed port: RST,ACK <ACK=SEG.SEQ+SEG.LEN>."""
    d.seg("data", PSH, 1, 0, DATA)


@scenario("closed_rst", app=None)
def _(d):
    """RST to a closed port: nothing."""
    d.seg("RST", R, 1, 0)
    d.seg("RST,ACK", R | A, 1, 0x1234)


@scenario("listener_synack")
def _(d):
    """A SYN,ACK at a listener: any acknowledgment there is bad: RST
    <SEQ=SEG.ACK> (RFC 9293 §3.10.7.2)."""
    d.seg("SYN,ACK", S | A, 0, 0x1234, opts=syn_opts())


@scenario("listener_rst_ack")
def _(d):
    """RST,ACK at a listener: nothing."""
    d.seg("RST,ACK", R | A, 1, 0x1234)


@scenario("closed_synack", app=None)
def _(d):
    """SYN,ACK to a closed port: RST <SEQ=SEG.ACK>."""
    d.seg("SYN,ACK", S | A, 0, 0x1234, opts=syn_opts())


@scenario("synrecv_data_without_ack")
def _(d):
    """Data without ACK in SYN_RECEIVED: dropped (RFC 9293 §3.10.7.4,
    fifth: no ACK bit, drop); the handshake then completes."""
    d.syn()
    d.seg("data no ACK", PSH, 1, 0, DATA)
    d.ack_synack()
    d.seg("data", A | PSH, 1, 1, DATA)


@scenario("synrecv_third_ack_with_data_and_fin")
def _(d):
    """The handshake's ACK carrying 10 bytes and a FIN: all taken (ACK
    12); the application closes: the system's FIN."""
    d.syn()
    d.seg("ACK+data+FIN", A | PSH | F, 1, 1, DATA, until=F)
