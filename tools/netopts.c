/*
 * Options shared by `handshake serve` and `handshake connect`, the loop
 * set-up and the trace printers.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "link/dev.h"
#include "link/xdp.h"
#include "netcmd.h"
#include "trace/trace.h"

bool net_opt_is(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return !strncmp(arg, opt, n) && (arg[n] == '\0' || arg[n] == '=');
}

const char *net_opt_value(const char *prog, int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	fprintf(stderr, "handshake %s: %s needs a value\n", prog, opt);
	return NULL;
}

/* "0.05" or "5%" -> 0.05 */
static int parse_prob(const char *v, double *p)
{
	char *end;

	errno = 0;
	*p = strtod(v, &end);
	if (errno || end == v)
		return -1;
	if (*end == '%') {
		*p /= 100;
		end++;
	}
	return *end || !(*p >= 0 && *p <= 1) ? -1 : 0;
}

/* Milliseconds, fractions allowed: "50", "0.5". */
static int parse_ms(const char *v, uint64_t *ns)
{
	char *end;
	double ms;

	errno = 0;
	ms = strtod(v, &end);
	if (errno || end == v || *end || !(ms >= 0 && ms < 1e9))
		return -1;
	*ns = (uint64_t)(ms * 1e6);
	return 0;
}

int net_parse_seconds(const char *v, uint64_t *ns)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(v, &end);
	if (errno || end == v || *end || !(s >= 0 && s <= 1e6))
		return -1;
	*ns = (uint64_t)(s * 1e9);
	return 0;
}

static int bad(net_opts *o, const char *what, const char *v)
{
	fprintf(stderr, "handshake %s: bad %s '%s'\n", o->prog, what, v);
	return -1;
}

