/*
 * The time-sequence graph (Stevens, tcptrace, Wireshark's "Stevens" and
 * "tcptrace" graphs), hand-drawn in SVG: one mark per data segment so each
 * can be hovered, clicked and counted. One panel per direction that
 * carries data, seen from the sender when it is traced (its transmissions,
 * the ACKs as it received them), else from the receiver.
 *
 *   I-beam        a data segment, from SEG.SEQ to SEG.SEQ+LEN
 *                 (orange: a retransmission, red dashed: lost or dropped)
 *   green steps   the ACK line (the peer's cumulative acknowledgment)
 *   blue steps    the receive window's right edge (ACK + window, scaled)
 *   purple bars   SACK blocks of each ACK
 *   red dashes    a retransmission timeout
 *
 * Wheel: zoom around the pointer (Shift: time only, Alt: sequence only);
 * drag: pan; double-click or "reset": the whole connection.
 */
HSK.Tsg = function (app, host) {
	this.app = app;
	this.host = host;
	this.panels = [];
};

HSK.Tsg.prototype.show = function (conn) {
	var t = this, h = HSK.h;
	t.conn = conn;
	t.host.textContent = "";
	t.panels = [];
	[0, 1].forEach(function (s) {
		var p = t.build(conn, s);
		if (p)
			t.panels.push(p);
	});
	if (!t.panels.length) {
		t.host.appendChild(h("p", { class: "empty" }, "No data segments in this connection: " +
			"the time-sequence graph has nothing to draw."));
		return;
	}
	t.panels.forEach(function (p) {
		var wrap = h("div", { class: "tsg-panel" });
		wrap.appendChild(h("div", { class: "tsg-head" },
			h("b", null, p.title), " ",
			h("button", { class: "small", onclick: function () { t.reset(p); } }, "reset zoom"),
			h("span", { class: "hint" }, " wheel: zoom · drag: pan · double-click: reset")));
		p.box = h("div", { class: "tsg-box" });
		wrap.appendChild(p.box);
		t.host.appendChild(wrap);
		t.reset(p);
		t.interact(p);
	});
};

/* Everything one direction needs, in relative sequence numbers. */
HSK.Tsg.prototype.build = function (c, s) {
	var segs = c.segs.filter(function (g) { return g.side === s && g.flags >= 0; });
	var data = segs.filter(function (g) { return g.len > 0; });
	var acks = c.segs.filter(function (g) { return g.side !== s && g.flags > 0 && (g.flags & 16); });
	var fromSender = !!c.sides[s].host, base = null, shift = 0, ws = [null, null], p;
	if (!data.length)
		return null;
	c.segs.forEach(function (g) {
		if ((g.flags & 2) && g.flags > 0) {
			if (g.side === s && base === null)
				base = g.seq;
			if (ws[g.side] === null)
				ws[g.side] = g.e.wscale >= 0 ? g.e.wscale : -1;
		}
	});
	if (ws[0] >= 0 && ws[1] >= 0)
		shift = ws[1 - s];
	if (base === null)
		base = data.reduce(function (m, g) { return HSK.seqDiff(g.seq, m) < 0 ? g.seq : m; }, data[0].seq);
	function rel(v) {
		var r = HSK.seqRel(v, base);
		return r > 0x80000000 ? null : r;
	}
	function tSend(g) { return fromSender ? g.t : (g.tArr !== null ? g.tArr : g.t); }
	function tAck(g) { return fromSender ? (g.tArr !== null ? g.tArr : null) : g.t; }
	p = { side: s, title: c.sides[s].ep + " → " + c.sides[1 - s].ep + " (seen from the " +
		(fromSender ? "sender" : "receiver") + ")", marks: [], ctl: [], ack: [], win: [], sack: [], rto: [] };
	segs.forEach(function (g) {
		var y = rel(g.seq), t = tSend(g);
		if (y === null)
			return;
		if (g.len > 0)
			p.marks.push({ t: t, y0: y, y1: y + g.len, g: g });
		else if (g.flags & 3)
			p.ctl.push({ t: t, y: y, g: g });
		if (g.rto)
			p.rto.push({ t: t, g: g });
	});
	acks.forEach(function (g) {
		var t = tAck(g), a = rel(g.ack), w;
		if (t === null || a === null || (g.flags & 4))
			return;
		w = (g.flags & 2) ? g.win : g.win * Math.pow(2, shift);
		p.ack.push([t, a, g]);
		p.win.push([t, a + w, g]);
		(g.e.sack || []).forEach(function (b) {
			var l = rel(b[0]), r = rel(b[1]);
			if (l !== null && r !== null)
				p.sack.push({ t: t, y0: l, y1: r, g: g });
		});
	});
	var ts = p.marks.map(function (m) { return m.t; }).concat(p.ack.map(function (a) { return a[0]; }));
	var ys = p.marks.map(function (m) { return m.y1; }).concat(p.ack.map(function (a) { return a[1]; }));
	p.full = { x0: Math.min.apply(null, ts), x1: Math.max.apply(null, ts), y0: 0, y1: Math.max.apply(null, ys) };
	var win = p.win.map(function (a) { return a[1]; });
	/* the window edge when it is near; far above, it would squash the data */
	if (win.length && Math.max.apply(null, win) <= p.full.y1 * 2)
		p.full.y1 = Math.max.apply(null, win);
	if (p.full.x1 <= p.full.x0)
		p.full.x1 = p.full.x0 + 1000;
	var padx = (p.full.x1 - p.full.x0) * 0.03, pady = p.full.y1 * 0.05 + 10;
	p.full = { x0: p.full.x0 - padx, x1: p.full.x1 + padx, y0: -pady, y1: p.full.y1 + pady };
	return p;
};

