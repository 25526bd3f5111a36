/*
 * The sequence diagram, as the textbooks draw it, in SVG: side 0 (the
 * client) on the left, side 1 on the right, time downwards. Each event is
 * an anchor on a row; rows are spaced by the time between them (the median
 * one-way delay is about 34 px), at least a text line apart, and a long
 * quiet gap is cut short and labelled. An arrow leaves its sender's column
 * at its transmission and reaches the other column at its reception, so
 * it slants by the real (or virtual) time in flight. Lost segments stop two
 * thirds of the way with an X; dropped ones reach the receiver with an X;
 * retransmissions are orange, and RTO ones are tagged.
 *
 * Large diagrams are drawn in pages of PAGE anchors.
 */
HSK.Diagram = function (app, host) {
	this.app = app;
	this.host = host;
	this.page = 0;
	this.abs = false;
};

HSK.Diagram.PAGE = 800;
HSK.Diagram.X0 = 300;
HSK.Diagram.X1 = 770;
HSK.Diagram.W = 1000;

/* conns: the connections drawn together; extra: listener state events to
 * show in column 1 (when the diagram covers every connection). */
HSK.Diagram.prototype.show = function (conns, extra) {
	this.conns = conns;
	this.extra = extra || [];
	this.multi = conns.length > 1;
	this.page = 0;
	this.layout();
	this.render();
};

HSK.Diagram.prototype.layout = function () {
	var d = this, anchors = [], K = HSK.KIND, delays = [], i, a, prev, scale, gap, y;
	var segAnchors = [];
	d.isn = {};
	function add(t, ord, kind, obj, side) {
		var an = { t: t, ord: ord, kind: kind, obj: obj, side: side, y: 0 };
		anchors.push(an);
		return an;
	}
	d.conns.forEach(function (c) {
		/* relative sequence numbers: from each side's first SYN */
		c.segs.forEach(function (g) {
			var k = c.id + "/" + g.side;
			if ((g.flags & 2) && d.isn[k] === undefined && g.flags > 0)
				d.isn[k] = g.seq;
		});
		c.sides.forEach(function (sd, s) {
			sd.states.forEach(function (e) {
				add(e.t, e.i, "state", { e: e, c: c }, s);
			});
		});
		c.segs.forEach(function (g) {
			var first = g.tx || g.rx || g.drop, sa, ea = null;
			sa = add(first.t, first.i, g.tx ? "start" : (g.rx ? "start-rx" : "note"), g, g.side);
			if (g.rx && g.tx)
				ea = add(g.rx.t, g.rx.i, "end", g, 1 - g.side);
			else if (g.status === "dropped" && g.tx && g.drop)
				ea = add(g.drop.t, g.drop.i, "end", g, 1 - g.side);
			if (ea && g.tArr > g.t)
				delays.push(g.tArr - g.t);
			segAnchors.push([g, sa, ea]);
		});
	});
	d.extra.forEach(function (e) {
		add(e.t, e.i, "state", { e: e, c: null }, 1);
	});
	anchors.sort(function (p, q) { return p.t - q.t || p.ord - q.ord || (p.kind === "end" ? -1 : 1); });
	delays.sort(function (p, q) { return p - q; });
	scale = delays.length ? 34 / delays[delays.length >> 1] : 0;
	if (!scale) {
		var gaps = [];
		for (i = 1; i < anchors.length; i++)
			if (anchors[i].t > anchors[i - 1].t)
				gaps.push(anchors[i].t - anchors[i - 1].t);
		gaps.sort(function (p, q) { return p - q; });
		scale = gaps.length ? 24 / gaps[gaps.length >> 1] : 0.034;
	}
	d.breaks = [];
	y = 70;
	prev = null;
	for (i = 0; i < anchors.length; i++) {
		a = anchors[i];
		if (prev) {
			gap = (a.t - prev.t) * scale;
			if (gap > 160) {
				d.breaks.push({ y: y + 40, dt: a.t - prev.t, after: i });
				gap = 90;
			}
			gap = Math.max(gap, a.kind === "end" ? 12 : 17);
			y += gap;
		}
		a.y = y;
		a.idx = i;
		prev = a;
	}
	d.anchors = anchors;
	d.height = y + 50;
	/* typical slant of an arrow, for the ones that never arrive */
	var slants = segAnchors.filter(function (x) { return x[2]; }).map(function (x) { return x[2].y - x[1].y; });
	slants.sort(function (p, q) { return p - q; });
	d.slant = slants.length ? slants[slants.length >> 1] : 30;
	d.segAnchors = segAnchors;
	d.pages = Math.max(1, Math.ceil(anchors.length / HSK.Diagram.PAGE));
};