int net_opt_parse(net_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;
	char *end;

	if (!strcmp(a, "--stats")) {
		o->stats = true;
		return 1;
	}
	if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
		o->quiet = true;
		return 1;
	}
	if (!strcmp(a, "--cross-fins")) {
		o->ns.cross_fins = true;
		return 1;
	}
	if (!strcmp(a, "--uring")) {
		o->ns.uring = true;
		return 1;
	}
	if (!strcmp(a, "--no-steer")) {
		o->ns.no_steer = true;
		return 1;
	}
	if (!strcmp(a, "--steer-deny")) {
		o->ns.steer_deny = true;
		return 1;
	}
	static const char *const with_value[] = {
		"--tun", "--tap", "--addr", "--gw", "--host-addr", "--pcap", "--trace",
		"--trace-file", "--loss", "--delay", "--dup", "--reorder", "--seed",
		"--mtu", "--drain-timeout", "--report", "--ecn", "--ce", "--xdp", "--threads",
		"--queues", "--offload", "--offload-deny", "--stall", "--pacing-rate", NULL,
	};
	const char *opt = NULL;
	for (int k = 0; with_value[k]; k++)
		if (net_opt_is(a, with_value[k]))
			opt = with_value[k];
	if (!opt)
		return 0;
	if (!(v = net_opt_value(o->prog, argc, argv, i, opt)))
		return -1;
	if (!strcmp(opt, "--tun")) {
		o->ns.tun = v;
	} else if (!strcmp(opt, "--tap")) {
		o->ns.tap = v;
	} else if (!strcmp(opt, "--xdp")) {
		o->ns.xdp = v;
	} else if (!strcmp(opt, "--threads") || !strcmp(opt, "--queues")) {
		unsigned long n = strtoul(v, &end, 10);
		if (end == v || *end || n < 1 || n > 64)
			return bad(o, !strcmp(opt, "--threads") ? "thread count (1..64)" :
				   "queue count (1..64)", v);
		if (!strcmp(opt, "--threads"))
			o->threads = (unsigned)n;
		else
			o->ns.queues = (unsigned)n;
	} else if (!strcmp(opt, "--offload") || !strcmp(opt, "--offload-deny")) {
		unsigned feat;
		if (tun_features_parse(v, &feat) < 0)
			return bad(o, "offload list (csum,tso4,tso6,uso,tx-gso, all, none)", v);
		if (!strcmp(opt, "--offload"))
			o->ns.offload = v;
		else
			o->ns.offload_deny = v;
	} else if (!strcmp(opt, "--addr")) {
		hsk_addr ad;
		unsigned prefix;
		const char *why;
		if (hsk_parse_cidr_addr(v, &ad, &prefix) < 0)
			return bad(o, v[0] == '[' ? "address (no brackets in --addr: "
				   "2001:2::2/64)" : "address (A.B.C.D/PREFIX or IPV6/PREFIX)", v);
		if (hsk_netspec_add_addr(&o->ns, &ad, prefix, &why) < 0) {
			fprintf(stderr, "handshake %s: --addr %s: %s\n", o->prog, v, why);
			return -1;
		}
	} else if (!strcmp(opt, "--gw")) {
		hsk_addr ad;
		if (hsk_addr_parse(v, &ad) < 0 || v[0] == '[')
			return bad(o, "gateway (A.B.C.D or IPV6)", v);
		if (ad.family == HSK_AF_INET6)
			o->ns.gw6 = ad;
		else
			o->ns.gw = ad.v4;
	} else if (!strcmp(opt, "--host-addr")) {
		hsk_addr ad;
		if (!strcmp(v, "none"))
			o->ns.host_addr = UINT32_MAX;
		else if (hsk_addr_parse(v, &ad) < 0 || v[0] == '[')
			return bad(o, "host address (A.B.C.D, IPV6 or none)", v);
		else if (ad.family == HSK_AF_INET6)
			o->ns.host_addr6 = ad;
		else
			o->ns.host_addr = ad.v4;
	} else if (!strcmp(opt, "--pcap")) {
		o->ns.pcap = v;
	} else if (!strcmp(opt, "--trace")) {
		if (!strcmp(v, "text"))
			o->trace = NET_TRACE_TEXT;
		else if (!strcmp(v, "json"))
			o->trace = NET_TRACE_JSON;
		else
			return bad(o, "trace format (text or json)", v);
	} else if (!strcmp(opt, "--trace-file")) {
		/* Opened by net_loop_open, once the whole command line is
		 * known to be good: a rejected one must not truncate it. */
		o->trace_path = v;
	} else if (!strcmp(opt, "--report")) {
		o->report = v;
	} else if (!strcmp(opt, "--loss")) {
		if (parse_prob(v, &o->ns.loss) < 0)
			return bad(o, "loss probability", v);
	} else if (!strcmp(opt, "--ce")) {
		if (parse_prob(v, &o->ns.ce) < 0)
			return bad(o, "CE mark probability", v);
	} else if (!strcmp(opt, "--dup")) {
		if (parse_prob(v, &o->ns.dup) < 0)
			return bad(o, "duplication probability", v);
	} else if (!strcmp(opt, "--reorder")) {
		if (parse_prob(v, &o->ns.reorder) < 0)
			return bad(o, "reordering probability", v);
	} else if (!strcmp(opt, "--delay")) {
		if (parse_ms(v, &o->ns.delay_ns) < 0)
			return bad(o, "delay (milliseconds)", v);
	} else if (!strcmp(opt, "--stall")) {
		/* MS@N: the path stops for MS once N packets have entered */
		const char *at = strchr(v, '@');
		char ms[32];
		unsigned long n;
		if (!at || (size_t)(at - v) >= sizeof(ms))
			return bad(o, "stall (MS@PACKETS)", v);
		memcpy(ms, v, (size_t)(at - v));
		ms[at - v] = 0;
		errno = 0;
		n = strtoul(at + 1, &end, 10);
		if (parse_ms(ms, &o->ns.stall_ns) < 0 || !o->ns.stall_ns || errno ||
		    end == at + 1 || *end || n > UINT32_MAX)
			return bad(o, "stall (MS@PACKETS)", v);
		o->ns.stall_after = (unsigned)n;
	} else if (!strcmp(opt, "--seed")) {
		errno = 0;
		o->ns.seed = strtoull(v, &end, 0);
		if (errno || end == v || *end)
			return bad(o, "seed", v);
		o->seed_given = true;
	} else if (!strcmp(opt, "--drain-timeout")) {
		if (net_parse_seconds(v, &o->drain_ns) < 0)
			return bad(o, "drain timeout (seconds)", v);
	} else if (!strcmp(opt, "--ecn")) {
		if (strcmp(v, "0") && strcmp(v, "1") && strcmp(v, "2"))
			return bad(o, "ECN mode (0, 1 or 2)", v);
		o->ecn_given = true;
		o->ecn = (uint8_t)(v[0] - '0');
	} else if (!strcmp(opt, "--pacing-rate")) {
		unsigned long r = strtoul(v, &end, 10);
		if (!strcmp(v, "auto"))
			o->pacing = -1;
		else if (end == v || *end || r < 1 || r > INT32_MAX)
			return bad(o, "pacing rate (bytes/s, or auto)", v);
		else
			o->pacing = (int)r;
	} else if (!strcmp(opt, "--mtu")) {
		unsigned long m = strtoul(v, &end, 10);
		if (end == v || *end || m < 68 || m > 65535)
			return bad(o, "MTU (68..65535)", v);
		o->mtu = (unsigned)m;
	}
	return 1;
}

