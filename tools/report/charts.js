/*
 * Charts drawn with uPlot (third_party/uplot, compiled into the page):
 * series over time with a legend, a cursor and drag-to-zoom, which would
 * be a lot of hand-written axes otherwise.
 *
 *   congestion  cwnd, ssthresh, bytes in flight and the peer's window of
 *               each side that sent data (HSK_EV_CC samples), recovery
 *               shaded, RTOs as red lines
 *   rtt         srtt and rto
 *   queues      a listener's SYN queue and accept queue against its
 *               backlog, with overflows, SYN-queue drops and cookies marked
 *
 * A click on a chart selects the segment sent nearest that time; the
 * selected segment's time is a dashed line on every chart.
 */
HSK.Charts = function (app) {
	this.app = app;
	this.plots = [];
};

HSK.Charts.prototype.clear = function () {
	this.plots.forEach(function (p) { p.u.destroy(); });
	this.plots = [];
};

HSK.Charts.width = function (el) {
	return Math.max(480, Math.min(900, (el.clientWidth || 700) - 10));
};

/* Samples of one instant collapse into the last. */
HSK.Charts.collapse = function (xs, cols) {
	var ox = [], oc = cols.map(function () { return []; }), i;
	for (i = 0; i < xs.length; i++) {
		if (ox.length && ox[ox.length - 1] === xs[i]) {
			cols.forEach(function (c, k) { oc[k][oc[k].length - 1] = c[i]; });
			continue;
		}
		ox.push(xs[i]);
		cols.forEach(function (c, k) { oc[k].push(c[i]); });
	}
	return [ox].concat(oc);
};

HSK.Charts.prototype.plot = function (el, opts, data, onPick, marks) {
	var ch = this, app = this.app, u;
	if (typeof uPlot === "undefined") {
		el.appendChild(HSK.h("p", { class: "error" }, "The charting library is missing from this page."));
		return null;
	}
	opts.width = HSK.Charts.width(el);
	opts.scales = opts.scales || {};
	opts.scales.x = { time: false };
	opts.hooks = { draw: [function (uu) { ch.decorate(uu, marks); }] };
	opts.cursor = { drag: { x: true, y: false }, points: { size: 5 } };
	opts.axes[0].values = function (uu, vals) {
		return vals.map(function (v) { return HSK.fmtDur(v * 1e6); });
	};
	u = new uPlot(opts, data, el);
	u.over.addEventListener("click", function () {
		var t = u.posToVal(u.cursor.left, "x");
		if (onPick && isFinite(t))
			onPick(t * 1e6 + app.model.t0);
	});
	ch.plots.push({ u: u, marks: marks });
	return u;
};

/* Recovery shading, RTO lines, queue marks and the selection line. */
HSK.Charts.prototype.decorate = function (u, marks) {
	var ctx = u.ctx, app = this.app, t0 = app.model.t0, top = u.bbox.top, ht = u.bbox.height;
	function px(t) { return u.valToPos((t - t0) / 1e6, "x", true); }
	ctx.save();
	(marks && marks.spans || []).forEach(function (s) {
		var a = px(s[0]), b = px(s[1]);
		ctx.fillStyle = "rgba(255, 165, 0, 0.12)";
		ctx.fillRect(a, top, Math.max(1, b - a), ht);
	});
	(marks && marks.lines || []).forEach(function (l) {
		var x = px(l.t);
		ctx.strokeStyle = l.color;
		ctx.setLineDash([4, 3]);
		ctx.lineWidth = 1.5;
		ctx.beginPath();
		ctx.moveTo(x, top);
		ctx.lineTo(x, top + ht);
		ctx.stroke();
	});
	ctx.setLineDash([]);
	(marks && marks.points || []).forEach(function (p) {
		var x = px(p.t), y = u.valToPos(p.v, "y", true);
		ctx.fillStyle = p.color;
		ctx.strokeStyle = p.color;
		ctx.beginPath();
		if (p.shape === "tri") {
			ctx.moveTo(x - 6, y - 12);
			ctx.lineTo(x + 6, y - 12);
			ctx.lineTo(x, y - 2);
			ctx.fill();
		} else if (p.shape === "x") {
			ctx.lineWidth = 2;
			ctx.moveTo(x - 5, y - 5); ctx.lineTo(x + 5, y + 5);
			ctx.moveTo(x + 5, y - 5); ctx.lineTo(x - 5, y + 5);
			ctx.stroke();
		} else {
			ctx.arc(x, y - 7, 5, 0, 2 * Math.PI);
			ctx.fill();
		}
	});
	var sel = app.sel, st = sel ? (sel.ev ? sel.ev.t : sel.t) : null;
	if (st !== null) {
		var sx = px(st);
		ctx.strokeStyle = "#d6336c";
		ctx.lineWidth = 2;
		ctx.setLineDash([6, 4]);
		ctx.beginPath();
		ctx.moveTo(sx, top);
		ctx.lineTo(sx, top + ht);
		ctx.stroke();
	}
	ctx.restore();
};

