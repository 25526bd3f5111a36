/*
 * serve/connect --report FILE: the JSON trace kept in a temporary file
 * (netopts.c) gets a summary of the stack at exit (every counter that
 * moved, the connections it still holds) and becomes the HTML report.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "netcmd.h"
#include "report.h"

struct report_rows {
	FILE *f;
	int n;
};

static void report_conn(void *ctx, const hsk_conn_info *ci)
{
	static const char *const kinds[] = { "tcb", "req", "tw", "listen", "-" };
	struct report_rows *w = ctx;
	char l[HSK_ADDRSTRLEN], r[HSK_ADDRSTRLEN], row[240];

	net_endpoint6(ci->family, ci->tuple.laddr, ci->laddr6, ci->tuple.lport, l, sizeof(l));
	net_endpoint6(ci->family, ci->tuple.raddr, ci->raddr6, ci->tuple.rport, r, sizeof(r));
	if (ci->state == HSK_LISTEN)
		snprintf(row, sizeof(row), "LISTEN %s (accept queue %u/%u, SYN queue %u)", l,
			 ci->accept_q, ci->backlog, ci->syn_q);
	else
		snprintf(row, sizeof(row), "%s %s > %s (%s, Recv-Q %u, Send-Q %u)",
			 hsk_state_name(ci->state), l, r, ci->obj < 5 ? kinds[ci->obj] : "?",
			 ci->recv_q, ci->send_q);
	if (w->n++)
		fputc(',', w->f);
	json_write_str(w->f, row, strlen(row));
}

/* Each shard's part of the summary, one shard after the other. */
struct report_sum {
	uint64_t *cnt;
	struct report_rows w;
};

static void report_shard(void *ctx, hsk_loop *l)
{
	struct report_sum *r = ctx;
	hsk_stack *s = hsk_loop_stack(l);

	for (size_t i = 0; r->cnt && i < hsk_counter_count(); i++)
		r->cnt[i] += hsk_counter_get(s, i);
	hsk_stack_conns(s, report_conn, &r->w);
}

int net_report_finish(net_opts *o, hsk_loop *l)
{
	struct report_sum sum = { NULL, { o->report_tmp, 0 } };
	hsk_shards *sh = hsk_loop_shards(l);
	char err[512];
	uint8_t *buf;
	long len;
	size_t i;
	int rc = 0, n = 0;
	FILE *rows;
	char *rows_buf = NULL;
	size_t rows_len = 0;

	if (!o->report_tmp)
		return 0;
	/* the summary: every counter that moved (summed over the shards),
	 * and what the stacks hold */
	sum.cnt = calloc(hsk_counter_count(), sizeof(*sum.cnt));
	rows = open_memstream(&rows_buf, &rows_len);
	sum.w.f = rows;
	if (rows && sum.cnt) {
		if (sh)
			hsk_shards_sync(sh, report_shard, &sum);
		else
			report_shard(&sum, l);
	}
	if (rows)
		fclose(rows);
	fprintf(o->report_tmp, "{\"ev\":\"summary\",\"host\":\"%s\",\"counters\":{\"%s\":{",
		o->prog, o->prog);
	for (i = 0; sum.cnt && i < hsk_counter_count(); i++) {
		if (sum.cnt[i])
			fprintf(o->report_tmp, "%s\"%s\":%" PRIu64, n++ ? "," : "",
				hsk_counter_name(i), sum.cnt[i]);
	}
	fprintf(o->report_tmp, "}},\"connections\":{\"%s\":[", o->prog);
	if (rows_buf)
		fwrite(rows_buf, 1, rows_len, o->report_tmp);
	fputs("]}}\n", o->report_tmp);
	free(rows_buf);
	free(sum.cnt);
	len = ftell(o->report_tmp);
	buf = len > 0 ? malloc((size_t)len) : NULL;
	if (!buf || fseek(o->report_tmp, 0, SEEK_SET) != 0 ||
	    fread(buf, 1, (size_t)len, o->report_tmp) != (size_t)len) {
		fprintf(stderr, "handshake %s: --report: cannot read back the trace\n", o->prog);
		rc = -1;
	} else if (report_from_buffer(buf, (size_t)len, o->report, NULL, NULL, err,
				      sizeof(err)) < 0) {
		fprintf(stderr, "handshake %s: --report: %s\n", o->prog, err);
		rc = -1;
	} else if (!o->quiet) {
		fprintf(stderr, "%s: report written to %s\n", o->prog, o->report);
	}
	free(buf);
	fclose(o->report_tmp);
	o->report_tmp = NULL;
	return rc;
}
