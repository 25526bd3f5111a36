/*
 * ICMP errors about a connection (RFC 5927, RFC 1191, RFC 1122 4.2.3.9),
 * handed up by the IP layer in ICMPv4's terms for both families (ip.h).
 */
#include <string.h>

#include "tcp/tcp.h"

void tcp_icmp_error(void *ctx, const ip_icmp_err *e)
{
	tcp_stack *s = ctx;
	const ip_icmp_err6 *e6 = ip_icmp_err_v6(e);
	hsk_tuple tu = { .laddr = e->src, .raddr = e->dst, .lport = e->sport,
			 .rport = e->dport };
	tbl_node *n;
	if (e6) {
		/* ICMPv6 errors come in ICMPv4's terms (ip.h): from the
		 * lookup on, one path for both. */
		tbl_v6addrs a6;
		memcpy(a6.l, e6->src, 16);
		memcpy(a6.r, e6->dst, 16);
		tu = tbl_key6(&s->conns, &a6, e->sport, e->dport);
		n = tbl_lookup6(&s->conns, &tu, &a6);
	} else {
		n = tbl_lookup(&s->conns, &tu);
	}
	if (!n || n->kind != HSK_OBJ_TCB || e->type != ICMP_DEST_UNREACH)
		return;
	tcb *t = (tcb *)n;
	uint16_t mtu = e->mtu;
	/* RFC 5927: believe only errors about data actually in flight. */
	if (!seq_between(seq_of(e->seq), t->snd_una, t->snd_max))
		return;
	if (e->code == ICMP_UNREACH_NEEDFRAG) {
		/* RFC 1191: the path takes at most `mtu` bytes per packet; as
		 * Linux's min_pmtu, a claim below min_pmtu (0 from an old
		 * router, or 68 from a forger who wants crumbs) is taken as
		 * min_pmtu. The MSS only ever shrinks here. */
		uint32_t pmtu = mtu < s->env->cfg.min_pmtu ? s->env->cfg.min_pmtu : mtu;
		/* IPv6: the IP layer already raised it to 1280 (RFC 8201
		 * §4), and min_pmtu is IPv4's knob. */
		if (e6)
			pmtu = mtu;
		if (pmtu <= IPV4_HDR_LEN + TCP_HDR_LEN)
			return;         /* min_pmtu configured to nothing */
		uint16_t mss = tcb_mss_for_mtu(s, t, pmtu);
		tcb_act *a;
		if (mss < t->mss && (a = tcb_act_get(s, t)) != NULL) {
			t->mss = mss;
			cc_set_mss(&a->cc, t->mss);
			rec_path_shrunk(s, t);
		}
		return;
	}
	/* RFC 1122 4.2.3.9: port and protocol unreachable are hard errors
	 * for a connection still opening; the others are soft. */
	if (t->state == HSK_SYN_SENT &&
	    (e->code == ICMP_UNREACH_PORT || e->code == ICMP_UNREACH_PROTO)) {
		CNT_INC(s->env, AttemptFails);
		tcb_fail(s, t, HSK_ECONNREFUSED, "rcv ICMP unreachable");
	}
}
