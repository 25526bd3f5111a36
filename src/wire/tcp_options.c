/*
 * TCP options: MSS (RFC 9293), window scale and timestamps (RFC 7323),
 * SACK-permitted and SACK blocks (RFC 2018), Fast Open (RFC 7413).
 *
 * Parsing accepts any order and skips unknown kinds by their length; a length
 * byte of 0 or 1, one that runs past the option space, or one that is wrong for
 * a known kind makes the whole segment malformed (WIRE_ERR_OPTLEN), as does an
 * MSS of 0 (WIRE_ERR_MSS_ZERO). A repeated option overwrites the earlier one.
 *
 * Emitting writes the layout Linux sends (tcp_options_write()), so a capture of
 * this stack lines up with one of the kernel:
 *   MSS                    02 04 mm mm
 *   SACK_PERM + TS         04 02 08 0a <tsval> <tsecr>
 *   TS alone               01 01 08 0a <tsval> <tsecr>
 *   SACK_PERM alone        01 01 04 02
 *   window scale           01 03 03 ws
 *   SACK blocks            01 01 05 nn <left right>...
 *   Fast Open request      22 02 01 01
 *   Fast Open cookie       22 nn <cookie> (01 01 when nn % 4 == 2)
 * A Linux SYN with everything is thus the 20 bytes
 *   02 04 05 b4 04 02 08 0a <tsval> <tsecr> 01 03 03 07.
 * Every piece is a multiple of 4 bytes, so no padding is ever needed. SACK
 * blocks that do not fit in the 40 bytes of option space are left off, the
 * most recent (first) ones kept, as Linux does.
 */
#include "wire.h"

enum {
	OPTLEN_MSS = 4, OPTLEN_WSCALE = 3, OPTLEN_SACK_PERM = 2,
	OPTLEN_TIMESTAMP = 10, OPTLEN_SACK_BASE = 2, OPTLEN_SACK_BLOCK = 8,
	OPTLEN_FO_BASE = 2,
};

/* Bytes the Fast Open option takes, padded to 4 (0 when absent). */
static size_t fo_room(const tcp_opts *o)
{
	return o->has_fo ? ((size_t)OPTLEN_FO_BASE + o->fo_len + 3) & ~(size_t)3 : 0;
}

void tcp_opts_init(tcp_opts *o)
{
	o->mss = 0;
	o->wscale = -1;
	o->sack_ok = false;
	o->has_ts = false;
	o->nsack = 0;
	o->ts_val = o->ts_ecr = 0;
	o->has_fo = false;
	o->fo_len = 0;
	o->fo_cookie = NULL;
}

static int opt_sack(const uint8_t *p, size_t olen, tcp_opts *o)
{
	size_t n = (olen - OPTLEN_SACK_BASE) / OPTLEN_SACK_BLOCK;
	if (olen < OPTLEN_SACK_BASE + OPTLEN_SACK_BLOCK ||
	    (olen - OPTLEN_SACK_BASE) % OPTLEN_SACK_BLOCK != 0 ||
	    n > TCP_MAX_SACK_BLOCKS)
		return WIRE_ERR_OPTLEN;
	for (size_t i = 0; i < n; i++) {
		o->sack[i].left = rd32(p + 2 + 8 * i);
		o->sack[i].right = rd32(p + 6 + 8 * i);
	}
	o->nsack = (uint8_t)n;
	return WIRE_OK;
}

int tcp_opts_parse(const uint8_t *p, size_t len, tcp_opts *o)
{
	if (tcp_opts_fast(p, len, o))
		return WIRE_OK;
	return tcp_opts_parse_all(p, len, o);
}