HSK.Diagram.prototype.segLabel = function (g) {
	var d = this, c = g.conn, parts = [], k = c.id + "/" + g.side, kp = c.id + "/" + (1 - g.side), e = g.e;
	function rel(v, key) {
		return d.abs || d.isn[key] === undefined ? v : HSK.seqRel(v, d.isn[key]);
	}
	if (d.multi)
		parts.push(":" + HSK.portOf(c.sides[0].ep));   /* the client's port names the connection */
	parts.push(HSK.flagNames(g.flags));
	if (g.flags < 0)
		return parts.join(" ") + " (not parsed)";
	parts.push("seq=" + rel(g.seq, k));
	if (g.flags & 16)
		parts.push("ack=" + rel(g.ack, kp));
	if (g.len)
		parts.push("len=" + g.len);
	if ((g.flags & 2) || g.win === 0 || !d.multi)
		parts.push("win=" + g.win);
	var o = [];
	if (e.mss) o.push("mss " + e.mss);
	if (e.sackOk) o.push("sackOK");
	if (e.tsval !== undefined && (g.flags & 2)) o.push("ts");
	if (e.wscale >= 0) o.push("ws " + e.wscale);
	if (e.sack) o.push("sack " + e.sack.map(function (b) {
		return rel(b[0], kp) + "-" + rel(b[1], kp);
	}).join(","));
	if (o.length)
		parts.push("<" + o.join(",") + ">");
	if (g.dup) parts.push("(dup)");
	if (g.unmatched) parts.push("(not sent by the stack: injected)");
	return parts.join(" ");
};

HSK.Diagram.prototype.render = function () {
	var d = this, D = HSK.Diagram, S = HSK.s, X = [D.X0, D.X1], box = this.host, svg, g, i;
	var lo = d.page * D.PAGE, hi = Math.min(d.anchors.length, lo + D.PAGE);
	var yTop = lo < d.anchors.length ? d.anchors[lo].y - 40 : 0;
	var yBot = hi > 0 ? d.anchors[hi - 1].y + 50 : 100;
	var names = d.conns[0].sides.map(function (sd) {
		return sd.host || "peer (not traced)";
	});
	var arrows = 0, states = 0, last = -1;
	box.textContent = "";
	if (d.pages > 1)
		box.appendChild(d.pager(lo, hi));
	svg = S("svg", { class: "diagram", width: D.W, height: (yBot - yTop + 40),
		viewBox: "0 " + (yTop - 40) + " " + D.W + " " + (yBot - yTop + 40) });
	svg.appendChild(d.defs());
	/* the two columns and their headers */
	[0, 1].forEach(function (s) {
		svg.appendChild(S("line", { class: "col", x1: X[s], x2: X[s], y1: yTop - 10, y2: yBot }));
		svg.appendChild(S("text", { class: "colname", x: X[s], y: yTop - 24, "text-anchor": "middle" }, names[s]));
		if (!d.multi)
			svg.appendChild(S("text", { class: "colep", x: X[s], y: yTop - 10, "text-anchor": "middle" },
				d.conns[0].sides[s].ep));
	});
	if (lo === 0) {
		[0, 1].forEach(function (s) {
			var first = null;
			d.conns.forEach(function (c) {
				if (!first && c.sides[s].states.length)
					first = c.sides[s].states[0];
			});
			if (s === 1 && d.extra.length)
				first = d.extra[0];
			if (first)
				svg.appendChild(S("text", { class: "state initial s" + s, x: X[s] + (s ? 10 : -10),
					y: yTop + 12, "text-anchor": s ? "start" : "end" }, HSK.STATES[first.from]));
		});
	}
	d.breaks.forEach(function (b) {
		if (b.after < lo || b.after >= hi)
			return;
		svg.appendChild(S("path", { class: "break", d: "M" + (X[0] - 30) + "," + b.y + " h" + (X[1] - X[0] + 60) }));
		svg.appendChild(S("text", { class: "breaklbl", x: (X[0] + X[1]) / 2, y: b.y - 4,
			"text-anchor": "middle" }, "… " + HSK.fmtDur(b.dt) + " later …"));
	});
	/* time labels */
	g = S("g", { class: "times" });
	for (i = lo; i < hi; i++) {
		var a = d.anchors[i];
		if (a.kind === "end")
			continue;
		if (a.t !== last)
			g.appendChild(S("text", { x: 66, y: a.y + 4, "text-anchor": "end" }, HSK.fmtMs(a.t - d.app.model.t0)));
		last = a.t;
	}
	svg.appendChild(g);
	/* states */
	g = S("g", { class: "states" });
	for (i = lo; i < hi; i++) {
		var an = d.anchors[i], e, t;
		if (an.kind !== "state")
			continue;
		e = an.obj.e;
		t = S("text", { class: "state s" + an.side + (d.app.model.inferred ? " inferred" : ""),
			x: X[an.side] + (an.side ? 10 : -10), y: an.y + 4,
			"text-anchor": an.side ? "start" : "end", "data-ev": e.i, "data-state": HSK.STATES[e.to] });
		var name = (d.multi && e.L && an.obj.c ? ":" + HSK.portOf(e.L) + " " : "") + HSK.STATES[e.to];
		/* inferred states are in italics: the label need not say so */
		var cause = (e.cause || "").replace(/^inferred: /, ""), room = 32 - name.length;
		if (cause.length > room)
			cause = room > 4 ? cause.slice(0, room - 1) + "…" : "";
		if (an.side === 0) {
			/* right-aligned: the cause first, so the state meets the column */
			if (cause)
				t.appendChild(S("tspan", { class: "cause" }, cause + " "));
			t.appendChild(S("tspan", { class: "st" }, name));
		} else {
			t.appendChild(S("tspan", { class: "st" }, name));
			if (cause)
				t.appendChild(S("tspan", { class: "cause" }, " " + cause));
		}
		g.appendChild(t);
		g.appendChild(S("circle", { class: "stdot", cx: X[an.side], cy: an.y, r: 3 }));
		states++;
	}
	svg.appendChild(g);
	/* arrows */
	g = S("g", { class: "arrows" });
	d.segAnchors.forEach(function (x) {
		if (x[1].idx < lo || x[1].idx >= hi)
			return;
		g.appendChild(d.arrow(x[0], x[1], x[2]));
		arrows++;
	});
	svg.appendChild(g);
	svg.setAttribute("data-arrows", arrows);
	svg.setAttribute("data-states", states);
	svg.setAttribute("data-total-arrows", d.segAnchors.length);
	box.appendChild(svg);
	d.svg = svg;
	if (d.app.sel)
		d.highlight(d.app.sel);
};