int net_opt_check(net_opts *o)
{
	if (!!o->ns.tun + !!o->ns.tap + !!o->ns.xdp != 1) {
		fprintf(stderr, "handshake %s: give one of --tun NAME, --tap NAME or --xdp IFNAME\n",
			o->prog);
		return -1;
	}
	if (!o->ns.tun && (o->ns.offload || o->ns.uring || o->ns.no_steer || o->ns.steer_deny)) {
		fprintf(stderr, "handshake %s: --offload, --uring, --no-steer and --steer-deny are TUN options\n",
			o->prog);
		return -1;
	}
	if (o->ns.tap && ((o->threads && o->threads > 1) || o->ns.queues > 1)) {
		fprintf(stderr, "handshake %s: a TAP device has one queue: no --threads or --queues "
			"over 1\n", o->prog);
		return -1;
	}
	if (o->threads && o->ns.queues && o->ns.queues % o->threads) {
		fprintf(stderr, "handshake %s: --queues %u is not a multiple of --threads %u\n",
			o->prog, o->ns.queues, o->threads);
		return -1;
	}
	if (!o->ns.addr && !o->ns.naddr6) {
		fprintf(stderr, "handshake %s: --addr A.B.C.D/PREFIX is required (or "
			"IPV6/PREFIX)\n", o->prog);
		return -1;
	}
	if (o->ns.gw6.family && (!o->ns.naddr6 || !(o->ns.tap || o->ns.xdp))) {
		fprintf(stderr, "handshake %s: an IPv6 --gw needs --tap or --xdp and an IPv6 "
			"--addr\n", o->prog);
		return -1;
	}
	if (o->ns.host_addr6.family && !o->ns.naddr6) {
		fprintf(stderr, "handshake %s: an IPv6 --host-addr needs an IPv6 --addr\n",
			o->prog);
		return -1;
	}
	if (o->ns.host_addr6.family && o->ns.host_addr == UINT32_MAX) {
		fprintf(stderr, "handshake %s: --host-addr none and an IPv6 --host-addr\n",
			o->prog);
		return -1;
	}
	if (!o->seed_given && getrandom(&o->ns.seed, sizeof(o->ns.seed), 0) != sizeof(o->ns.seed))
		o->ns.seed = hsk_now_ns();
	return 0;
}

