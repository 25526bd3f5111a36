/*
 * Addresses of either family in the API (hsk_addr): text both ways, and
 * the stack's own addresses, which the IP layer keeps (ip/addr.c). The
 * API speaks host byte order for IPv4; the IP layer's list stores
 * network-order bytes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "stack/stack.h"

bool hsk_addr_eq(const hsk_addr *a, const hsk_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == HSK_AF_INET)
		return a->v4 == b->v4;
	return a->family == HSK_AF_INET6 && !memcmp(a->v6, b->v6, 16);
}

/* A zone: decimal digits only, no more than 32 bits. */
static int parse_zone(const char *z, uint32_t *out)
{
	unsigned long long v = 0;

	if (!*z)
		return -HSK_EINVAL;
	for (; *z; z++) {
		if (*z < '0' || *z > '9')
			return -HSK_EINVAL;
		v = v * 10 + (unsigned)(*z - '0');
		if (v > UINT32_MAX)
			return -HSK_EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int hsk_addr_parse(const char *str, hsk_addr *a)
{
	char buf[HSK_ADDRSTRLEN];
	size_t n = str ? strlen(str) : 0;
	uint32_t zone = 0;
	struct in_addr v4;
	char *pct;

	if (!n || n >= sizeof(buf))
		return -HSK_EINVAL;
	memcpy(buf, str, n + 1);
	if (buf[0] == '[') {
		if (buf[n - 1] != ']')
			return -HSK_EINVAL;
		buf[n - 1] = '\0';
		memmove(buf, buf + 1, n - 1);
	} else if (inet_pton(AF_INET, buf, &v4) == 1) {
		*a = hsk_addr_v4(ntohl(v4.s_addr));
		return 0;
	}
	pct = strchr(buf, '%');
	if (pct) {
		*pct = '\0';
		if (parse_zone(pct + 1, &zone) < 0)
			return -HSK_EINVAL;
	}
	hsk_addr r = { .family = HSK_AF_INET6, .scope_id = zone };
	if (inet_pton(AF_INET6, buf, r.v6) != 1)
		return -HSK_EINVAL;
	*a = r;
	return 0;
}

const char *hsk_addr_str(const hsk_addr *a, char buf[HSK_ADDRSTRLEN])
{
	if (a->family == HSK_AF_INET) {
		struct in_addr v4 = { .s_addr = htonl(a->v4) };
		inet_ntop(AF_INET, &v4, buf, HSK_ADDRSTRLEN);
	} else if (a->family == HSK_AF_INET6) {
		/* glibc's inet_ntop writes RFC 5952's form (a single zero
		 * group is not shortened; v4-mapped ends dotted). */
		inet_ntop(AF_INET6, a->v6, buf, HSK_ADDRSTRLEN);
		if (a->scope_id) {
			size_t n = strlen(buf);
			snprintf(buf + n, HSK_ADDRSTRLEN - n, "%%%u", (unsigned)a->scope_id);
		}
	} else {
		strcpy(buf, "?");
	}
	return buf;
}

const char *hsk_addr_port_str(const hsk_addr *a, uint16_t port, char buf[HSK_ADDRSTRLEN])
{
	char t[HSK_ADDRSTRLEN];

	hsk_addr_str(a, t);
	snprintf(buf, HSK_ADDRSTRLEN, a->family == HSK_AF_INET6 ? "[%s]:%u" : "%s:%u",
		 t, (unsigned)port);
	return buf;
}

/* a as the IP layer's family and bytes: 0, or -HSK_EAFNOSUPPORT. */
static int addr_bytes(const hsk_addr *a, int *family, uint8_t b[16])
{
	if (a->family == HSK_AF_INET) {
		*family = IP_FAM4;
		wr32(b, a->v4);
		return 0;
	}
	if (a->family == HSK_AF_INET6) {
		*family = IP_FAM6;
		memcpy(b, a->v6, 16);
		return 0;
	}
	return -HSK_EAFNOSUPPORT;
}

int hsk_stack_add_addr(hsk_stack *s, const hsk_addr *a, unsigned prefix)
{
	uint8_t b[16];
	int family, rc = addr_bytes(a, &family, b);

	return rc < 0 ? rc : ip_addr_add(&s->ip, family, b, prefix);
}

int hsk_stack_del_addr(hsk_stack *s, const hsk_addr *a)
{
	uint8_t b[16];
	int family, rc = addr_bytes(a, &family, b);

	return rc < 0 ? rc : ip_addr_del(&s->ip, family, b);
}

size_t hsk_stack_addrs(const hsk_stack *s, hsk_addr *out, unsigned *prefix, size_t max)
{
	const ip_addrs *l = &s->ip.addrs;

	for (size_t i = 0; i < l->n && i < max; i++) {
		const ip_addr *x = &l->v[i];
		out[i] = x->family == IP_FAM4 ? hsk_addr_v4(rd32(x->a)) : hsk_addr_v6(x->a);
		if (prefix)
			prefix[i] = x->prefix;
	}
	return l->n;
}