HSK.Diagram.prototype.defs = function () {
	var S = HSK.s, defs = S("defs");
	[["ah", "arrowhead"], ["ahr", "arrowhead retrans"], ["ahs", "arrowhead sel"]].forEach(function (m) {
		var mk = S("marker", { id: m[0], viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9,
			markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" });
		mk.appendChild(S("path", { d: "M0,0 L10,5 L0,10 z", class: m[1] }));
		defs.appendChild(mk);
	});
	return defs;
};

HSK.Diagram.prototype.arrow = function (g, sa, ea) {
	var d = this, D = HSK.Diagram, S = HSK.s, X = [D.X0, D.X1];
	var x1 = X[g.side], x2 = X[1 - g.side], y1 = sa.y, y2, cls = "arrow st-" + g.status;
	var grp, lx, ly, ang, label = d.segLabel(g), end = "ah";
	if (ea) {
		y2 = ea.y;
	} else if (g.status === "lost" || g.status === "unseen") {
		x2 = x1 + (x2 - x1) * 2 / 3;
		y2 = y1 + d.slant * 2 / 3;
	} else if (!g.tx) {
		/* received from an end that is not traced (or crafted): level */
		y2 = y1;
	} else {
		y2 = y1;        /* sent to an end that is not traced */
	}
	if (g.retrans) {
		cls += " retrans";
		end = "ahr";
	}
	if (g.rto) cls += " rto";
	if (g.dup) cls += " dup";
	grp = S("g", { class: cls, "data-seg": g.id });
	grp.appendChild(S("line", { class: "hit", x1: x1, y1: y1, x2: x2, y2: y2 }));
	var ln = S("line", { class: "ln", x1: x1, y1: y1, x2: x2, y2: y2 });
	if (g.status !== "lost" && g.status !== "unseen" && g.status !== "dropped")
		ln.setAttribute("marker-end", "url(#" + end + ")");
	grp.appendChild(ln);
	if (g.status === "lost" || g.status === "dropped") {
		var s = 5;
		grp.appendChild(S("path", { class: "xmark", d: "M" + (x2 - s) + "," + (y2 - s) + " l" + 2 * s + "," + 2 * s +
			" m0," + (-2 * s) + " l" + (-2 * s) + "," + 2 * s }));
	}
	if (g.status === "unseen")
		grp.appendChild(S("text", { class: "qmark", x: x2 + (x2 > x1 ? 4 : -12), y: y2 + 4 }, "?"));
	/* the label rides on the arrow, starting near the sender */
	ang = Math.atan2(y2 - y1, x2 - x1) * 180 / Math.PI;
	if (x2 < x1) {
		ang = ang - 180;
		lx = x1 - 14;
		ly = y1 + (y2 - y1) * 14 / (x1 - x2) - 4;
	} else {
		lx = x1 + 14;
		ly = y1 + (y2 - y1) * 14 / Math.max(1, x2 - x1) - 4;
	}
	var txt = S("text", { class: "lbl", x: lx, y: ly, "text-anchor": x2 < x1 ? "end" : "start",
		transform: "rotate(" + ang.toFixed(2) + " " + lx + " " + (ly + 4) + ")" }, label);
	grp.appendChild(txt);
	var tag = null;
	if (g.status === "lost") tag = "lost: " + (g.reason || "");
	else if (g.status === "dropped") tag = "dropped: " + (g.reason || "");
	else if (g.status === "unseen") tag = "not received";
	if (tag) {
		/* what fits beside the column; the tooltip has it all */
		var room = Math.floor((x2 > x1 ? D.W - x2 - 14 : x2 - 80) / 6.6);
		if (tag.length > room)
			tag = tag.slice(0, Math.max(4, room - 1)) + "…";
		grp.appendChild(S("text", { class: "tag", x: x2 + (x2 > x1 ? 10 : -10), y: y2 + 4,
			"text-anchor": x2 > x1 ? "start" : "end" }, tag));
	}
	if (g.retrans)
		grp.appendChild(S("text", { class: "rtxtag", x: x1 + (g.side ? 8 : -8), y: y1 - 3,
			"text-anchor": g.side ? "start" : "end" }, g.rto ? "RTO" : "rtx"));
	return grp;
};

HSK.Diagram.prototype.pager = function (lo, hi) {
	var d = this, h = HSK.h;
	return h("div", { class: "pager" },
		h("button", { disabled: d.page === 0 || null, onclick: function () { d.page--; d.render(); } }, "◀ earlier"),
		" rows " + HSK.fmtNum(lo + 1) + "–" + HSK.fmtNum(hi) + " of " + HSK.fmtNum(d.anchors.length) + " ",
		h("button", { disabled: d.page >= d.pages - 1 || null, onclick: function () { d.page++; d.render(); } }, "later ▶"));
};

/* Highlights a segment (and scrolls to it), going to its page if needed. */
HSK.Diagram.prototype.highlight = function (g) {
	var d = this, el, i;
	if (!d.svg)
		return;
	Array.prototype.forEach.call(d.svg.querySelectorAll(".sel"), function (x) {
		var ln = x.querySelector(".ln[marker-end]");
		x.classList.remove("sel");
		if (ln)
			ln.setAttribute("marker-end", x.classList.contains("retrans") ? "url(#ahr)" : "url(#ah)");
	});
	if (!g)
		return;
	if (g.ev) {
		el = d.svg.querySelector('text.state[data-ev="' + g.ev.i + '"]');
		if (el)
			el.classList.add("sel");
		return;
	}
	el = d.svg.querySelector('[data-seg="' + g.id + '"]');
	if (!el && d.pages > 1) {
		for (i = 0; i < d.segAnchors.length; i++)
			if (d.segAnchors[i][0] === g) {
				d.page = Math.floor(d.segAnchors[i][1].idx / HSK.Diagram.PAGE);
				d.render();
				return;
			}
	}
	if (!el)
		return;
	el.classList.add("sel");
	if (el.querySelector(".ln[marker-end]"))
		el.querySelector(".ln[marker-end]").setAttribute("marker-end", "url(#ahs)");
	var box = d.host, r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
	if (r.top < b.top || r.bottom > b.bottom)
		box.scrollTop += r.top - b.top - b.height / 2;
};