void net_opt_usage(FILE *f)
{
	fprintf(f,
		"device:\n"
		"  --tun NAME | --tap NAME   attach to (or create) this device\n"
		"  --xdp IFNAME              AF_XDP on this Ethernet interface (a veth end):\n"
		"                            one XDP socket per queue, ARP and ND as on TAP\n"
		"  --addr A.B.C.D/PREFIX     handshake's address (198.18.0.0/15 for tests);\n"
		"  --addr IPV6/PREFIX        repeat it for IPv6 (2001:2::/48 for tests), up\n"
		"                            to 4 (IPv6 alone is fine)\n"
		"  --host-addr A.B.C.D|IPV6|none  the kernel side's address of that family\n"
		"                            when the device has none (default: first\n"
		"                            other host of the (first) prefix)\n"
		"  --gw A.B.C.D|IPV6         TAP, XDP: next hop outside the prefixes (one of\n"
		"                            each family; IPv6: link-local or on-link)\n"
		"  --mtu N                   override the device MTU\n"
		"TCP:\n"
		"  --ecn 0|1|2               ECN as Linux's tcp_ecn: 1 ask for it on our\n"
		"                            SYNs, 2 (default) only accept it, 0 never\n"
		"  --pacing-rate N|auto      pace the connections (SO_MAX_PACING_RATE): at\n"
		"                            most N bytes/s, or at the window's rate\n"
		"scaling (docs/scale.md):\n"
		"  --threads N               N shards: a stack per thread, each pinned to a\n"
		"                            core (default: one per core; 1 on TAP or on a\n"
		"                            TUN device that exists without multi_queue)\n"
		"  --queues N                device queues (multi-queue TUN, XSKs), a multiple\n"
		"                            of the threads (default: one per thread; AF_XDP:\n"
		"                            the interface's receive queues)\n"
		"  --offload LIST|all|none   TUN offloads: csum,tso4,tso6,uso,tx-gso (those\n"
		"                            the kernel lacks are left off; default none)\n"
		"  --uring                   TUN: batched reads and writes through io_uring\n"
		"  --no-steer                multi-queue TUN without the eBPF steering\n"
		"                            program: packets reaching the wrong shard are\n"
		"                            handed over (for tests; also what happens when\n"
		"                            the program cannot be attached)\n"
		"  --offload-deny LIST       tests: the kernel seems to refuse these offloads\n"
		"  --steer-deny              tests: the steering program's attach fails\n"
		"impairment (both directions):\n"
		"  --loss P --dup P --reorder P   probabilities, 0.05 or 5%%\n"
		"  --delay MS                one-way delay added to every packet\n"
		"  --stall MS@N              at the Nth packet the path stops for MS (it\n"
		"                            and what follows are held), then lets them\n"
		"                            go in order\n"
		"  --ce P                    mark ECT packets CE (congestion experienced)\n"
		"  --seed N                  replayable run: keys (ISNs, cookies, ports) and\n"
		"                            impairments from N (default: keys from the OS)\n"
		"  --cross-fins              hold the first FIN until the other side's\n"
		"                            arrives: both FINs cross (simultaneous close)\n"
		"observation:\n"
		"  --pcap FILE               record every packet (LINKTYPE_RAW)\n"
		"  --trace text|json         every state change and segment\n"
		"  --trace-file FILE         write the trace there (default stderr)\n"
		"  --report FILE             write an HTML report of the run at exit\n"
		"                            (the trace is kept in a temporary file)\n"
		"  --stats                   connection table and counters at exit;\n"
		"                            SIGUSR1 prints them at any time\n"
		"  --quiet                   no progress messages\n"
		"stopping (SIGINT, SIGTERM):\n"
		"  --drain-timeout S         FIN to every connection, then S seconds\n"
		"                            for the peers to close before the rest\n"
		"                            are reset (default 2; 0: reset at once)\n");
}

