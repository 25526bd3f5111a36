"""Scenarios of the IP layer under TCP: the same segments behind IPv4
options or an IPv6 Destination Options header, in fragments (in order and
out of order), and behind an IPv6 atomic fragment (RFC 6946). The
segment must get the same answer as without them (RFC 8200 §4; RFC 791;
docs/ipv6.md). And ICMP errors about a connection (RFC 1122 4.2.3.9,
RFC 5927)."""
import pkt as P
from duo import scenario, syn_opts
from ipforms import atomic_fragment, fragments, reversed_order, with_options

A, S, F, PSH = P.ACK, P.SYN, P.FIN, P.PSH
D100 = bytes(range(100))


@scenario("ip_syn_with_options")
def _(d):
    """A SYN behind IPv4 NOP options / an IPv6 Destination Options header
    (PadN): answered as any SYN; the handshake and data complete the
    same way."""
    d.syn(ip=with_options)
    d.seg("ACK", A, 1, 1, ip=with_options, wait=0.03)
    d.seg("data", A | PSH, 1, 1, D100, ip=with_options)


@scenario("ip_data_in_fragments")
def _(d):
    """100 bytes of data in two IP fragments (48 bytes of the segment in
    the first): reassembled, ACK 101; then in two fragments last first:
    ACK 201."""
    d.establish()
    d.seg("data in 2 fragments", A | PSH, 1, 1, D100, ip=fragments)
    d.seg("fragments last first", A | PSH, 101, 1, D100, ip=reversed_order(fragments))


@scenario("ip_syn_in_fragments")
def _(d):
    """A SYN in two fragments, 16 bytes of TCP in the first: IPv4
    reassembles it (a SYN-ACK); IPv6 drops it (RFC 7112: the first
    fragment must hold the upper-layer header; an ICMPv6 error, not
    compared, goes to the peer). Then with 24 (the TCP header's fixed 20
    bytes and some of its options): a SYN-ACK in both (IPv4's the same
    again)."""
    d.syn("SYN, 16 bytes first", ip=lambda raw: fragments(raw, first=16), wait=0.3)
    d.syn("SYN, 24 bytes first", ip=lambda raw: fragments(raw, first=24))


@scenario("ip_atomic_fragment", skip={4: "an atomic fragment is IPv6's (RFC 6946)"})
def _(d):
    """A SYN and data each behind a Fragment header with offset 0 and M
    clear: no fragment (RFC 6946): answered at once, as without it."""
    d.syn(ip=atomic_fragment)
    d.ack_synack()
    d.seg("data", A | PSH, 1, 1, D100, ip=atomic_fragment)


HOST_UNREACH = ((3, 1), (1, 3))     # ICMP host unreachable; ICMPv6 address unreachable
PORT_UNREACH = ((3, 3), (1, 4))     # ICMP and ICMPv6 port unreachable


@scenario("ip_icmp_host_unreachable_syn_sent", app="connect")
def _(d):
    """A host unreachable about the client's SYN: a soft error (RFC 1122
    4.2.3.9: "TCP MUST NOT abort the connection"): handshake keeps the
    connection, and the SYN-ACK then is ACKed; Linux aborts a connection
    in SYN_SENT on any unreachable (a practice RFC 5461 discusses): a RST
    (known.py)."""
    d.open_active()
    d.icmp("ICMP host unreachable", *HOST_UNREACH)
    d.seg("SYN,ACK", S | A, 0, 1, opts=lambda c: syn_opts(tsecr=c.ts_recent))


@scenario("ip_icmp_host_unreachable_established")
def _(d):
    """A host unreachable, then a port unreachable, about the system's
    last ACK in ESTABLISHED: soft errors once established (RFC 1122
    4.2.3.9; Linux the same), and nothing of it is in flight (RFC 5927):
    the connection lives, data is ACKed."""
    d.establish()
    d.seg("data", A | PSH, 1, 1, D100)
    d.icmp("ICMP host unreachable", *HOST_UNREACH)
    d.icmp("ICMP port unreachable", *PORT_UNREACH)
    d.seg("data again", A | PSH, 101, 1, D100)


@scenario("ip_icmp_host_unreachable_syn_received")
def _(d):
    """A host unreachable about the system's SYN-ACK (a request in
    SYN_RECEIVED): a soft error, the request stays (RFC 1122 4.2.3.9);
    the handshake's ACK then completes it. Linux drops a request on a net
    or host unreachable about its SYN-ACK (tcp_req_err): the ACK meets the
    listener: a RST (known.py)."""
    d.syn()
    d.icmp("ICMP host unreachable", *HOST_UNREACH)
    d.ack_synack(wait=0.12)
    d.seg("data", A | PSH, 1, 1, D100)


# ---- ICMP errors about data in flight: the "send" port sends 4000 bytes
# and its FIN at once; the peer acknowledges none of it.

def _flight(d):
    """The handshake; the system's 4000 bytes and FIN go at once (within
    the initial window); a short window: before a loss probe (10 ms at
    least) may follow... or not: both may send one, as they do."""
    d.syn()
    d.seg("ACK", A, 1, 1, until=F, wait=0.05)


@scenario("ip_too_big_below_minimum", app="send",
          skip={4: "IPv6's rule (RFC 8201 §4); IPv4 clamps to min_pmtu, in both"})
def _(d):
    """A packet too big reporting 1000 (below IPv6's minimum link MTU,
    1280) about the first data segment in flight: discarded (RFC 8201 §4:
    "it must discard it"): nothing is resent."""
    _flight(d)
    d.icmp("packet too big 1000", (3, 4), (2, 0), wait=0.06, quote="first", mtu=1000)


@scenario("ip_too_big", app="send")
def _(d):
    """Fragmentation needed / packet too big reporting 1300 about the
    first data segment in flight: the MSS shrinks and what was sent goes
    again in smaller segments (RFC 1191, RFC 8201)."""
    _flight(d)
    d.icmp("too big 1300", (3, 4), (2, 0), wait=0.06, quote="first", mtu=1300)
