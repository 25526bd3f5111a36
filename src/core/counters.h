/*
 * The stack's counters, one X-macro list. Names follow Linux's `netstat -s`
 * (the MIB names in /proc/net/snmp and /proc/net/netstat) where one exists;
 * the others say what they count. A drop reason is always a counter.
 */
#ifndef HSK_COUNTERS_H
#define HSK_COUNTERS_H

#include <stdint.h>

#define HSK_COUNTERS(X) \
	/* IP (Ip: in /proc/net/snmp) */ \
	X(InReceives) X(InHdrErrors) X(InAddrErrors) X(InUnknownProtos) \
	X(InDelivers) X(OutRequests) X(OutNoRoutes) \
	X(ReasmReqds) X(ReasmOKs) X(ReasmFails) X(ReasmTimeout) \
	X(FragmentsDropped) \
	X(ReasmOverlaps) X(ReasmEvictions) X(ReasmSrcEvictions) \
	/* IpExt: the ECN field of packets received (RFC 3168) */ \
	X(InNoECTPkts) X(InECT1Pkts) X(InECT0Pkts) X(InCEPkts) \
	/* ICMP */ \
	X(IcmpInMsgs) X(IcmpInErrors) X(IcmpInEchos) X(IcmpOutEchoReps) \
	X(IcmpInDestUnreachs) X(IcmpOutMsgs) X(IcmpOutTimeExcds) \
	X(IcmpOutRateLimitGlobal) \
	/* TCP (Tcp: in /proc/net/snmp) */ \
	X(ActiveOpens) X(PassiveOpens) X(AttemptFails) X(EstabResets) \
	X(InSegs) X(OutSegs) X(RetransSegs) X(InErrs) X(OutRsts) X(InCsumErrors) \
	/* TcpExt: in /proc/net/netstat */ \
	X(SyncookiesSent) X(SyncookiesRecv) X(SyncookiesFailed) \
	X(EmbryonicRsts) X(ListenOverflows) X(ListenDrops) \
	X(TCPTimeWaitOverflow) X(TW) X(TWRecycled) X(TWKilled) \
	X(TCPAbortOnData) X(TCPAbortOnClose) X(TCPAbortOnMemory) \
	X(TCPAbortOnTimeout) X(TCPAbortOnLinger) X(TCPAbortFailed) \
	X(TCPChallengeACK) X(TCPSYNChallenge) X(TCPChallengeACKLimited) \
	X(TCPReqQFullDrop) X(TCPReqQFullDoCookies) X(TCPTimeouts) \
	X(TCPSynRetrans) X(TCPFastRetrans) X(TCPLossProbes) X(TCPSackRecovery) \
	X(TCPRenoRecovery) X(TCPDSACKRecv) X(TCPOFOQueue) X(TCPOFODrop) \
	X(TCPFullUndo) X(TCPPartialUndo) X(TCPDSACKUndo) X(TCPLossUndo) X(TCPSpuriousRTOs) \
	X(TCPRcvQDrop) X(TCPZeroWindowDrop) X(TCPPureAcks) X(TCPHPAcks) X(TCPHPHits) \
	X(TCPDelayedACKs) X(DelayedACKLost) X(TCPKeepAlive) X(TCPWinProbe) \
	X(PAWSEstab) X(PAWSActive) \
	X(TCPACKSkippedChallenge) X(TCPACKSkippedSeq) X(TCPACKSkippedPAWS) \
	X(TCPACKSkippedSynRecv) X(TCPACKSkippedTimeWait) \
	X(TCPMemoryPressures) X(TCPMemoryPressuresChrono) X(TCPOrphanDrops) \
	X(TCPFastOpenActive) X(TCPFastOpenActiveFail) X(TCPFastOpenPassive) \
	X(TCPFastOpenPassiveFail) X(TCPFastOpenListenOverflow) \
	X(TCPFastOpenCookieReqd) X(TCPFastOpenPassiveAltKey) X(TCPDeferAcceptDrop) \
	/* handshake's own: segment validation and parse drops */ \
	X(DropShort) X(DropBadHeader) X(DropBadOptions) X(DropSynFin) \
	X(DropNoSocket) X(DropOutOfWindow) X(DropBadAck) X(DropNoMemory) \
	X(DropNotForUs) X(DropState) X(RstSentNoSocket) X(IllegalTransitions) \
	/* martians (Linux: in_martian_src/in_martian_dst in rt_cache) */ \
	X(DropMartianSrc) X(DropMartianDst) \
	/* ECN: cwnd reductions answering ECE (Linux reduces in its CWR state \
	 * and counts none) */ \
	X(TCPECNReduce) \
	/* a socket call found the stack's clock behind hsk_config.clock */ \
	X(StaleClock) \
	/* a send or receive ring refused: over tcp_mem_high, or no memory */ \
	X(BufferRefused) \
	/* buffer autotuning grew a receive or send buffer (Linux counts \
	 * neither) */ \
	X(TCPRcvBufAutoGrow) X(TCPSndBufAutoGrow) \
	/* IPv6 (Ip6 in /proc/net/snmp6); martians and DropNotForUs are \
	 * counted above for both families */ \
	X(Ip6InReceives) X(Ip6InHdrErrors) X(Ip6InAddrErrors) \
	X(Ip6InUnknownProtos) X(Ip6InTruncatedPkts) X(Ip6InDelivers) \
	X(Ip6InMcastPkts) X(Ip6OutRequests) \
	X(Ip6InNoECTPkts) X(Ip6InECT1Pkts) X(Ip6InECT0Pkts) X(Ip6InCEPkts) \
	X(Ip6ReasmReqds) X(Ip6ReasmOKs) X(Ip6ReasmFails) X(Ip6ReasmTimeout) \
	X(Ip6FragmentsDropped) X(Ip6ReasmOverlaps) X(Ip6ReasmEvictions) \
	X(Ip6ReasmSrcEvictions) \
	/* handshake's own: extension headers refused, chains too long */ \
	X(Ip6DropExtHdr) X(Ip6DropExtLimit) \
	/* ICMPv6 (Icmp6 in /proc/net/snmp6) */ \
	X(Icmp6InMsgs) X(Icmp6InErrors) X(Icmp6InCsumErrors) X(Icmp6InEchos) \
	X(Icmp6InDestUnreachs) X(Icmp6InPktTooBigs) X(Icmp6InTimeExcds) \
	X(Icmp6InParmProblems) X(Icmp6OutMsgs) X(Icmp6OutEchoReplies) \
	X(Icmp6OutParmProblems) X(Icmp6OutTimeExcds) X(Icmp6OutErrors) \
	X(Icmp6OutRateLimitGlobal)

enum hsk_counter_id {
#define HSK_COUNTER_ENUM(name) CNT_##name,
	HSK_COUNTERS(HSK_COUNTER_ENUM)
#undef HSK_COUNTER_ENUM
	CNT__COUNT
};

typedef struct hsk_counters {
	uint64_t v[CNT__COUNT];
} hsk_counters;

#define CNT_INC(stack, name) ((stack)->cnt.v[CNT_##name]++)
#define CNT_ADD(stack, name, n) ((stack)->cnt.v[CNT_##name] += (n))

#endif
