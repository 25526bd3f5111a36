"""Differences between handshake and Linux that stay, by scenario: the
class, the steps (labels) where the two may differ -- every other step
must still agree -- and the reason, with where it is written down
(docs/conformance.md lists them all).

  "documented": a deliberate difference the docs describe;
  "rfc":        handshake follows the RFC where Linux goes further or
                elsewhere (documented with the behaviour it concerns).

A scenario listed here passes when the two differ; conform.py notes one
whose difference went away, so that the list does not go stale. A name
holds in both families; "NAME@6" (or "@4") is one family's alone.
"""
KNOWN = {
    "syn_mss_0": (
        "documented", ("SYN",),
        "an MSS option of value 0 makes the option list malformed: the SYN is "
        "dropped (Linux ignores the option); docs/attacks.md, opt_*"),
    "synrecv_syn_other_isn_in_window": (
        "documented", ("SYN isn+100",),
        "a SYN with another ISN in SYN_RECEIVED draws a challenge ACK and the "
        "request stays (RFC 5961 §4 carried to requests, against blind SYNs); "
        "Linux resets as RFC 793 did, RFC 9293 returns to LISTEN; docs/engine.md"),
    "est_ack_below_snd_una": (
        "rfc", ("data ack-1",),
        "an ACK of the ISN itself (SND.UNA - 1) is within RFC 5961 §5.2's "
        "SND.UNA - MAX.SND.WND: data taken; Linux narrows the bound to the bytes "
        "acknowledged so far (none) and challenges; docs/engine.md"),
    "est_fin_out_of_order": (
        "rfc", ("FIN at 11",),
        "a FIN held beyond a hole is not reported in a SACK block (RFC 2018: "
        "blocks are data received); Linux blocks the FIN's sequence number; "
        "docs/engine.md"),
    "est_fin_left_of_window": (
        "rfc", ("FIN at 1",),
        "a duplicate bare FIN gets no D-SACK block (RFC 2883 reports duplicate "
        "data); Linux reports its sequence number; docs/engine.md"),
    "lastack_fin_again": (
        "rfc", ("FIN again",), "the FIN again gets no D-SACK block (as est_fin_left_of_window)"),
    "closing_fin_again": (
        "rfc", ("FIN again",), "the FIN again gets no D-SACK block (as est_fin_left_of_window)"),
    "finwait1_data": (
        "rfc", ("data",),
        "data after close(): the reset is RFC 9293's ABORT form <SEQ=SND.NXT> "
        "(with ACK, as Linux's own aborts); Linux answers the segment "
        "<SEQ=SEG.ACK>; docs/engine.md"),
    "finwait2_data": (
        "rfc", ("data",), "data after close(): the ABORT form of reset (as finwait1_data)"),
    "act_simultaneous_open": (
        "rfc", ("SYN,ACK",),
        "the peer's SYN-ACK in a simultaneous open establishes without a reply "
        "(RFC 9293 figure 8: nothing is left to acknowledge); Linux ACKs it with a "
        "D-SACK block for the duplicate SYN; docs/engine.md"),
    "act_synack_fin": (
        "documented", ("SYN,ACK,FIN",),
        "a segment with SYN and FIN together is dropped in every state "
        "(DropSynFin); Linux takes the SYN-ACK in SYN_SENT and ignores its FIN "
        "(RFC 9293 would take both); docs/security.md"),
    "est_challenge_twice": (
        "documented", ("SYN",),
        "a connection's challenge ACKs spend a budget of 10 a second (RFC 5961 §7 "
        "asks for a limit, not which); Linux applies its per-socket 500 ms limit of "
        "out-of-window ACKs to them first, so a second within 500 ms goes unanswered; "
        "docs/engine.md (replies to unacceptable segments)"),
    "ip_icmp_host_unreachable_syn_sent": (
        "rfc", ("SYN,ACK",),
        "a host unreachable is a soft error (RFC 1122 4.2.3.9: TCP MUST NOT abort "
        "the connection), in SYN_SENT too: the SYN-ACK then completes the "
        "handshake; Linux aborts a connection in SYN_SENT on any unreachable "
        "(the practice RFC 5461 discusses): a RST; docs/engine.md (ICMP)"),
    "ip_icmp_host_unreachable_syn_received@4": (
        "rfc", ("ACK", "data"),
        "a request in SYN_RECEIVED is left alone by ICMP errors (host unreachable is "
        "soft, RFC 1122 4.2.3.9; and a blind ICMP must not empty the SYN queue, RFC "
        "5927): the ACK completes the handshake; Linux drops the request on an IPv4 "
        "net or host unreachable about its SYN-ACK (tcp_req_err; ICMPv6's address "
        "unreachable is not fatal to it): RSTs; docs/engine.md (ICMP)"),
    "ip_too_big": (
        "documented", ("too big 1300",),
        "after a fragmentation needed / packet too big the oldest segment is resent "
        "at once in the new size, the rest when RACK finds it lost (after that resend "
        "is delivered); Linux resends every segment over the new size at once "
        "(tcp_simple_retransmit); docs/engine.md (ICMP)"),
    "win_zero_fin": (
        "rfc", ("FIN again",), "the FIN again gets no D-SACK block (as est_fin_left_of_window)"),
    "win_data_partly_in_window": (
        "rfc", ("data window+100",),
        "a segment that starts in the window and runs past it is trimmed: the part "
        "in it taken (RFC 9293 §3.10.7.4); Linux since 6.17 drops it whole while "
        "its receive queue holds data (TCP_INVALID_END_SEQUENCE, BeyondWindow); "
        "docs/engine.md"),
    "timewait_syn_higher_old_ts": (
        "documented", ("SYN isn+100000 old TS",),
        "a SYN above RCV.NXT opens a new connection in TIME_WAIT whatever its "
        "TSval (RFC 1122 4.2.2.13); RFC 6191 and Linux refuse an older TSval, "
        "which per-connection TSval offsets make meaningless; docs/engine.md"),
}


def lookup(name, family):
    """The entry for scenario `name` in IP family 4 or 6, or None."""
    return KNOWN.get(f"{name}@{family}") or KNOWN.get(name)