HSK.Charts.prototype.highlight = function () {
	this.plots.forEach(function (p) { p.u.redraw(false, false); });
};

/* The segment sent by side s nearest in time to t. */
HSK.Charts.nearest = function (c, s, t) {
	var best = null, bd = Infinity;
	c.segs.forEach(function (g) {
		var d = Math.abs(g.t - t);
		if ((s === null || g.side === s) && d < bd) {
			bd = d;
			best = g;
		}
	});
	return best;
};

HSK.Charts.prototype.congestion = function (host, c) {
	var ch = this, app = this.app, h = HSK.h, t0 = app.model.t0, drawn = 0;
	var sides = [0, 1].filter(function (s) { return c.sides[s].cc.length && c.sides[s].bytes > 0; });
	if (!sides.length)
		sides = [0, 1].filter(function (s) { return c.sides[s].cc.length; }).slice(0, 1);
	host.textContent = "";
	if (!sides.length) {
		host.appendChild(h("p", { class: "empty" }, app.model.inferred ?
			"A pcap has no congestion-control samples: the congestion window is known only to the sender." :
			"No congestion-control samples for this connection (they start once it is ESTABLISHED)."));
		return;
	}
	sides.forEach(function (s) {
		var cc = c.sides[s].cc, xs = [], cw = [], ss = [], fl = [], wn = [], sr = [], ro = [], spans = [], lines = [];
		var recStart = null, lastB = 0;
		cc.forEach(function (e) {
			xs.push((e.t - t0) / 1e6);
			cw.push(e.cwnd);
			ss.push(e.ssthresh);
			fl.push(e.flight);
			wn.push(e.sndWnd);
			sr.push(e.srtt / 1000);
			ro.push(e.rto / 1000);
			if (e.rec && recStart === null) recStart = e.t;
			if (!e.rec && recStart !== null) {
				spans.push([recStart, e.t]);
				recStart = null;
			}
			if (e.backoff > lastB)
				lines.push({ t: e.t, color: "#e03131" });
			lastB = e.backoff;
		});
		if (recStart !== null)
			spans.push([recStart, cc[cc.length - 1].t]);
		var pick = function (t) { app.select(HSK.Charts.nearest(c, s, t)); };
		var box1 = h("div", { class: "chart", "data-chart": "cc" }), box2 = h("div", { class: "chart", "data-chart": "rtt" });
		host.appendChild(h("div", { class: "chart-title" }, "Sent by " + c.sides[s].ep +
			(c.sides[s].host ? " (" + c.sides[s].host + ")" : "")));
		host.appendChild(box1);
		host.appendChild(box2);
		var step = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
		ch.plot(box1, {
			height: 220,
			series: [{ label: "time" },
				{ label: "cwnd", stroke: "#1c7ed6", width: 2, paths: step, value: function (u, v) { return v === null ? "-" : HSK.fmtBytes(v); } },
				{ label: "ssthresh", stroke: "#e8590c", width: 1.5, dash: [6, 4], paths: step, value: function (u, v) { return v === null ? "∞" : HSK.fmtBytes(v); } },
				{ label: "in flight", stroke: "#2f9e44", width: 1, paths: step, value: function (u, v) { return v === null ? "-" : HSK.fmtBytes(v); } },
				{ label: "peer window", stroke: "#868e96", width: 1, dash: [2, 3], paths: step, show: false, value: function (u, v) { return v === null ? "-" : HSK.fmtBytes(v); } }],
			axes: [{}, { size: 70, values: function (u, vals) { return vals.map(function (v) { return HSK.fmtBytes(v); }); } }]
		}, HSK.Charts.collapse(xs, [cw, ss, fl, wn]), pick, { spans: spans, lines: lines });
		ch.plot(box2, {
			height: 160,
			series: [{ label: "time" },
				{ label: "srtt (ms)", stroke: "#7048e8", width: 2, paths: step },
				{ label: "rto (ms)", stroke: "#c2255c", width: 1.5, paths: step }],
			axes: [{}, { size: 60 }]
		}, HSK.Charts.collapse(xs, [sr, ro]), pick, { lines: lines });
		drawn++;
	});
	host.setAttribute("data-charts", drawn);
};

