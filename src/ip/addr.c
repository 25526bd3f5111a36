/*
 * The stack's addresses, both families, in one array sorted by (family,
 * bytes): IPv4 first, then IPv6. A lookup is a binary search, so a stack
 * with thousands of addresses pays log n per packet not addressed to its
 * first IPv4 address; adding or removing one is O(n), which only
 * configuration does.
 */
#include <stdlib.h>
#include <string.h>

#include "ip/ip.h"

static int addr_cmp(const ip_addr *x, int family, const uint8_t a[16])
{
	if (x->family != family)
		return x->family < family ? -1 : 1;
	return memcmp(x->a, a, 16);
}

/* The index of (family, a), or where it would go (*found false). */
static unsigned addr_pos(const ip_addrs *s, int family, const uint8_t a[16], bool *found)
{
	unsigned lo = 0, hi = s->n;

	*found = false;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = addr_cmp(&s->v[mid], family, a);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* a as the 16 bytes an entry stores. */
static void addr_key(int family, const uint8_t *a, uint8_t k[16])
{
	memset(k, 0, 16);
	memcpy(k, a, family == IP_FAM4 ? 4 : 16);
}

/* Addresses that can never be a unicast address of ours. */
static bool addr_valid(int family, const uint8_t *a, unsigned prefix)
{
	if (family == IP_FAM4) {
		return prefix <= 32 && a[0] != 0 && a[0] != 127 && a[0] < 224;
	}
	if (family != IP_FAM6 || prefix > 128)
		return false;
	return !ip6_is_unspecified(a) && !ip6_is_loopback(a) && !ip6_is_multicast(a) &&
	       !ip6_is_v4mapped(a) && !ip6_is_v4compat(a);
}

const ip_addr *ip_addr_find(const ip_layer *ip, int family, const uint8_t *a)
{
	uint8_t k[16];
	bool found;
	unsigned i;

	addr_key(family, a, k);
	i = addr_pos(&ip->addrs, family, k, &found);
	return found ? &ip->addrs.v[i] : NULL;
}

bool ip4_is_ours(const ip_layer *ip, uint32_t a)
{
	uint8_t b[4];

	if (a == ip->addr)
		return a != 0;
	wr32(b, a);
	return ip->addrs.n4 > 1 && ip_addr_find(ip, IP_FAM4, b);
}

int ip_addr_add(ip_layer *ip, int family, const uint8_t *a, unsigned prefix)
{
	ip_addrs *s = &ip->addrs;
	uint8_t k[16];
	bool found;
	unsigned i;

	if (!addr_valid(family, a, prefix))
		return -HSK_EINVAL;
	addr_key(family, a, k);
	i = addr_pos(s, family, k, &found);
	if (found)
		return -HSK_EADDRINUSE;
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 4;
		ip_addr *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -HSK_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i] = (ip_addr){ .family = (uint8_t)family, .prefix = (uint8_t)prefix };
	memcpy(s->v[i].a, k, 16);
	s->n++;
	s->sel_ok = false;              /* a better source, perhaps */
	ip_rx_pair_forget(ip);          /* a source of ours now, perhaps */
	if (family == IP_FAM4) {
		s->n4++;
		if (!ip->addr)
			ip_set_addr(ip, rd32(a));
	} else {
		s->n6++;
	}
	return 0;
}

int ip_addr_del(ip_layer *ip, int family, const uint8_t *a)
{
	ip_addrs *s = &ip->addrs;
	uint8_t k[16];
	bool found;
	unsigned i;

	addr_key(family, a, k);
	i = addr_pos(s, family, k, &found);
	if (!found)
		return -HSK_EADDRNOTAVAIL;
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	s->sel_ok = false;              /* the source chosen, perhaps */
	ip_rx_pair_forget(ip);          /* a destination of ours no more */
	if (family == IP_FAM6) {
		s->n6--;
		return 0;
	}
	s->n4--;
	if (rd32(a) == ip->addr)
		ip_set_addr(ip, s->n4 ? rd32(s->v[0].a) : 0);
	return 0;
}

bool ip6_in_group(const ip_layer *ip, const uint8_t a[16])
{
	const ip_addrs *s = &ip->addrs;

	if (ip6_is_all_nodes(a))
		return true;
	if (!ip6_is_solicited_node(a))
		return false;
	for (unsigned i = s->n4; i < s->n; i++)
		if (!memcmp(s->v[i].a + 13, a + 13, 3))
			return true;
	return false;
}

/* Bits a and b share from the top: the leading zeros of their difference,
 * a word at a time (not a byte and a bit at a time: ~130 instructions
 * less at every IPv6 connect()). */
static unsigned common_prefix(const uint8_t a[16], const uint8_t b[16])
{
	uint64_t x = rd64(a) ^ rd64(b);
	if (x)
		return (unsigned)__builtin_clzll(x);
	x = rd64(a + 8) ^ rd64(b + 8);
	return x ? 64 + (unsigned)__builtin_clzll(x) : 128;
}

/* RFC 6724's choice, made anew (ip6_select_src keeps its answer). */
static int select_src(const ip_layer *ip, const uint8_t dst[16], uint8_t src[16])
{
	const ip_addrs *s = &ip->addrs;
	bool want_ll = ip6_is_linklocal(dst) ||
		       (ip6_is_multicast(dst) && (dst[1] & 0x0f) <= 2);
	const ip_addr *best = NULL;
	unsigned best_len = 0;

	if (ip6_is_ours(ip, dst)) {
		memcpy(src, dst, 16);
		return 0;
	}
	for (unsigned i = s->n4; i < s->n; i++) {
		const ip_addr *x = &s->v[i];
		unsigned l;
		if (ip6_is_linklocal(x->a) != want_ll)
			continue;
		l = common_prefix(x->a, dst);
		if (!best || l > best_len) {
			best = x;
			best_len = l;
		}
	}
	if (!best)
		return -HSK_EADDRNOTAVAIL;
	memcpy(src, best->a, 16);
	return 0;
}

int ip6_select_src(ip_layer *ip, const uint8_t dst[16], uint8_t src[16])
{
	ip_addrs *s = &ip->addrs;
	/* the same destination as last time, the list unchanged since: the
	 * same answer (~85 instructions less at each IPv6 connect()) */
	uint64_t d[2], k[2];
	memcpy(d, dst, 16);
	memcpy(k, s->sel_dst, 16);
	if (s->sel_ok && ((d[0] ^ k[0]) | (d[1] ^ k[1])) == 0) {
		memcpy(src, s->sel_src, 16);
		return 0;
	}
	if (select_src(ip, dst, src) < 0)
		return -HSK_EADDRNOTAVAIL;
	memcpy(s->sel_dst, dst, 16);
	memcpy(s->sel_src, src, 16);
	s->sel_ok = true;
	return 0;
}
