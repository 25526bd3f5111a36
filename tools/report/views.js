/*
 * The other views: each end's state timeline, the details of what is
 * selected (with the RFC section that governs it), the index of
 * connections, the counters and the connection table.
 */

/* ---- state timeline ---- */
HSK.Timeline = function (app, host) {
	this.app = app;
	this.host = host;
};

/* Time is warped so that a 1 ms handshake and a 60 s TIME_WAIT both show:
 * each interval between transitions is as wide as the log of its length. */
HSK.Timeline.prototype.show = function (conns) {
	var tl = this, S = HSK.s, app = this.app, m = app.model, times = [], rows = [], W, H, L = 190, R = 16;
	conns.forEach(function (c) {
		c.sides.forEach(function (sd, s) {
			if (!sd.states.length)
				return;
			rows.push({ c: c, s: s, sd: sd });
			sd.states.forEach(function (e) { times.push(e.t); });
		});
	});
	tl.host.textContent = "";
	if (!rows.length) {
		tl.host.appendChild(HSK.h("p", { class: "empty" }, "No state transitions in the trace for this connection."));
		return;
	}
	times.push(m.t1);
	times.sort(function (a, b) { return a - b; });
	times = times.filter(function (t, i) { return i === 0 || t !== times[i - 1]; });
	W = Math.max(520, Math.min(900, (tl.host.clientWidth || 700) - 10));
	var cum = [0], i, tot;
	for (i = 1; i < times.length; i++)
		cum.push(cum[i - 1] + 8 + 30 * Math.log10(1 + (times[i] - times[i - 1]) / 100));
	tot = cum[cum.length - 1] || 1;
	function X(t) {
		var k = 0;
		while (k < times.length - 1 && times[k + 1] <= t)
			k++;
		if (k >= times.length - 1)
			return L + (W - L - R) * cum[k] / tot;
		var f = (t - times[k]) / (times[k + 1] - times[k]);
		return L + (W - L - R) * (cum[k] + f * (cum[k + 1] - cum[k])) / tot;
	}
	tl.X = X;
	H = 30 + rows.length * 26 + 30;
	var svg = S("svg", { class: "timeline", width: W, height: H, viewBox: "0 0 " + W + " " + H });
	rows.forEach(function (r, k) {
		var y = 24 + k * 26, sts = r.sd.states, j;
		svg.appendChild(S("text", { class: "rowlbl", x: L - 8, y: y + 15, "text-anchor": "end" },
			(r.sd.host || "peer") + " " + (conns.length > 1 || true ? ":" + HSK.portOf(r.sd.ep) : "")));
		for (j = 0; j < sts.length; j++) {
			var e = sts[j], a = X(e.t), b = X(j + 1 < sts.length ? sts[j + 1].t : m.t1), name = HSK.STATES[e.to];
			if (e.to === 0 && j + 1 >= sts.length)
				b = a + 3;
			var g = S("g", { class: "band", "data-ev": e.i });
			g.appendChild(S("rect", { class: "st-" + name, x: a, y: y, width: Math.max(2, b - a), height: 20 }));
			if (b - a > name.length * 6.4 + 6)
				g.appendChild(S("text", { x: a + 4, y: y + 14 }, name));
			svg.appendChild(g);
		}
	});
	/* time ticks at the transitions (as many as fit) */
	var lastX = -100, axisY = 24 + rows.length * 26 + 4;
	times.forEach(function (t) {
		var x = X(t);
		svg.appendChild(S("line", { class: "tick", x1: x, x2: x, y1: 20, y2: axisY }));
		if (x - lastX > 56) {
			svg.appendChild(S("text", { class: "ticklbl", x: x, y: axisY + 14, "text-anchor": "middle" }, HSK.fmtDur(t - m.t0)));
			lastX = x;
		}
	});
	svg.appendChild(S("text", { class: "axlbl", x: 4, y: 12 }, "time (warped: each interval as wide as the log of its length)"));
	tl.sel = S("line", { class: "tl-sel", x1: -10, x2: -10, y1: 18, y2: axisY });
	svg.appendChild(tl.sel);
	svg.setAttribute("data-rows", rows.length);
	tl.host.appendChild(svg);
	tl.svg = svg;
	tl.highlight(app.sel);
};

