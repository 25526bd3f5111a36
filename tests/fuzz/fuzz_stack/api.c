/*
 * fuzz_stack: the socket operations -- every call of the API on A or B,
 * with what was written and read checked against the stream pattern. See
 * fuzz_stack.c.
 */
#include "fuzz_stack/harness.h"

void sd_add(side *x, int sd)
{
	if (sd < 0 || sd >= MAX_SD)
		return;
	x->tx_off[sd] = x->rx_off[sd] = 0;
	for (unsigned i = 0; i < x->nsd; i++)
		if (x->sds[i] == sd)
			return;
	if (x->nsd < MAX_SD)
		x->sds[x->nsd++] = sd;
}

static void sd_del(side *x, int sd)
{
	for (unsigned i = 0; i < x->nsd; i++)
		if (x->sds[i] == sd) {
			x->sds[i] = x->sds[--x->nsd];
			return;
		}
}

/* urgent: as urgent data (hsk_sendto's HSK_MSG_OOB), in line all the
 * same: the stream's bytes are checked as any others. */
static void do_send(side *x, int sd, size_t len, bool urgent)
{
	static uint8_t buf[20000];
	hsk_tuple tu = { 0 };
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	uint64_t off = known ? x->tx_off[sd] : 0;
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(&tu, off + i);
	long n = urgent ? hsk_sendto(x->s, sd, buf, len, HSK_MSG_OOB, 0, 0) :
			  hsk_send(x->s, sd, buf, len);
	if (n > (long)len)
		FAIL("%s: send of %zu returned %ld", x->name, len, n);
	if (n > 0 && known)
		x->tx_off[sd] += (uint64_t)n;
}

/* Bytes read from sd at rx_off: checked against what was sent. */
static void check_read(side *x, int sd, const hsk_tuple *tu, const uint8_t *b, long n)
{
	hsk_tuple snd = { .laddr = tu->raddr, .raddr = tu->laddr, .lport = tu->rport,
			  .rport = tu->lport };
	if (tainted(tu) || (allow & AL_STREAM))
		return;
	for (long i = 0; i < n; i++) {
		uint8_t want = pattern(&snd, x->rx_off[sd] + (uint64_t)i);
		if (b[i] != want)
			FAIL("%s :%u<-:%u: stream byte %llu is %02x, %02x was sent", x->name,
			     tu->lport, tu->rport,
			     (unsigned long long)(x->rx_off[sd] + (uint64_t)i), b[i], want);
	}
}

static void do_recv(side *x, int sd, size_t len)
{
	static uint8_t buf[20000];
	hsk_tuple tu;
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	long n = hsk_recv(x->s, sd, buf, len);
	if (n > (long)len)
		FAIL("%s: recv of %zu returned %ld", x->name, len, n);
	if (n <= 0 || !known)
		return;
	check_read(x, sd, &tu, buf, n);
	x->rx_off[sd] += (uint64_t)n;
}

/* cnt pieces of buf (cnt <= 8), their lengths from the input, none past
 * cap bytes in all; the total. */
static size_t read_iov(rd *r, uint8_t *buf, size_t cap, hsk_iovec *iov, int cnt)
{
	size_t total = 0;
	for (int i = 0; i < cnt; i++) {
		size_t len = u16(r) % 3000;
		if (total + len > cap)
			len = 0;
		iov[i] = (hsk_iovec){ .base = buf + total, .len = len };
		total += len;
	}
	return total;
}

/* sendv: the stream's next bytes, gathered from up to 8 pieces. */
static void do_sendv(side *x, int sd, uint16_t arg, rd *r)
{
	static uint8_t buf[20000];
	hsk_iovec iov[8];
	hsk_tuple tu = { 0 };
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	uint64_t off = known ? x->tx_off[sd] : 0;
	int cnt = (int)(arg % 9);
	size_t total = read_iov(r, buf, sizeof buf, iov, cnt);
	for (size_t k = 0; k < total; k++)
		buf[k] = pattern(&tu, off + k);
	long n = hsk_sendv(x->s, sd, (arg & 0x8000) ? NULL : iov, cnt);
	if (n > (long)total)
		FAIL("%s: sendv of %zu returned %ld", x->name, total, n);
	if (n > 0 && known)
		x->tx_off[sd] += (uint64_t)n;
}