HSK.Tsg.prototype.reset = function (p) {
	p.dom = { x0: p.full.x0, x1: p.full.x1, y0: p.full.y0, y1: p.full.y1 };
	this.draw(p);
};

HSK.Tsg.niceStep = function (span, n) {
	var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
};

/* Steps of a byte axis: powers of two (1 KiB, 512 KiB, ...), or 1, 2, 5
 * times a power of ten below 1 KiB. */
HSK.Tsg.byteStep = function (span, n) {
	var raw = span / n;
	if (raw < 512)
		return HSK.Tsg.niceStep(span, n);
	return Math.pow(2, Math.ceil(Math.log2(raw)));
};

HSK.Tsg.prototype.draw = function (p) {
	var t = this, S = HSK.s, W = Math.max(520, Math.min(900, (t.host.clientWidth || 700) - 10)), H = 300;
	var L = 76, R = 12, T = 10, B = 34, dom = p.dom, t0 = t.app.model.t0;
	var sx = (W - L - R) / (dom.x1 - dom.x0), sy = (H - T - B) / (dom.y1 - dom.y0);
	function X(v) { return L + (v - dom.x0) * sx; }
	function Y(v) { return H - B - (v - dom.y0) * sy; }
	function inX(v) { return v >= dom.x0 && v <= dom.x1; }
	var svg = S("svg", { class: "tsg", width: W, height: H, viewBox: "0 0 " + W + " " + H }), g, d, i, step, v;
	p.W = W; p.H = H; p.L = L; p.R = R; p.T = T; p.B = B;
	svg.appendChild(S("rect", { class: "plotbg", x: L, y: T, width: W - L - R, height: H - T - B }));
	/* axes */
	g = S("g", { class: "axis" });
	step = HSK.Tsg.niceStep(dom.x1 - dom.x0, 6);
	for (v = Math.ceil(dom.x0 / step) * step; v <= dom.x1; v += step) {
		g.appendChild(S("line", { class: "grid", x1: X(v), x2: X(v), y1: T, y2: H - B }));
		g.appendChild(S("text", { x: X(v), y: H - B + 14, "text-anchor": "middle" }, HSK.fmtDur(v - t0)));
	}
	step = HSK.Tsg.byteStep(dom.y1 - dom.y0, 5);
	for (v = Math.ceil(dom.y0 / step) * step; v <= dom.y1; v += step) {
		g.appendChild(S("line", { class: "grid", x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
		g.appendChild(S("text", { x: L - 4, y: Y(v) + 4, "text-anchor": "end" }, HSK.fmtBytes(Math.round(v)).replace(" ", "")));
	}
	g.appendChild(S("text", { x: W - R, y: H - 4, "text-anchor": "end", class: "axlbl" }, "time since the start"));
	g.appendChild(S("text", { x: 6, y: T + 2, class: "axlbl", transform: "rotate(90 6 " + (T + 2) + ")" }, "relative sequence number"));
	svg.appendChild(g);
	var plot = S("svg", { x: L, y: T, width: W - L - R, height: H - T - B, overflow: "hidden",
		viewBox: L + " " + T + " " + (W - L - R) + " " + (H - T - B) });
	/* the window and the ACK line, as steps */
	function steps(pts, cls) {
		var dd = "", prevY = null, k;
		for (k = 0; k < pts.length; k++) {
			var x = X(pts[k][0]), y = Y(pts[k][1]);
			dd += (k === 0 ? "M" + x.toFixed(1) + "," + y.toFixed(1) :
				"H" + x.toFixed(1) + (y !== prevY ? "V" + y.toFixed(1) : ""));
			prevY = y;
		}
		if (pts.length)
			dd += "H" + (W - R);
		plot.appendChild(S("path", { class: cls, d: dd }));
	}
	steps(p.win, "tsg-win");
	steps(p.ack, "tsg-ack");
	/* SACK blocks */
	d = "";
	p.sack.forEach(function (b) {
		if (inX(b.t))
			d += "M" + X(b.t).toFixed(1) + "," + Y(b.y0).toFixed(1) + "V" + Y(b.y1).toFixed(1);
	});
	if (d)
		plot.appendChild(S("path", { class: "tsg-sack", d: d }));
	/* RTOs */
	p.rto.forEach(function (r) {
		if (inX(r.t))
			plot.appendChild(S("line", { class: "tsg-rto", x1: X(r.t), x2: X(r.t), y1: T, y2: H - B }));
	});
	/* SYN and FIN */
	p.ctl.forEach(function (m) {
		if (!inX(m.t))
			return;
		var x = X(m.t), y = Y(m.y);
		plot.appendChild(S("path", { class: "tsg-ctl", "data-seg": m.g.id,
			d: "M" + x + "," + (y - 4) + "l4,4l-4,4l-4,-4z" }));
	});
	/* data: one I-beam per segment */
	g = S("g", { class: "tsg-marks" });
	for (i = 0; i < p.marks.length; i++) {
		var m = p.marks[i], x, y0, y1, cls = "tsg-seg";
		if (!inX(m.t))
			continue;
		x = X(m.t).toFixed(1);
		y0 = Y(m.y0).toFixed(1);
		y1 = Y(m.y1).toFixed(1);
		if (m.g.retrans) cls += " retrans";
		if (m.g.rto) cls += " rto";
		if (m.g.status === "lost" || m.g.status === "dropped") cls += " lost";
		g.appendChild(S("path", { class: cls, "data-seg": m.g.id,
			d: "M" + x + "," + y0 + "V" + y1 + "M" + (x - 2.5) + "," + y0 + "h5M" + (x - 2.5) + "," + y1 + "h5" }));
	}
	plot.appendChild(g);
	p.selLine = S("line", { class: "tsg-selline", x1: -10, x2: -10, y1: T, y2: H - B });
	plot.appendChild(p.selLine);
	svg.appendChild(plot);
	svg.setAttribute("data-marks", g.childNodes.length);
	svg.setAttribute("data-side", p.side);
	p.X = X;
	p.box.textContent = "";
	p.box.appendChild(svg);
	p.svg = svg;
	this.highlight(this.app.sel);
};

HSK.Tsg.prototype.interact = function (p) {
	var t = this, drag = null, pending = false;
	function redraw() {
		if (pending)
			return;
		pending = true;
		requestAnimationFrame(function () {
			pending = false;
			t.draw(p);
		});
	}
	function dataAt(ev) {
		var r = p.svg.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
		var fx = (px - p.L) / (p.W - p.L - p.R), fy = 1 - (py - p.T) / (p.H - p.T - p.B);
		return { fx: Math.max(0, Math.min(1, fx)), fy: Math.max(0, Math.min(1, fy)) };
	}
	p.box.addEventListener("wheel", function (ev) {
		var a = dataAt(ev), z = ev.deltaY < 0 ? 1 / 1.25 : 1.25, d = p.dom, cx, cy;
		ev.preventDefault();
		if (!ev.altKey) {
			cx = d.x0 + a.fx * (d.x1 - d.x0);
			d.x0 = cx - (cx - d.x0) * z;
			d.x1 = cx + (d.x1 - cx) * z;
		}
		if (!ev.shiftKey) {
			cy = d.y0 + a.fy * (d.y1 - d.y0);
			d.y0 = cy - (cy - d.y0) * z;
			d.y1 = cy + (d.y1 - cy) * z;
		}
		redraw();
	}, { passive: false });
	p.box.addEventListener("mousedown", function (ev) {
		if (ev.button !== 0 || (ev.target.getAttribute && ev.target.getAttribute("data-seg")))
			return;
		drag = { x: ev.clientX, y: ev.clientY, dom: { x0: p.dom.x0, x1: p.dom.x1, y0: p.dom.y0, y1: p.dom.y1 } };
		ev.preventDefault();
	});
	window.addEventListener("mousemove", function (ev) {
		if (!drag)
			return;
		var dx = (ev.clientX - drag.x) / (p.W - p.L - p.R) * (drag.dom.x1 - drag.dom.x0);
		var dy = (ev.clientY - drag.y) / (p.H - p.T - p.B) * (drag.dom.y1 - drag.dom.y0);
		p.dom = { x0: drag.dom.x0 - dx, x1: drag.dom.x1 - dx, y0: drag.dom.y0 + dy, y1: drag.dom.y1 + dy };
		redraw();
	});
	window.addEventListener("mouseup", function () { drag = null; });
	p.box.addEventListener("dblclick", function () { t.reset(p); });
};

HSK.Tsg.prototype.highlight = function (sel) {
	this.panels.forEach(function (p) {
		if (!p.svg)
			return;
		Array.prototype.forEach.call(p.svg.querySelectorAll(".sel"), function (x) {
			x.classList.remove("sel");
		});
		var t = sel ? (sel.ev ? sel.ev.t : sel.t) : null, el;
		if (sel && !sel.ev && (el = p.svg.querySelector('[data-seg="' + sel.id + '"]')))
			el.classList.add("sel");
		if (t !== null && p.selLine && p.X) {
			var fromSender = !!(sel && !sel.ev && sel.conn.sides[p.side].host);
			var x = p.X(sel && !sel.ev && sel.side !== p.side && fromSender && sel.tArr !== null ? sel.tArr : t);
			p.selLine.setAttribute("x1", x);
			p.selLine.setAttribute("x2", x);
		}
	});
};