HSK.Timeline.prototype.highlight = function (sel) {
	if (!this.svg || !sel)
		return;
	var t = sel.ev ? sel.ev.t : sel.t, x = this.X(t);
	this.sel.setAttribute("x1", x);
	this.sel.setAttribute("x2", x);
};

/* ---- details of the selection, and the tooltip ---- */
HSK.describe = function (app, sel, brief) {
	var h = HSK.h, m = app.model, rows = [], ref, title, why;
	function row(k, v) {
		if (v !== null && v !== undefined && v !== "")
			rows.push(h("tr", null, h("th", null, k), h("td", null, v)));
	}
	if (sel.ev) {
		var e = sel.ev;
		title = HSK.STATES[e.from] + " → " + HSK.STATES[e.to];
		ref = HSK.ref(HSK.CAUSES, e.cause);
		row("when", HSK.fmtMs(e.t - m.t0) + " ms");
		row("where", e.host + " " + (e.L || "") + (e.R && !/^0\.0\.0\.0:0$/.test(e.R) ? " ↔ " + e.R : ""));
		row("object", { 0: "connection (TCB)", 1: "SYN-queue request", 2: "TIME_WAIT entry", 3: "listener", 4: "-" }[e.o]);
		row("cause", e.cause || "-");
		if (m.inferred || /^inferred/.test(e.cause))
			row("note", "inferred from the segments (a pcap carries no states)");
	} else {
		var g = sel, c = g.conn, x = g.e, dir = c.sides[g.side].ep + " → " + c.sides[1 - g.side].ep;
		title = HSK.flagNames(g.flags) + (g.len ? " len=" + g.len : "") + "  " + dir;
		ref = HSK.segRef(g);
		row("sent", g.tx ? HSK.fmtMs(g.tx.t - m.t0) + " ms by " + g.tx.host : "not traced");
		row("received", g.rx ? HSK.fmtMs(g.rx.t - m.t0) + " ms by " + g.rx.host +
			(g.tx ? " (" + HSK.fmtDur(g.rx.t - g.tx.t) + " in flight)" : "") : null);
		row("fate", { arrived: "arrived", lost: "lost by the network", dropped: "dropped by the receiver",
			unseen: "not received by the end of the trace", untraced: "the other end is not traced",
			pending: "in flight" }[g.status] + (g.reason ? ": " + g.reason : ""));
		row("seq", g.seq + (brief ? "" : " (relative " + HSK.seqRel(g.seq, HSK.isnOf(c, g.side)) + ")"));
		if (g.flags & 16)
			row("ack", g.ack + (brief ? "" : " (relative " + HSK.seqRel(g.ack, HSK.isnOf(c, 1 - g.side)) + ")"));
		row("len", g.len);
		row("window", g.win + " (as on the wire)");
		var o = [];
		if (x.mss) o.push("MSS " + x.mss);
		if (x.wscale >= 0) o.push("window scale " + x.wscale);
		if (x.sackOk) o.push("SACK permitted");
		if (x.tsval !== undefined) o.push("TSval " + x.tsval + " TSecr " + x.tsecr);
		if (x.sack) o.push("SACK " + x.sack.map(function (b) { return b[0] + "-" + b[1]; }).join(" "));
		row("options", o.join(", "));
		var tags = [];
		if (g.retrans) tags.push(g.rto ? "retransmission after an RTO" : "retransmission");
		if (g.recovery) tags.push("in fast recovery");
		if (g.cookie) tags.push("SYN cookie");
		if (g.probe) tags.push("probe");
		if (g.dup) tags.push("duplicate delivery");
		row("marks", tags.join(", "));
		if (g.cc && !brief)
			row("sender after it", "cwnd " + HSK.fmtBytes(g.cc.cwnd) + ", ssthresh " +
				(g.cc.ssthresh === null ? "∞" : HSK.fmtBytes(g.cc.ssthresh)) + ", in flight " +
				HSK.fmtBytes(g.cc.flight) + ", srtt " + HSK.fmtDur(g.cc.srtt) + ", rto " + HSK.fmtDur(g.cc.rto) +
				(g.cc.backoff ? ", backoff " + g.cc.backoff : ""));
	}
	why = ref ? ref.text : null;
	return h("div", { class: "desc" },
		h("div", { class: "desc-title" }, title),
		h("table", { class: "kv" }, h("tbody", null, rows)),
		ref ? h("p", { class: "why" }, HSK.refLink(ref), " ", why) : null);
};