/* recvv into up to 8 pieces, MSG_PEEK or not (a peek moves nothing: the
 * next read sees the same bytes). */
static void do_recvv(side *x, int sd, uint16_t arg, rd *r)
{
	static uint8_t buf[20000];
	hsk_iovec iov[8];
	hsk_tuple tu;
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	int cnt = (int)(arg % 9);
	size_t total = read_iov(r, buf, sizeof buf, iov, cnt);
	int flags = (arg & 0x10) ? HSK_MSG_PEEK : (arg & 0x20) ? 0x40 : 0;
	long n = hsk_recvv(x->s, sd, iov, cnt, flags);
	if (n > (long)total)
		FAIL("%s: recvv of %zu returned %ld", x->name, total, n);
	if (n <= 0 || !known)
		return;
	check_read(x, sd, &tu, buf, n);
	if (flags != HSK_MSG_PEEK) {
		x->rx_off[sd] += (uint64_t)n;
		return;
	}
	/* The same bytes again. */
	static uint8_t again[20000];
	long m = hsk_recv(x->s, sd, again, (size_t)n);
	if (m != n || memcmp(again, buf, (size_t)n))
		FAIL("%s: a read after MSG_PEEK of %ld got %ld other bytes", x->name, n, m);
	x->rx_off[sd] += (uint64_t)n;
}

/* Zero copy: borrow and release some of the run, or reserve, fill with
 * the stream's bytes and commit some. */
static void do_zerocopy(side *x, int sd, uint16_t arg, bool send)
{
	hsk_tuple tu = { 0 };
	bool known = sd >= 0 && sd < MAX_SD && hsk_sock_tuple(x->s, sd, &tu) == 0;
	if (!send) {
		const void *data;
		long n = hsk_recv_borrow(x->s, sd, &data);
		size_t take_n = n > 0 ? (size_t)(arg % ((unsigned long)n + 2)) : arg % 4;
		if (n > 0 && known)
			check_read(x, sd, &tu, data, n);
		/* More than the run (it ends where the ring's storage does)
		 * is fine while that much is readable. */
		int rc = hsk_recv_release(x->s, sd, take_n);
		if (rc == 0 && known)
			x->rx_off[sd] += take_n;
		return;
	}
	void *buf;
	long room = hsk_send_reserve(x->s, sd, &buf);
	size_t n = room > 0 ? (size_t)(arg % ((unsigned long)room + 2)) : arg % 4;
	uint64_t off = known ? x->tx_off[sd] : 0;
	for (long i = 0; i < room && (size_t)i < n; i++)
		((uint8_t *)buf)[i] = pattern(&tu, off + (uint64_t)i);
	int rc = hsk_send_commit(x->s, sd, n);
	if (rc == 0 && n && (room <= 0 || n > (size_t)room))
		FAIL("%s: committed %zu of %ld reserved", x->name, n, room);
	if (rc == 0 && known)
		x->tx_off[sd] += n;
}

/* Fast Open from a fresh socket: sendto(MSG_FASTOPEN) from a bound port
 * (so the stream's bytes are known before the tuple exists), or
 * TCP_FASTOPEN_CONNECT, connect and a first send. */
