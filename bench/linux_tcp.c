/*
 * The Linux kernel's TCP over loopback (127.0.0.1), for comparison in the
 * same run.
 *
 *   linux_tcp lifecycle [SECONDS [MAX]]
 *       connect, accept, a 64-byte request and a 64-byte response, the
 *       client closes first, the server reads EOF and closes: the same
 *       lifecycle as bench/lifecycle.c, both ends in this one thread with
 *       blocking sockets (loopback delivers in softirq context, so no call
 *       waits on this thread). Rotating over 16 listening ports keeps the
 *       client's TIME_WAIT entries from exhausting the ephemeral ports.
 *       Segments per lifecycle come from the growth of Tcp OutSegs in
 *       /proc/net/snmp (this network namespace's, when run in its own).
 *   linux_tcp bulk [SECONDS]
 *       a sender and a receiver thread, 64 KiB writes and reads.
 *   linux_tcp mem [N]
 *       N idle established connections over loopback, both ends in this
 *       process; the kernel memory they take is the growth of the slab
 *       caches (/proc/slabinfo: active objects x object size, all caches:
 *       TCP socket, inode, file, dentry, ...) divided by the 2N ends. Also
 *       prints the object sizes of the TCP socket, request and TIME_WAIT
 *       caches. System-wide figures: run it on a quiet moment, in a
 *       namespace of its own. Needs root for /proc/slabinfo.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { NPORTS = 16, CHUNK = 65536 };

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "linux_tcp: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Tcp OutSegs from /proc/net/snmp (-1 if unreadable). */
static double out_segs(void)
{
	FILE *f = fopen("/proc/net/snmp", "r");
	char names[1024], vals[1024];
	double v = -1;
	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f)) {
		if (strncmp(names, "Tcp:", 4) || !fgets(vals, sizeof(vals), f))
			continue;
		char *sn, *sv, *n = strtok_r(names, " \n", &sn), *x = strtok_r(vals, " \n", &sv);
		for (; n && x; n = strtok_r(NULL, " \n", &sn), x = strtok_r(NULL, " \n", &sv))
			if (!strcmp(n, "OutSegs"))
				v = atof(x);
		break;
	}
	fclose(f);
	return v;
}

static void timeouts(int fd)
{
	/* no call may hang the benchmark */
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int listener(struct sockaddr_in *sa)
{
	int one = 1;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = 0;
	if (bind(l, (struct sockaddr *)sa, sizeof(*sa)) || listen(l, 128))
		die("bind/listen");
	socklen_t len = sizeof(*sa);
	getsockname(l, (struct sockaddr *)sa, &len);
	timeouts(l);
	return l;
}

static int lifecycle(int argc, char **argv)
{
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	long max = argc > 3 ? atol(argv[3]) : 100000000L;
	struct sockaddr_in sa[NPORTS];
	int l[NPORTS];
	for (int i = 0; i < NPORTS; i++)
		l[i] = listener(&sa[i]);
	char req[64] = { 1 }, resp[64] = { 2 }, buf[128];
	long done = 0, bad = 0;
	double segs0 = out_segs();
	double t0 = wall(), t1;
	while (done < max) {
		int i = (int)(done % NPORTS);
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0)
			die("socket");
		timeouts(c);
		if (connect(c, (struct sockaddr *)&sa[i], sizeof(sa[i]))) {
			if (errno == EADDRNOTAVAIL) { /* ports exhausted: stop here */
				close(c);
				break;
			}
			die("connect");
		}
		int s = accept(l[i], NULL, NULL);
		if (s < 0)
			die("accept");
		timeouts(s);
		bad += send(c, req, sizeof(req), 0) != (ssize_t)sizeof(req);
		bad += recv(s, buf, sizeof(buf), 0) != (ssize_t)sizeof(req);
		bad += send(s, resp, sizeof(resp), 0) != (ssize_t)sizeof(resp);
		bad += recv(c, buf, sizeof(buf), 0) != (ssize_t)sizeof(resp);
		close(c);
		bad += recv(s, buf, sizeof(buf), 0) != 0;
		close(s);
		done++;
		if ((done & 255) == 0 && wall() - t0 >= secs)
			break;
	}
	t1 = wall();
	double segs1 = out_segs();
	for (int i = 0; i < NPORTS; i++)
		close(l[i]);
	printf("linux_lc_count %ld\n", done);
	printf("linux_lc_secs %.6f\n", t1 - t0);
	printf("linux_lc_rate %.1f\n", (double)done / (t1 - t0));
	printf("linux_lc_us %.3f\n", (t1 - t0) * 1e6 / (double)(done ? done : 1));
	if (segs0 >= 0 && segs1 >= 0 && done)
		printf("linux_lc_pkts %.2f\n", (segs1 - segs0) / (double)done);
	printf("linux_lc_errors %ld\n", bad);
	return 0;
}