HSK.Charts.prototype.queues = function (host, l) {
	var ch = this, app = this.app, h = HSK.h, t0 = app.model.t0, xs = [], sq = [], aq = [], bl = [], pts = [];
	var box = h("div", { class: "chart", "data-chart": "queues" });
	host.appendChild(box);
	if (!l.q.length) {
		box.appendChild(h("p", { class: "empty" }, "No queue samples for this listener."));
		return;
	}
	l.q.forEach(function (e) {
		xs.push((e.t - t0) / 1e6);
		sq.push(e.synq);
		aq.push(e.acceptq);
		bl.push(e.backlog);
	});
	/* hold the last value to the end of the trace */
	if (app.model.t1 > l.q[l.q.length - 1].t) {
		xs.push((app.model.t1 - t0) / 1e6);
		sq.push(sq[sq.length - 1]);
		aq.push(aq[aq.length - 1]);
		bl.push(bl[bl.length - 1]);
	}
	function qAt(t) {
		var v = 0;
		l.q.forEach(function (e) { if (e.t <= t) v = e.acceptq; });
		return v;
	}
	l.marks.forEach(function (mk) {
		var style = { overflow: ["#e03131", "tri"], synq: ["#f08c00", "tri"], cookie: ["#1971c2", "dot"],
			"cookie-ack": ["#1971c2", "dot"], drop: ["#495057", "x"] }[mk.kind];
		pts.push({ t: mk.t, v: mk.kind === "overflow" ? qAt(mk.t) : 0, color: style[0], shape: style[1] });
	});
	var step = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
	ch.plot(box, {
		height: 240,
		series: [{ label: "time" },
			{ label: "SYN queue", stroke: "#f08c00", width: 2, paths: step },
			{ label: "accept queue", stroke: "#1c7ed6", width: 2, paths: step },
			{ label: "backlog", stroke: "#e03131", width: 1.5, dash: [6, 4], paths: step }],
		axes: [{}, { size: 50 }],
		scales: { y: { range: function (u, lo, hi) { return [0, Math.max(hi, 1) + 1]; } } }
	}, HSK.Charts.collapse(xs, [sq, aq, bl]), function (t) {
		var best = null, bd = Infinity;
		l.marks.forEach(function (mk) {
			if (Math.abs(mk.t - t) < bd) {
				bd = Math.abs(mk.t - t);
				best = mk;
			}
		});
		if (best)
			app.openMark(best);
	}, { points: pts });
};
