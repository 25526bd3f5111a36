/*
 * The syn-flood scenario: 32,768 SYNs from spoofed addresses in
 * 198.19.0.0/16 (nobody answers there: the network drops the SYN,ACKs as
 * unroutable) reach a listener with backlog 64 within two seconds. The
 * first 64 fill the SYN queue; every later one is answered with a SYN
 * cookie and nothing is kept (RFC 4987 §3.6). A real client connecting in
 * the middle of the flood gets a cookie too, completes the handshake with
 * it, exchanges 64 bytes each way and closes. The queued requests time out
 * after their SYN,ACK retries (63 s). Summary only: its trace, about
 * 100,000 events, is for --html and --format json.
 */
#include <inttypes.h>

#include "demo.h"

#define FLOOD_SYNS 32768
#define FLOOD_BATCH 512
#define FLOOD_SPACING (31 * DEMO_MS)        /* 64 batches in about 2 s */
#define FLOOD_BACKLOG 64
#define FLOOD_NET 0xc6130000u               /* 198.19.0.0/16 */

const char *const demo_flood_counters[] = {
	"PassiveOpens", "ListenDrops", "TCPReqQFullDoCookies", "SyncookiesSent",
	"SyncookiesRecv", "SyncookiesFailed", "TCPSynRetrans", "InSegs", "OutSegs", NULL,
};

typedef struct flood_client {
	int csd, ssd, lsd;
	bool connected, done;
} flood_client;

static void flood_batch(demo *d, uint64_t *rng, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		hsk_tuple t;

		*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
		t.laddr = FLOOD_NET | (uint32_t)((*rng >> 33) & 0xffff);
		t.lport = (uint16_t)(1024 + ((*rng >> 17) % 64000));
		t.raddr = DEMO_SERVER_ADDR;
		t.rport = 80;
		demo_inject(d, DEMO_CLIENT, &t, HSK_TH_SYN, (uint32_t)(*rng >> 20), 0, 65535);
	}
}

void demo_run_syn_flood(demo *d)
{
	uint64_t rng = d->o->seed * 0x9e3779b97f4a7c15ull + 1;
	flood_client fc = { -1, -1, -1, false, false };
	unsigned sent = 0, batch = 0;
	long n;

	fc.lsd = demo_listen(d, 80, FLOOD_BACKLOG);
	if (fc.lsd < 0)
		return;
	demo_run_for(d, 1 * DEMO_MS);
	while (sent < FLOOD_SYNS) {
		unsigned k = FLOOD_SYNS - sent < FLOOD_BATCH ? FLOOD_SYNS - sent : FLOOD_BATCH;

		demo_stack(d, DEMO_SERVER);
		flood_batch(d, &rng, k);
		sent += k;
		if (++batch == 16) {
			/* in the middle of the flood, a real client */
			fc.csd = demo_connect(d, DEMO_CLIENT, 0, DEMO_SERVER_ADDR, 80);
		}
		demo_run_for(d, FLOOD_SPACING);
	}
	demo_expect(d, fc.csd >= 0, "client: no socket");
	if (fc.csd >= 0) {
		int rc = demo_wait_connected(d, DEMO_CLIENT, fc.csd, 60 * DEMO_S);

		demo_expect(d, rc == 0, "client: connect during the flood: %s", hsk_errno_name(rc));
		fc.ssd = demo_wait_accept(d, fc.lsd, 10 * DEMO_S);
		demo_expect(d, fc.ssd >= 0, "server: accept: %s", hsk_errno_name(fc.ssd));
	}
	if (fc.ssd >= 0) {
		demo_send(d, DEMO_CLIENT, fc.csd, 64);
		n = demo_recv(d, DEMO_SERVER, fc.ssd, 64, 10 * DEMO_S);
		demo_expect(d, n == 64, "server: received %ld bytes, not 64", n);
		demo_send(d, DEMO_SERVER, fc.ssd, 64);
		n = demo_recv(d, DEMO_CLIENT, fc.csd, 64, 10 * DEMO_S);
		demo_expect(d, n == 64, "client: received %ld bytes, not 64", n);
		demo_close(d, DEMO_CLIENT, fc.csd);
		demo_recv(d, DEMO_SERVER, fc.ssd, 0, 10 * DEMO_S);
		demo_close(d, DEMO_SERVER, fc.ssd);
	}
	demo_say(d, "%u SYNs from spoofed addresses in 198.19.0.0/16 within %.1f s; "
		 "backlog %d", sent, (double)batch * FLOOD_SPACING / 1e9, FLOOD_BACKLOG);
	demo_say(d, "SYN cookies sent: %" PRIu64 ", redeemed: %" PRIu64,
		 hsk_counter_by_name(demo_stack(d, DEMO_SERVER), "SyncookiesSent"),
		 hsk_counter_by_name(demo_stack(d, DEMO_SERVER), "SyncookiesRecv"));
	demo_expect(d, hsk_counter_by_name(demo_stack(d, DEMO_SERVER), "SyncookiesRecv") >= 1,
		    "the client's handshake did not go through a SYN cookie");
	if (fc.ssd >= 0)
		demo_say(d, "the real client connected with a SYN cookie and exchanged 64 bytes "
			 "each way");
	demo_expect(d, demo_run_until_idle(d, 300 * DEMO_S), "not idle after 300 s");
	hsk_usage u;
	hsk_stack_usage(demo_stack(d, DEMO_SERVER), &u);
	demo_expect(d, u.requests == 0 && u.tcbs == 0, "server: %zu requests and %zu TCBs left",
		    u.requests, u.tcbs);
}