int tcp_opts_parse_all(const uint8_t *p, size_t len, tcp_opts *o)
{
	const uint8_t *end = p + len;
	tcp_opts_init(o);
	while (p < end) {
		uint8_t kind = p[0];
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			p++;
			continue;
		}
		if (end - p < 2)
			return WIRE_ERR_OPTLEN;
		size_t olen = p[1];
		if (olen < 2 || olen > (size_t)(end - p))
			return WIRE_ERR_OPTLEN;
		switch (kind) {
		case TCPOPT_MSS:
			if (olen != OPTLEN_MSS)
				return WIRE_ERR_OPTLEN;
			o->mss = rd16(p + 2);
			if (o->mss == 0)
				return WIRE_ERR_MSS_ZERO;
			break;
		case TCPOPT_WSCALE:
			if (olen != OPTLEN_WSCALE)
				return WIRE_ERR_OPTLEN;
			/* Kept as sent for the caller to clamp to 14 (RFC 7323
			 * 2.3); only values past int8_t's range are cut. */
			o->wscale = (int8_t)(p[2] > 127 ? 127 : p[2]);
			break;
		case TCPOPT_SACK_PERM:
			if (olen != OPTLEN_SACK_PERM)
				return WIRE_ERR_OPTLEN;
			o->sack_ok = true;
			break;
		case TCPOPT_SACK: {
			int err = opt_sack(p, olen, o);
			if (err)
				return err;
			break;
		}
		case TCPOPT_TIMESTAMP:
			if (olen != OPTLEN_TIMESTAMP)
				return WIRE_ERR_OPTLEN;
			o->has_ts = true;
			o->ts_val = rd32(p + 2);
			o->ts_ecr = rd32(p + 6);
			break;
		case TCPOPT_FASTOPEN:
			/* A request (no cookie) or a cookie of 4..16 bytes,
			 * an even count; any other length is ignored, not
			 * malformed (Linux's tcp_parse_fastopen_option). */
			if (olen == OPTLEN_FO_BASE ||
			    (olen - OPTLEN_FO_BASE >= TCP_FO_COOKIE_MIN &&
			     olen - OPTLEN_FO_BASE <= TCP_FO_COOKIE_MAX && !(olen & 1))) {
				o->has_fo = true;
				o->fo_len = (uint8_t)(olen - OPTLEN_FO_BASE);
				o->fo_cookie = olen > OPTLEN_FO_BASE ? p + 2 : NULL;
			}
			break;
		default:
			break; /* unknown: skipped by its length */
		}
		p += olen;
	}
	return WIRE_OK;
}

/* Bytes of everything but the SACK blocks. */
static size_t opts_base_len(const tcp_opts *o)
{
	size_t n = 0;
	if (o->mss)
		n += 4;
	if (o->has_ts)
		n += 12;
	else if (o->sack_ok)
		n += 4;
	if (o->wscale >= 0)
		n += 4;
	return n + fo_room(o);
}

static size_t opts_nsack(const tcp_opts *o, size_t base)
{
	/* base is at most 20 (MSS, SACK_PERM + TS, WSCALE), so at least two
	 * blocks fit; three beside TS alone, four beside nothing but one
	 * 4-byte option. A Fast Open cookie (SYNs only) may leave none. */
	if (base + 4 + OPTLEN_SACK_BLOCK > TCP_MAX_OPT_LEN)
		return 0;
	size_t fit = (TCP_MAX_OPT_LEN - 4 - base) / OPTLEN_SACK_BLOCK;
	return o->nsack < fit ? o->nsack : fit;
}

size_t tcp_opts_len(const tcp_opts *o)
{
	size_t base = opts_base_len(o);
	size_t ns = o->nsack ? opts_nsack(o, base) : 0;
	return base + (ns ? 4 + OPTLEN_SACK_BLOCK * ns : 0);
}

size_t tcp_opts_write(const tcp_opts *o, uint8_t *p)
{
	uint8_t *start = p;
	/* most segments carry no SACK blocks: no room to work out */
	size_t ns = o->nsack ? opts_nsack(o, opts_base_len(o)) : 0;
	if (o->mss) {
		wr32(p, (uint32_t)TCPOPT_MSS << 24 | OPTLEN_MSS << 16 | o->mss);
		p += 4;
	}
	if (o->has_ts) {
		wr32(p, o->sack_ok
		     ? (uint32_t)TCPOPT_SACK_PERM << 24 | OPTLEN_SACK_PERM << 16 |
		       TCPOPT_TIMESTAMP << 8 | OPTLEN_TIMESTAMP
		     : (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
		       TCPOPT_TIMESTAMP << 8 | OPTLEN_TIMESTAMP);
		wr32(p + 4, o->ts_val);
		wr32(p + 8, o->ts_ecr);
		p += 12;
	} else if (o->sack_ok) {
		wr32(p, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
		     TCPOPT_SACK_PERM << 8 | OPTLEN_SACK_PERM);
		p += 4;
	}
	if (o->wscale >= 0) {
		wr32(p, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_WSCALE << 16 |
		     OPTLEN_WSCALE << 8 | (uint8_t)o->wscale);
		p += 4;
	}
	if (ns) {
		wr32(p, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
		     TCPOPT_SACK << 8 | (uint32_t)(OPTLEN_SACK_BASE + OPTLEN_SACK_BLOCK * ns));
		p += 4;
		for (size_t i = 0; i < ns; i++) {
			wr32(p, o->sack[i].left);
			wr32(p + 4, o->sack[i].right);
			p += 8;
		}
	}
	if (o->has_fo) {
		size_t room = fo_room(o);
		p[0] = TCPOPT_FASTOPEN;
		p[1] = (uint8_t)(OPTLEN_FO_BASE + o->fo_len);
		for (size_t i = 0; i < o->fo_len; i++)
			p[2 + i] = o->fo_cookie[i];
		for (size_t i = OPTLEN_FO_BASE + o->fo_len; i < room; i++)
			p[i] = TCPOPT_NOP;
		p += room;
	}
	return (size_t)(p - start);
}