static void do_fastopen(side *x, uint16_t arg, rd *r)
{
	static uint8_t buf[4000];
	static const uint16_t ports[] = { 80, 443, 8080 };
	int sd = hsk_socket(x->s);
	sd_add(x, sd);
	if (sd < 0 || sd >= MAX_SD)
		return;
	uint32_t raddr = (arg & 0x100) ? ADDR_P : other(x)->addr;
	uint16_t rport = ports[arg % 3];
	if (arg & 0x200) {
		hsk_setsockopt(x->s, sd, HSK_TCP_FASTOPEN_CONNECT, 1);
		hsk_connect(x->s, sd, raddr, rport);
		do_send(x, sd, 1 + u16(r) % sizeof buf, false);
		return;
	}
	uint16_t lport = (uint16_t)(20000 + u16(r) % 2000);
	hsk_tuple tu = { .laddr = x->addr, .raddr = raddr, .lport = lport, .rport = rport };
	size_t len = u16(r) % sizeof buf;
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(&tu, i);
	bool bound = hsk_bind(x->s, sd, 0, lport) == 0;
	long n = hsk_sendto(x->s, sd, buf, len, HSK_MSG_FASTOPEN, raddr, rport);
	if (n > (long)len)
		FAIL("%s: sendto of %zu returned %ld", x->name, len, n);
	hsk_tuple got;
	if (hsk_sock_tuple(x->s, sd, &got) < 0)
		return;
	if (!bound || !tuple_same(&got, &tu))
		taint(&got);
	else if (n > 0)
		x->tx_off[sd] = (uint64_t)n;
}

/* The rarer calls: events, scatter/gather, peek, zero copy, Fast Open,
 * the string option and the Fast Open keys. */
static void op_api(side *x, int sd, unsigned which, uint16_t arg, rd *r)
{
	hsk_event ev[8];
	static const char *const ccs[] = { "cubic", "newreno", "reno", "none", "bbr" };
	char name[16];
	uint8_t key[16], cur[32];
	switch (which) {
	case 0:
		while (hsk_stack_events(x->s, ev, 8) == 8)
			;
		break;
	case 1:
		do_sendv(x, sd, arg, r);
		break;
	case 2:
		do_recvv(x, sd, arg, r);
		break;
	case 3: case 4:
		do_zerocopy(x, sd, arg, which == 4);
		break;
	case 5:
		do_fastopen(x, arg, r);
		break;
	case 6:
		hsk_setsockopt_str(x->s, sd, (arg & 1) ? HSK_TCP_CONGESTION : HSK_SO_NODELAY,
				   ccs[(arg >> 1) % 5]);
		hsk_getsockopt_str(x->s, sd, HSK_TCP_CONGESTION, name, (arg >> 4) % 17);
		break;
	default:
		/* New Fast Open keys (with the old as backup, or none), or a
		 * look at them. */
		if (hsk_fastopen_key_get(x->s, cur) != 16 && hsk_fastopen_key_get(x->s, cur) != 32)
			FAIL("%s: hsk_fastopen_key_get answered neither 16 nor 32", x->name);
		if (arg & 1)
			break;
		take(r, key, 16);
		hsk_fastopen_key_set(x->s, key, (arg & 2) ? cur : NULL);
		break;
	}
}

/* An IPv6 socket's address for bind or connect: IPv4 ones v4-mapped (the
 * side's, the other's, the attacker's, IPv4's wildcard), ::, and one no
 * stack has (the stacks have IPv4 addresses only: an IPv6 connect finds
 * no source). */
static hsk_addr addr6_pick(side *x, unsigned i)
{
	uint8_t a[16] = { [10] = 0xff, [11] = 0xff };
	uint32_t v4[] = { x->addr, other(x)->addr, ADDR_P, 0 };
	if (i % 6 < 4) {
		for (int k = 0; k < 4; k++)
			a[12 + k] = (uint8_t)(v4[i % 6] >> (24 - 8 * k));
	} else {
		memset(a, 0, sizeof(a));
		if (i % 6 == 5)
			a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[15] = 1;
	}
	return hsk_addr_v6(a);
}