const char *net_endpoint(uint32_t addr, uint16_t port, char *buf, size_t cap)
{
	char a[16];

	if (!addr && !port)
		snprintf(buf, cap, "*:*");
	else if (!port)
		snprintf(buf, cap, "%s:*", hsk_ipv4_str(addr, a));
	else
		snprintf(buf, cap, "%s:%u", hsk_ipv4_str(addr, a), port);
	return buf;
}

const char *net_endpoint6(int family, uint32_t v4, const uint8_t v6[16], uint16_t port,
			  char *buf, size_t cap)
{
	hsk_addr a;
	char t[HSK_ADDRSTRLEN];

	if (family != HSK_AF_INET6)
		return net_endpoint(v4, port, buf, cap);
	a = hsk_addr_v6(v6);
	hsk_addr_port_str(&a, port, t);
	if (!port)
		strcpy(strrchr(t, ':') + 1, "*");
	snprintf(buf, cap, "%s", t);
	return buf;
}

const char *net_endpoint_addr(const hsk_addr *a, uint16_t port, char *buf, size_t cap)
{
	return net_endpoint6(a->family, a->v4, a->v6, port, buf, cap);
}

int net_parse_endpoint(const char *prog, const char *what, const char *s, hsk_addr *a,
		       uint16_t *port)
{
	char host[HSK_ADDRSTRLEN];
	const char *colon, *p;
	unsigned long v;
	char *end;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':') {
			fprintf(stderr, "handshake %s: bad %s '%s': [IPV6]:PORT, as "
				"[2001:2::2]:80\n", prog, what, s);
			return -1;
		}
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon) {
			fprintf(stderr, "handshake %s: bad %s '%s': an IPv6 address takes "
				"brackets before the port, as [2001:2::2]:80\n", prog, what, s);
			return -1;
		}
	}
	if (!colon) {
		fprintf(stderr, "handshake %s: bad %s '%s': want A.B.C.D:PORT or "
			"[IPV6]:PORT\n", prog, what, s);
		return -1;
	}
	n = (size_t)(colon - s);
	if (n < sizeof(host)) {
		memcpy(host, s, n);
		host[n] = '\0';
	}
	if (n >= sizeof(host) || n == 0 || hsk_addr_parse(host, a) < 0) {
		fprintf(stderr, "handshake %s: bad address '%.*s' in %s '%s'\n", prog,
			(int)(n < 64 ? n : 64), s, what, s);
		return -1;
	}
	p = colon + 1;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (!*p || *end || errno || v < 1 || v > 65535 || !isdigit((unsigned char)*p)) {
		fprintf(stderr, "handshake %s: bad %s '%s': port 1..65535\n", prog, what, s);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

static void trace_text(net_opts *o, const hsk_trace_event *ev)
{
	static const char *const kinds[] = { "tcb", "req", "tw", "listen", "-" };
	char l[HSK_ADDRSTRLEN], r[HSK_ADDRSTRLEN], fl[40];
	double t = (double)(ev->t_ns - o->t0) / 1e9;
	FILE *f = o->trace_out;

	net_endpoint6(ev->family, ev->tuple.laddr, ev->laddr6, ev->tuple.lport, l, sizeof(l));
	net_endpoint6(ev->family, ev->tuple.raddr, ev->raddr6, ev->tuple.rport, r, sizeof(r));
	fprintf(f, "%12.6f %-21s %-21s %-6s ", t, l, r, ev->obj < 5 ? kinds[ev->obj] : "?");
	if (ev->kind == HSK_EV_STATE) {
		fprintf(f, "%s -> %s (%s)\n", hsk_state_name(ev->from),
			hsk_state_name(ev->to), ev->cause ? ev->cause : "");
		return;
	}
	if (ev->kind == HSK_EV_CC)
		return;         /* one per segment sent: for JSON and reports */
	if (ev->kind == HSK_EV_QUEUE) {
		fprintf(f, "queue syn_q=%" PRIu32 " accept_q=%" PRIu32 "/%" PRIu32 "\n",
			ev->syn_q, ev->accept_q, ev->backlog);
		return;
	}
	fprintf(f, "%s [%s] seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32 " win=%" PRIu32,
		ev->kind == HSK_EV_TX ? "tx  " : ev->kind == HSK_EV_RX ? "rx  " : "drop",
		trace_flags(ev->flags, fl, sizeof(fl)), ev->seq, ev->ack, ev->len, ev->win);
	if (ev->mss)
		fprintf(f, " mss=%u", ev->mss);
	if (ev->wscale >= 0)
		fprintf(f, " ws=%d", ev->wscale);
	if (ev->sack_ok)
		fprintf(f, " sackOK");
	if (ev->has_ts)
		fprintf(f, " ts");
	if (ev->kind == HSK_EV_DROP && ev->reason)
		fprintf(f, " reason=%s", ev->reason);
	fputc('\n', f);
}

/* Called by every shard's stack, each in its own thread: an event's
 * line is written whole (the stream is locked around it). */
static void on_trace(void *ctx, const hsk_trace_event *ev)
{
	net_opts *o = ctx;
	/* times relative to the start, as in the text trace */
	hsk_trace_event e = *ev;

	e.t_ns -= o->t0;
	if (o->report_tmp) {
		flockfile(o->report_tmp);
		trace_json_line(o->report_tmp, o->prog, &e);
		funlockfile(o->report_tmp);
	}
	if (o->trace == NET_TRACE_NONE)
		return;
	flockfile(o->trace_out);
	if (o->trace == NET_TRACE_JSON)
		trace_json_line(o->trace_out, o->prog, &e);
	else
		trace_text(o, ev);
	funlockfile(o->trace_out);
}

/* --threads: given, or one per core as the device allows. False after
 * printing why not. */
static bool net_threads(net_opts *o)
{
	const char *why = NULL;
	unsigned def = hsk_netspec_default_shards(&o->ns, &why);

	if (!o->threads) {
		o->threads = def;
		if (why && !o->quiet)
			fprintf(stderr, "%s: 1 thread: %s\n", o->prog, why);
	}
	if ((o->threads > 1 || o->ns.queues > 1) && o->ns.tun && tun_existing_mq(o->ns.tun) == 0) {
		fprintf(stderr, "handshake %s: %s exists without multi_queue: one queue, one "
			"thread (make it with `ip tuntap add dev %s mode tun multi_queue`, or let "
			"handshake create it)\n", o->prog, o->ns.tun, o->ns.tun);
		return false;
	}
	return true;
}

/* Said once per address: shard 0's loop is the one that tells. */
static void on_addr_taken(void *ctx, hsk_loop *l, const hsk_addr *a)
{
	net_opts *o = ctx;
	char buf[HSK_ADDRSTRLEN];

	(void)l;
	fprintf(stderr, "handshake %s: %s is taken on the link (duplicate address "
		"detection): not used\n", o->prog, hsk_addr_str(a, buf));
}

hsk_loop *net_loop_open(net_opts *o)
{
	char err[256];
	hsk_config cfg;
	hsk_loop *l;

	if (o->trace_path && !o->trace_out) {
		o->trace_out = fopen(o->trace_path, "w");
		if (!o->trace_out) {
			fprintf(stderr, "handshake %s: %s: %s\n", o->prog, o->trace_path,
				strerror(errno));
			return NULL;
		}
		setvbuf(o->trace_out, NULL, _IOLBF, 0);
	}
	hsk_config_default(&cfg);
	cfg.addr = o->ns.addr;
	/* Secret keys from the OS unless a replay was asked for with --seed
	 * (then ISNs and cookies are predictable: tests only). The
	 * impairment layer's coin flips use ns.seed either way. */
	cfg.seed = o->seed_given && o->ns.seed != HSK_SEED_OS ? o->ns.seed : HSK_SEED_OS;
	cfg.mtu = (uint16_t)o->mtu;
	if (o->ecn_given)
		cfg.ecn = o->ecn;
	cfg.tcp_fastopen |= o->fastopen_bits;
	if (!o->trace_out)
		o->trace_out = stderr;
	o->t0 = hsk_now_ns();
	if (o->report && !(o->report_tmp = tmpfile())) {
		fprintf(stderr, "handshake %s: --report: no temporary file: %s\n", o->prog,
			strerror(errno));
		return NULL;
	}
	if (o->trace || o->report_tmp) {
		cfg.trace = on_trace;
		cfg.trace_ctx = o;
	}
	if (!net_threads(o))
		return NULL;
	o->sh = hsk_shards_open(&o->ns, &cfg, o->threads, err, sizeof(err));
	if (!o->sh) {
		fprintf(stderr, "handshake %s: %s\n", o->prog, err);
		return NULL;
	}
	l = hsk_shards_loop(o->sh, 0);
	hsk_loop_on_addr_taken(l, on_addr_taken, o);
	return l;
}

const char *net_shards_desc(net_opts *o, char *buf, size_t cap)
{
	unsigned n = hsk_shards_count(o->sh), q = 0;
	hsk_dev *d = hsk_loop_dev(hsk_shards_loop(o->sh, 0));
	char feat[64];
	size_t k;

	for (unsigned i = 0; i < n; i++)
		q += hsk_loop_dev_count(hsk_shards_loop(o->sh, i));
	k = (size_t)snprintf(buf, cap, "%u shard%s on %u queue%s", n, n == 1 ? "" : "s",
			     q, q == 1 ? "" : "s");
	if (k < cap && o->ns.offload)
		k += (size_t)snprintf(buf + k, cap - k, ", offloads %s",
				      tun_features_str(tun_features(d), feat, sizeof(feat)));
	if (k < cap && o->ns.uring)
		k += (size_t)snprintf(buf + k, cap - k, ", io_uring");
	if (k < cap && tun_steer_note(d))
		k += (size_t)snprintf(buf + k, cap - k,
				      ", no steering program (%s): strays handed over",
				      tun_steer_note(d));
	if (k < cap && xdp_mode(d))
		snprintf(buf + k, cap - k, ", xdp %s", xdp_mode(d));
	return buf;
}

int net_outputs_check(net_opts *o, hsk_loop *l, bool final)
{
	hsk_dev *d = hsk_loop_dev(l);
	int e = final ? pcap_dev_flush(d) : pcap_dev_error(d);

	if (e && !o->pcap_failed) {
		fprintf(stderr, "handshake %s: %s: %s (the capture stops here)\n", o->prog,
			o->ns.pcap, strerror(-e));
		o->pcap_failed = true;
	}
	if (o->trace_out && o->trace_out != stderr && !o->trace_failed &&
	    ((final && fflush(o->trace_out) != 0) || ferror(o->trace_out))) {
		fprintf(stderr, "handshake %s: %s: write error\n", o->prog, o->trace_path);
		o->trace_failed = true;
	}
	return o->pcap_failed || o->trace_failed ? -1 : 0;
}

int net_opts_done(net_opts *o)
{
	int rc = 0;

	if (o->trace_out && o->trace_out != stderr) {
		/* A full disk shows in the stream's error flag or at the
		 * last flush: either way the trace is incomplete. */
		bool bad = ferror(o->trace_out);
		int e;

		errno = 0;
		e = fclose(o->trace_out) != 0 ? errno : 0;
		if ((e || bad) && !o->trace_failed)
			fprintf(stderr, "handshake %s: %s: %s\n", o->prog, o->trace_path,
				e ? strerror(e) : "write error");
		if (e || bad || o->trace_failed)
			rc = -1;
	}
	o->trace_out = NULL;
	if (o->report_tmp)
		fclose(o->report_tmp);
	o->report_tmp = NULL;
	return rc;
}