HSK.isnOf = function (c, s) {
	var i, g;
	for (i = 0; i < c.segs.length; i++) {
		g = c.segs[i];
		if (g.side === s && g.flags > 0 && (g.flags & 2))
			return g.seq;
	}
	for (i = 0; i < c.segs.length; i++)
		if (c.segs[i].side === s)
			return (c.segs[i].seq - 1) >>> 0;
	return 0;
};

/* ---- the index of connections ---- */
HSK.Index = function (app, host) {
	this.app = app;
	this.host = host;
	this.sortKey = "id";
	this.sortDir = 1;
	this.filter = "";
	this.outcome = "";
	this.page = 0;
};

HSK.Index.PAGE = 100;

HSK.Index.prototype.show = function () {
	var ix = this, h = HSK.h, m = this.app.model, outcomes = {}, short = new Map();
	ix.rows = m.conns.map(function (c) {
		var o = short.get(c.outcome);
		if (o === undefined)
			short.set(c.outcome, o = c.outcome.replace(/ \(.*/, ""));
		outcomes[o] = 1;
		return { c: c, id: c.id, client: c.sides[0].ep, server: c.sides[1].ep, outcome: c.outcome, kind: o,
			start: c.t0 - m.t0, dur: c.t1 - c.t0, up: c.sides[0].bytes, down: c.sides[1].bytes,
			segs: c.nsegs, retrans: c.nretrans, drops: c.ndrop,
			text: null };
	});
	ix.host.textContent = "";
	var sel = h("select", { onchange: function () { ix.outcome = this.value; ix.page = 0; ix.draw(); } },
		h("option", { value: "" }, "every outcome"));
	Object.keys(outcomes).sort().forEach(function (o) { sel.appendChild(h("option", { value: o }, o)); });
	ix.count = h("span", { class: "count" });
	ix.host.appendChild(h("div", { class: "index-tools" },
		h("input", { type: "search", placeholder: "filter: address, port, state, outcome…", "aria-label": "filter",
			oninput: function () { ix.filter = this.value.toLowerCase(); ix.page = 0; ix.draw(); } }),
		" ", sel, " ", ix.count));
	ix.table = h("table", { class: "index" });
	ix.host.appendChild(ix.table);
	ix.pager = h("div", { class: "pager" });
	ix.host.appendChild(ix.pager);
	ix.draw();
};

HSK.Index.COLS = [["id", "#"], ["client", "client"], ["server", "server"], ["outcome", "outcome"],
	["start", "start"], ["dur", "duration"], ["up", "bytes →"], ["down", "bytes ←"], ["segs", "segments"],
	["retrans", "retransmissions"], ["drops", "lost/dropped"]];

HSK.Index.prototype.draw = function () {
	var ix = this, h = HSK.h, k = ix.sortKey, dir = ix.sortDir, rows, lo, thead, tbody;
	rows = ix.rows.filter(function (r) {
		if (ix.filter && r.text === null)
			r.text = (r.id + " " + r.client + " " + r.server + " " + r.outcome + " " +
				r.c.sides.map(function (sd) {
					return (sd.host || "") + " " + (sd.last !== null ? HSK.STATES[sd.last] : "");
				}).join(" ")).toLowerCase();
		return (!ix.filter || r.text.indexOf(ix.filter) >= 0) &&
		       (!ix.outcome || r.kind === ix.outcome);
	});
	if (k !== "id" || dir < 0)      /* the rows are in id order already */
		rows.sort(function (a, b) {
			var x = a[k], y = b[k];
			return (x < y ? -1 : x > y ? 1 : a.id - b.id) * dir;
		});
	ix.shown = rows;
	ix.count.textContent = HSK.fmtNum(rows.length) + " of " + HSK.fmtNum(ix.rows.length) + " connections";
	lo = ix.page * HSK.Index.PAGE;
	ix.table.textContent = "";
	thead = h("tr");
	HSK.Index.COLS.forEach(function (col) {
		thead.appendChild(h("th", { class: "sortable" + (col[0] === k ? (dir > 0 ? " asc" : " desc") : ""),
			"data-key": col[0], onclick: function () {
				if (ix.sortKey === col[0]) ix.sortDir = -ix.sortDir;
				else { ix.sortKey = col[0]; ix.sortDir = 1; }
				ix.draw();
			} }, col[1]));
	});
	ix.table.appendChild(h("thead", null, thead));
	tbody = h("tbody");
	rows.slice(lo, lo + HSK.Index.PAGE).forEach(function (r) {
		tbody.appendChild(h("tr", { class: "conn-row oc-" + r.outcome.replace(/[^a-z]+/gi, "-").toLowerCase(),
			"data-conn": r.id, onclick: function () { ix.app.openConn(r.c); } },
			h("td", { class: "n" }, r.id), h("td", null, r.client), h("td", null, r.server),
			h("td", null, r.outcome), h("td", { class: "n" }, HSK.fmtDur(r.start)),
			h("td", { class: "n" }, HSK.fmtDur(r.dur)), h("td", { class: "n" }, HSK.fmtNum(r.up)),
			h("td", { class: "n" }, HSK.fmtNum(r.down)), h("td", { class: "n" }, r.segs),
			h("td", { class: "n" }, r.retrans), h("td", { class: "n" }, r.drops)));
	});
	ix.table.appendChild(tbody);
	ix.pager.textContent = "";
	if (rows.length > HSK.Index.PAGE) {
		ix.pager.appendChild(h("button", { disabled: ix.page === 0 || null,
			onclick: function () { ix.page--; ix.draw(); } }, "◀"));
		ix.pager.appendChild(document.createTextNode(" page " + (ix.page + 1) + " of " +
			Math.ceil(rows.length / HSK.Index.PAGE) + " "));
		ix.pager.appendChild(h("button", { disabled: lo + HSK.Index.PAGE >= rows.length || null,
			onclick: function () { ix.page++; ix.draw(); } }, "▶"));
	}
};

/* ---- counters and the connection table ---- */
HSK.counterView = function (app, host) {
	var h = HSK.h, m = app.model, sum = m.data.summary, tc = m.traceCounters(), hosts, names, t;
	host.textContent = "";
	function table(title, counters, note) {
		var hs = Object.keys(counters || {}), ns = {}, tb;
		if (!hs.length)
			return;
		hs.forEach(function (x) { Object.keys(counters[x]).forEach(function (n) { ns[n] = 1; }); });
		tb = h("tbody");
		Object.keys(ns).forEach(function (n) {
			var tr = h("tr", null, h("th", null, n));
			hs.forEach(function (x) {
				var v = counters[x][n];
				tr.appendChild(h("td", { class: "n" }, v === undefined ? "-" : HSK.fmtNum(v)));
			});
			tb.appendChild(tr);
		});
		var head = h("tr", null, h("th", null, "counter"));
		hs.forEach(function (x) { head.appendChild(h("th", { class: "n" }, x)); });
		host.appendChild(h("section", { class: "counters" }, h("h3", null, title),
			note ? h("p", { class: "hint" }, note) : null,
			h("table", { class: "grid counters-table" }, h("thead", null, head), tb)));
	}
	if (sum && sum.counters)
		table("Counters from the stack (named as in netstat -s)", sum.counters,
			"What each stack counted, from the summary at the end of the run.");
	table("Counted from the trace", tc, "The same names, counted from the events in this file " +
		"(retransmissions and RTOs as the report infers them).");
	if (sum && (sum.figures || sum.link)) {
		var fig = h("tbody");
		[["figures", sum.figures], ["network", sum.link]].forEach(function (p) {
			Object.keys(p[1] || {}).forEach(function (k) {
				fig.appendChild(h("tr", null, h("th", null, p[0] + ": " + k), h("td", { class: "n" }, String(p[1][k]))));
			});
		});
		host.appendChild(h("section", null, h("h3", null, "Figures"), h("table", { class: "grid" }, fig)));
	}
	/* ss -tan at the end of the trace */
	t = h("tbody");
	hosts = {};
	m.listeners.forEach(function (l) {
		var last = l.states.length ? l.states[l.states.length - 1].to : 1;
		if (last !== 1)
			return;
		var q = l.q.length ? l.q[l.q.length - 1] : null;
		t.appendChild(h("tr", null, h("td", null, l.host), h("td", null, "LISTEN"),
			h("td", { class: "n" }, q ? q.acceptq : "-"), h("td", { class: "n" }, q ? q.backlog : "-"),
			h("td", null, l.ep), h("td", null, "*:*")));
	});
	names = 0;
	m.conns.forEach(function (c) {
		c.sides.forEach(function (sd, s) {
			if (!sd.host || sd.last === null || sd.last === 0 || ++names > 500)
				return;
			m.resolve(c);
			var unacked = HSK.unacked(c, s);
			t.appendChild(h("tr", null, h("td", null, sd.host), h("td", null, HSK.STATES[sd.last]),
				h("td", { class: "n" }, "-"), h("td", { class: "n" }, unacked),
				h("td", null, sd.ep), h("td", null, c.sides[1 - s].ep)));
		});
	});
	if (names > 500)
		t.appendChild(h("tr", null, h("td", { colspan: 6, class: "hint" }, "… and " + (names - 500) + " more")));
	host.appendChild(h("section", null,
		h("h3", null, "Connections at the end of the trace (as ss -tan)"),
		h("p", { class: "hint" }, "Send-Q: bytes sent and not yet acknowledged, from the segments; a listener's Recv-Q is its accept queue and Send-Q its backlog. Recv-Q of a connection (unread bytes) is not in a trace."),
		h("table", { class: "grid ss" }, h("thead", null, h("tr", null, h("th", null, "host"),
			h("th", null, "State"), h("th", { class: "n" }, "Recv-Q"), h("th", { class: "n" }, "Send-Q"),
			h("th", null, "Local Address:Port"), h("th", null, "Peer Address:Port"))), t)));
	if (sum && sum.connections) {
		var ul = h("ul", { class: "plain" });
		Object.keys(sum.connections).forEach(function (k) {
			(sum.connections[k] || []).forEach(function (row) {
				ul.appendChild(h("li", null, k + ": " + (typeof row === "string" ? row : JSON.stringify(row))));
			});
			if (!(sum.connections[k] || []).length)
				ul.appendChild(h("li", null, k + ": none"));
		});
		host.appendChild(h("section", null, h("h3", null, "What the stacks held at exit"), ul));
	}
	if (m.loose.length)
		host.appendChild(h("p", { class: "hint" }, m.loose.length + " event(s) belong to no connection " +
			"(e.g. packets that did not parse): " + m.loose.slice(0, 5).map(function (e) {
				return e.host + " " + (e.reason || "");
			}).join("; ")));
};

HSK.unacked = function (c, s) {
	var hi = null, ack = null;
	c.segs.forEach(function (g) {
		var space = g.len + (g.flags & 3 ? 1 : 0);
		if (g.flags < 0)
			return;
		if (g.side === s && space && !(g.flags & 4)) {
			var end = (g.seq + g.len + ((g.flags & 2) ? 1 : 0) + ((g.flags & 1) ? 1 : 0)) >>> 0;
			if (hi === null || HSK.seqDiff(end, hi) > 0)
				hi = end;
		}
		if (g.side !== s && (g.flags & 16) && g.status !== "lost" && (ack === null || HSK.seqDiff(g.ack, ack) > 0))
			ack = g.ack;
	});
	if (hi === null)
		return 0;
	if (ack === null)
		return "-";
	return Math.max(0, HSK.seqDiff(hi, ack));
};