static volatile int stop;
static double secs_bulk;

static void *receiver(void *arg)
{
	int fd = *(int *)arg;
	static char buf[CHUNK];
	double *total = malloc(sizeof(double));
	*total = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		*total += (double)n;
	}
	return total;
}

static int bulk(int argc, char **argv)
{
	secs_bulk = argc > 2 ? atof(argv[2]) : 2.0;
	struct sockaddr_in sa;
	int l = listener(&sa);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	timeouts(c);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	int s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	timeouts(s);
	pthread_t th;
	double t0 = wall(), t1;
	pthread_create(&th, NULL, receiver, &s);
	static char out[CHUNK];
	memset(out, 7, sizeof(out));
	double sent = 0;
	for (long k = 0;; k++) {
		ssize_t n = send(c, out, sizeof(out), 0);
		if (n <= 0)
			die("send");
		sent += (double)n;
		if ((k & 63) == 0 && wall() - t0 >= secs_bulk)
			break;
	}
	shutdown(c, SHUT_WR);
	void *ret;
	pthread_join(th, &ret);
	t1 = wall();
	double got = *(double *)ret;
	free(ret);
	close(c);
	close(s);
	close(l);
	printf("linux_bulk_bytes %.0f\n", got);
	printf("linux_bulk_secs %.6f\n", t1 - t0);
	printf("linux_bulk_gbps %.3f\n", got * 8 / (t1 - t0) / 1e9);
	return 0;
}

/* Bytes in all slab caches (active objects x object size); -1 when
 * /proc/slabinfo cannot be read. With name, the object size of that cache. */
static double slab_bytes(const char *name, long *objsize)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512], cache[128];
	double total = 0;
	long active, num, size;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %ld %ld %ld", cache, &active, &num, &size) != 4)
			continue;
		total += (double)active * (double)size;
		if (name && objsize && !strcmp(cache, name))
			*objsize = size;
	}
	fclose(f);
	return total;
}

static int mem(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 10000;
	long sz_tcp = 0, sz_req = 0, sz_tw = 0;
	if (n < 1 || n > 200000)
		n = 10000;
	struct rlimit rl = { (rlim_t)(2 * n + 64), (rlim_t)(2 * n + 64) };
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		if ((long)rl.rlim_cur < 2 * n + 64)
			n = ((long)rl.rlim_cur - 64) / 2;
	}
	slab_bytes("TCP", &sz_tcp);
	slab_bytes("request_sock_TCP", &sz_req);
	slab_bytes("tw_sock_TCP", &sz_tw);
	int *fds = malloc(sizeof(int) * 2 * (size_t)n);
	struct sockaddr_in sa;
	int l = listener(&sa);
	listen(l, 4096);
	double before = slab_bytes(NULL, NULL);
	long made = 0;
	for (; made < n; made++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0)
			break;
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa))) {
			close(c);
			break;
		}
		int s = accept(l, NULL, NULL);
		if (s < 0) {
			close(c);
			break;
		}
		fds[2 * made] = c;
		fds[2 * made + 1] = s;
	}
	double after = slab_bytes(NULL, NULL);
	if (before >= 0 && made > 0)
		printf("linux_mem_idle_bytes %.1f\n", (after - before) / (2.0 * (double)made));
	printf("linux_mem_n %ld\n", made);
	printf("linux_size_tcp %ld\n", sz_tcp);
	printf("linux_size_req %ld\n", sz_req);
	printf("linux_size_tw %ld\n", sz_tw);
	for (long i = 0; i < 2 * made; i++)
		close(fds[i]);
	close(l);
	free(fds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "lifecycle"))
		return lifecycle(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "bulk"))
		return bulk(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "mem"))
		return mem(argc, argv);
	fprintf(stderr, "usage: linux_tcp lifecycle|bulk [SECONDS] | mem [N]\n");
	return 2;
}