void op_socket(side *x, rd *r)
{
	uint8_t c = u8(r), si = u8(r);
	uint16_t arg = u16(r);
	int sd = x->nsd ? x->sds[si % x->nsd] : 0;
	if (c & 0x80)
		sd = (int)(si % 70) - 2;        /* any number, bad ones too */
	if (verbose)
		fprintf(stderr, "           %s call %u sd %d arg %u\n", x->name, c % 16, sd, arg);
	static const uint16_t ports[] = { 0, 80, 443, 8080 };
	uint32_t addrs[] = { other(x)->addr, x->addr, ADDR_P, 0 };
	hsk_tcp_info ti;
	hsk_tuple tu;
	int v;
	switch (c % 16) {
	case 0:
		/* (arg's top bit: an IPv6 socket, which takes IPv4 through
		 * v4-mapped addresses: case 1 and 3's) */
		sd_add(x, (arg & 0x8000) ? hsk_socket_family(x->s, HSK_AF_INET6) : hsk_socket(x->s));
		break;
	case 1:
		if ((arg & 0xc00) == 0x800) {
			hsk_addr a = addr6_pick(x, arg >> 4);
			hsk_bind_addr(x->s, sd, &a, ports[arg & 3]);
			break;
		}
		hsk_bind(x->s, sd, (arg & 0x100) ? x->addr : (arg & 0x200) ? ADDR_P : 0,
			 (arg & 0x400) ? arg : ports[arg & 3]);
		break;
	case 2:
		hsk_listen(x->s, sd, (int)(arg % 6) - 1);
		break;
	case 3:
		if ((arg & 0xc00) == 0x800) {
			hsk_addr a = addr6_pick(x, 1 + (arg >> 4));
			hsk_connect_addr(x->s, sd, &a, ports[1 + (arg >> 2) % 3]);
			break;
		}
		hsk_connect(x->s, sd, addrs[arg & 3],
			    (arg & 0x400) ? arg : ports[1 + (arg >> 2) % 3]);
		break;
	case 4:
		v = hsk_accept(x->s, sd, (arg & 1) ? &tu : NULL);
		sd_add(x, v);
		break;
	case 5: case 6:
		do_send(x, sd, 1 + arg % 20000, c % 16 == 6 && (arg & 0x8000));
		break;
	case 7: case 8:
		do_recv(x, sd, 1 + arg % 20000);
		break;
	case 9:
		hsk_shutdown(x->s, sd, arg % 4);
		break;
	case 10:
	case 11:
		if (c % 16 == 10)
			hsk_close(x->s, sd);
		else
			hsk_abort(x->s, sd);
		sd_del(x, sd);
		break;
	case 12: {
		/* Every option of docs/api.md (and one past the last), with
		 * small, large, negative and any values. */
		uint32_t val = u32(r);
		int vals[] = { 0, 1, (int)(val % 10), (int)(val % 100000), (int)val, -1,
			       (int)(val % 70000) };
		hsk_setsockopt(x->s, sd, arg % (HSK_SO_MAX_PACING_RATE + 2), vals[(arg >> 5) % 7]);
		break;
	}
	case 13: {
		hsk_getsockopt(x->s, sd, arg % (HSK_SO_MAX_PACING_RATE + 2), &v);
		hsk_poll(x->s, sd);
		hsk_sock_error(x->s, sd);
		hsk_sock_state(x->s, sd);
		hsk_sock_info(x->s, sd, &ti);
		hsk_sock_tuple(x->s, sd, &tu);
		/* POLLPRI exactly while urgent bytes are left to read */
		long u = hsk_sock_urgent(x->s, sd);
		int m = hsk_poll(x->s, sd);
		if (m >= 0 && (u > 0) != !!(m & HSK_POLLPRI))
			FAIL("%s: sd %d: %ld urgent bytes left but poll 0x%x", x->name, sd, u, m);
		break;
	}
	case 14:
		op_api(x, sd, (c >> 4) & 7, arg, r);
		break;
	default:
		/* A fresh connection to the other side's listeners. */
		v = hsk_socket(x->s);
		sd_add(x, v);
		hsk_connect(x->s, v, other(x)->addr, ports[1 + arg % 3]);
		break;
	}
	step_end(x, NULL, NULL);
}
