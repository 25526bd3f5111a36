/*
 * The page: reads the embedded data, builds the model and the tabs, and
 * keeps one selection (a segment or a state transition) that every view
 * highlights. window.hskReport tells tests (and the curious) when the page
 * is drawn and how long it took.
 */
HSK.App = function (data) {
	this.model = new HSK.Model(data);
	this.sel = null;
	this.mode = null;
	this.conn = null;
	this.focus = null;
};

HSK.App.prototype.boot = function () {
	var app = this, h = HSK.h, m = this.model, main = document.getElementById("main");
	main.textContent = "";
	app.banner();
	app.tabs = {};
	app.panes = {};
	var nav = document.getElementById("tabs");
	[["conn", "Connection"], ["index", "Connections (" + HSK.fmtNum(m.conns.length) + ")"],
	 ["listen", "Listeners (" + m.listeners.length + ")"], ["counters", "Counters and table"],
	 ["about", "About this page"]].forEach(function (t) {
		if (t[0] === "listen" && !m.listeners.length)
			return;
		app.tabs[t[0]] = h("button", { class: "tab", "data-tab": t[0], onclick: function () { app.showTab(t[0]); } }, t[1]);
		nav.appendChild(app.tabs[t[0]]);
		app.panes[t[0]] = h("section", { class: "pane", id: "pane-" + t[0], hidden: true });
		main.appendChild(app.panes[t[0]]);
	});
	app.buildConnPane();
	app.index = new HSK.Index(app, app.panes.index);
	app.index.show();
	HSK.counterView(app, app.panes.counters);
	app.about(app.panes.about);
	app.tooltips();
	if (m.listeners.length)
		app.listenerPane();
	/* where to start: the hash, else every connection together when they
	 * are few, else the index */
	var hash = location.hash.replace(/^#/, ""), mt;
	if ((mt = /^conn=(\d+)$/.exec(hash)) && m.conns[+mt[1]])
		app.openConn(m.conns[+mt[1]]);
	else if (/^(index|listen|counters|about)$/.test(hash) && app.tabs[hash])
		app.showTab(hash);
	else if (m.conns.length === 1)
		app.openConn(m.conns[0]);
	else if (m.conns.length && (m.conns.length <= 20 && m.peers(m.conns[0]).length === m.conns.length))
		app.openGroup(m.conns[0]);
	else
		app.showTab(m.conns.length ? "index" : (m.listeners.length ? "listen" : "counters"));
	document.addEventListener("keydown", function (ev) {
		if (ev.target.tagName === "INPUT" || !app.sel || app.sel.ev)
			return;
		if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
			var segs = app.sel.conn.segs, i = segs.indexOf(app.sel) + (ev.key === "ArrowRight" ? 1 : -1);
			if (i >= 0 && i < segs.length)
				app.select(segs[i]);
			ev.preventDefault();
		}
	});
};

HSK.App.prototype.banner = function () {
	var h = HSK.h, m = this.model, d = m.data, b = document.getElementById("banner"), sum = d.summary, facts;
	facts = [(d.source === "pcap" ? "from a pcap" : "from a JSON trace"),
		HSK.fmtNum(m.raw.length) + " events", HSK.fmtNum(m.conns.reduce(function (n, c) {
			return n + c.nsegs; }, 0)) + " segments",
		HSK.fmtNum(m.conns.length) + " connections", "hosts: " + m.hosts.join(", "),
		"span " + HSK.fmtDur(m.t1 - m.t0)];
	b.appendChild(h("p", { class: "facts" }, facts.join(" · ")));
	if (m.inferred)
		b.appendChild(h("p", { class: "warn" }, "States are inferred: a pcap records segments, not states, so " +
			"each end's state is deduced from what it sent and received (RFC 9293's state diagram) and written in italics. " +
			"What a capture cannot show (a dropped final ACK, the end of TIME_WAIT, queues, cwnd) is not drawn."));
	(d.notes || []).forEach(function (n) { b.appendChild(h("p", { class: "note" }, n)); });
	if (sum) {
		var line = [];
		if (sum.scenario) line.push("scenario " + sum.scenario);
		if (sum.outcome) line.push("outcome: " + sum.outcome);
		b.appendChild(h("p", { class: "facts" }, line.join(" · ")));
		if (sum.notes && sum.notes.length) {
			var ul = h("ul", { class: "plain notes" });
			sum.notes.forEach(function (n) { ul.appendChild(h("li", null, n)); });
			b.appendChild(ul);
		}
	}
};

HSK.App.prototype.showTab = function (name) {
	var app = this;
	Object.keys(app.panes).forEach(function (k) {
		app.panes[k].hidden = k !== name;
		app.tabs[k].classList.toggle("active", k === name);
	});
	if (name === "listen")
		(app.listenDraw || []).forEach(function (f) { f(); });
	if (name !== "conn")
		history.replaceState(null, "", "#" + name);
};

HSK.App.prototype.buildConnPane = function () {
	var app = this, h = HSK.h, p = app.panes.conn;
	app.pick = h("select", { id: "conn-pick", onchange: function () {
		var v = this.value;
		if (v === "all") app.openGroup(app.conn);
		else app.openConn(app.model.conns[+v]);
	} });
	app.connInfo = h("span", { class: "conn-info" });
	p.appendChild(h("div", { class: "conn-bar" },
		h("button", { onclick: function () { app.step(-1); }, title: "previous connection" }, "◀"), " ",
		app.pick, " ",
		h("button", { onclick: function () { app.step(1); }, title: "next connection" }, "▶"), " ",
		h("label", null, h("input", { type: "checkbox", onchange: function () {
			app.diagram.abs = this.checked;
			app.diagram.render();
		} }), " absolute sequence numbers"), " ", app.connInfo));
	var left = h("div", { class: "pane-left" },
		h("h2", null, "Sequence diagram"),
		h("p", { class: "legend" }, h("span", { class: "lg arrived" }, "arrived"), " ",
			h("span", { class: "lg retrans" }, "retransmission"), " ",
			h("span", { class: "lg lost" }, "lost / dropped ✕"), " ",
			h("span", { class: "lg unseen" }, "not received ?"), " · hover for every field, click to select"));
	app.diagHost = h("div", { id: "diagram", class: "scroll" });
	left.appendChild(app.diagHost);
	app.details = h("div", { id: "details", class: "details" },
		h("p", { class: "hint" }, "Click a segment or a state in any view: it is highlighted in all of them, and explained here."));
	app.queueHost = h("div", { id: "queues" });
	app.queueHead = h("h2", { hidden: true }, "Listener queues");
	app.tsgHost = h("div", { id: "tsg" });
	app.ccHost = h("div", { id: "cc" });
	app.tlHost = h("div", { id: "timeline" });
	app.focusInfo = h("span", { class: "hint" });
	var right = h("div", { class: "pane-right" }, app.details, app.queueHead, app.queueHost,
		h("h2", null, "Time-sequence graph ", app.focusInfo), app.tsgHost,
		h("h2", null, "Congestion window and RTT"), app.ccHost,
		h("h2", null, "States over time"), app.tlHost);
	p.appendChild(h("div", { class: "conn-grid" }, left, right));
	app.diagram = new HSK.Diagram(app, app.diagHost);
	app.tsg = new HSK.Tsg(app, app.tsgHost);
	app.charts = new HSK.Charts(app);
	app.timeline = new HSK.Timeline(app, app.tlHost);
};

HSK.App.prototype.fillPicker = function (c) {
	var app = this, h = HSK.h, m = app.model, group = m.peers(c), list;
	app.pick.textContent = "";
	if (group.length > 1 && group.length <= 50)
		app.pick.appendChild(h("option", { value: "all" }, "all " + group.length + " connections between " +
			(c.sides[0].host || "?") + " and " + (c.sides[1].host || "?")));
	list = m.conns.length <= 500 ? m.conns : [c];
	list.forEach(function (x) {
		app.pick.appendChild(h("option", { value: x.id }, "#" + x.id + " " + HSK.connLabel(x) + " · " + x.outcome));
	});
	app.pick.value = app.mode === "group" ? "all" : String(c.id);
};

HSK.App.prototype.step = function (d) {
	var m = this.model, i = this.conn ? this.conn.id + d : 0;
	if (i >= 0 && i < m.conns.length)
		this.openConn(m.conns[i]);
};

/* Draws the connection views for `conns` (the diagram and the timeline
 * take them all; the graphs take the focus). */
HSK.App.prototype.drawConns = function (conns, focus) {
	var app = this, m = app.model, extra = [];
	/* a listener's own states, when the view holds all its connections */
	m.listeners.forEach(function (l) {
		if (l.conns.length && l.conns.every(function (c) { return conns.indexOf(c) >= 0; }))
			extra = extra.concat(l.states);
	});
	var t = performance.now(), tm = app.timings = app.timings || {};
	m.load(conns);
	conns.forEach(function (c) { m.resolve(c); });
	app.sel = null;
	app.diagram.show(conns, extra.sort(function (a, b) { return a.i - b.i; }));
	tm.diagram = performance.now() - t;
	/* the queues of the listener these connections came through */
	var l = conns[0].listener;
	app.queueHost.textContent = "";
	app.queueHead.hidden = !l || !l.q.length;
	if (app.queueCharts)
		app.queueCharts.clear();
	if (l && l.q.length) {
		app.queueHead.textContent = "Queues of the listener " + l.ep + " on " + l.host;
		app.queueCharts = app.queueCharts || new HSK.Charts(app);
		app.queueCharts.queues(app.queueHost, l);
	}
	t = performance.now();
	app.timeline.show(conns);
	tm.timeline = performance.now() - t;
	t = performance.now();
	app.setFocus(focus);
	tm.graphs = performance.now() - t;
	var c = conns[0], info = conns.length > 1 ? conns.length + " connections" :
		HSK.connLabel(c) + " · " + c.outcome + " · " + HSK.fmtDur(c.t1 - c.t0) + " · " +
		HSK.fmtNum(c.sides[0].bytes) + " B → · " + HSK.fmtNum(c.sides[1].bytes) + " B ← · " +
		c.nretrans + " retransmissions";
	app.connInfo.textContent = info;
};

HSK.App.prototype.setFocus = function (c) {
	var app = this;
	app.focus = c;
	app.focusInfo.textContent = app.mode === "group" ? "(connection #" + c.id + " " + HSK.connLabel(c) + ")" : "";
	app.tsg.show(c);
	app.charts.clear();
	app.charts.congestion(app.ccHost, c);
};

HSK.App.prototype.openConn = function (c) {
	this.mode = "one";
	this.conn = c;
	this.showTab("conn");
	this.fillPicker(c);
	this.drawConns([c], c);
	history.replaceState(null, "", "#conn=" + c.id);
};

HSK.App.prototype.openGroup = function (c) {
	var group = this.model.peers(c), focus = group[0];
	group.forEach(function (x) {
		if (x.sides[0].bytes + x.sides[1].bytes > focus.sides[0].bytes + focus.sides[1].bytes)
			focus = x;
	});
	this.mode = "group";
	this.conn = c;
	this.showTab("conn");
	this.fillPicker(c);
	this.drawConns(group, focus);
	history.replaceState(null, "", "#all");
};

/* sel: a segment, or {ev: a state event} */
HSK.App.prototype.select = function (sel) {
	var app = this;
	if (!sel)
		return;
	app.sel = sel;
	var c = sel.ev ? app.model.connOf(sel.ev.i) : sel.conn;
	if (c && c !== app.focus && app.mode === "group")
		app.setFocus(c);
	app.details.textContent = "";
	app.details.appendChild(HSK.describe(app, sel, false));
	app.diagram.highlight(sel);
	app.tsg.highlight(sel);
	app.charts.highlight(sel);
	if (app.queueCharts)
		app.queueCharts.highlight(sel);
	app.timeline.highlight(sel);
};

HSK.App.prototype.lookup = function (el) {
	var m = this.model, s = el.getAttribute("data-seg"), e = el.getAttribute("data-ev");
	if (s !== null)
		return m.segs[+s];
	if (e !== null)
		return { ev: m.ev(+e) };
	return null;
};

HSK.App.prototype.tooltips = function () {
	var app = this, tip = document.getElementById("tip");
	document.addEventListener("mouseover", function (ev) {
		var el = ev.target.closest && ev.target.closest("[data-seg],[data-ev]"), sel;
		if (!el || !(sel = app.lookup(el))) {
			tip.hidden = true;
			return;
		}
		tip.textContent = "";
		tip.appendChild(HSK.describe(app, sel, true));
		tip.hidden = false;
		var x = ev.clientX + 16, y = ev.clientY + 16, r = tip.getBoundingClientRect();
		if (x + r.width > window.innerWidth) x = Math.max(0, ev.clientX - r.width - 16);
		if (y + r.height > window.innerHeight) y = Math.max(0, ev.clientY - r.height - 16);
		tip.style.left = x + "px";
		tip.style.top = y + "px";
	});
	document.addEventListener("click", function (ev) {
		var el = ev.target.closest && ev.target.closest("[data-seg],[data-ev]"), sel;
		if (el && (sel = app.lookup(el)))
			app.select(sel);
	});
};

HSK.App.prototype.listenerPane = function () {
	var app = this, h = HSK.h, p = app.panes.listen, m = app.model;
	p.appendChild(h("p", { class: "hint" }, "Each listener's SYN queue (half-open requests) and accept " +
		"queue (connections waiting for accept()) over time, against the backlog. ▼ red: a SYN or final ACK " +
		"dropped because the accept queue was full (ListenOverflows); ▼ orange: the SYN queue was full; " +
		"● blue: a SYN cookie sent or redeemed (RFC 4987); ✕: other drops at the listener. Click near a mark to open its connection."));
	m.listeners.forEach(function (l) {
		var sec = h("section", { class: "listener", "data-listener": l.id });
		sec.appendChild(h("h2", null, "Listener " + l.ep + " on " + l.host +
			(l.backlog !== null ? " · backlog " + l.backlog : "") + " · " + l.conns.length + " connections"));
		p.appendChild(sec);
		app.listenerCharts = app.listenerCharts || new HSK.Charts(app);
		var host = h("div");
		sec.appendChild(host);
		/* a hidden pane has no width yet: draw when first shown */
		var draw = function () {
			if (host.getAttribute("data-drawn"))
				return;
			host.setAttribute("data-drawn", "1");
			app.listenerCharts.queues(host, l);
		};
		app.listenDraw = (app.listenDraw || []).concat([draw]);
		var tb = h("tbody"), n = 0;
		l.marks.forEach(function (mk) {
			if (n++ >= 200)
				return;
			var c = mk.conn;
			tb.appendChild(h("tr", { class: "mk-" + mk.kind }, h("td", { class: "n" }, HSK.fmtMs(mk.t - m.t0)),
				h("td", null, mk.kind), h("td", null, mk.text),
				h("td", null, h("a", { href: "#conn=" + c.id, onclick: function (ev) {
					ev.preventDefault();
					app.openMark(mk);
				} }, "#" + c.id + " " + c.sides[0].ep))));
		});
		if (l.marks.length)
			sec.appendChild(h("details", { open: l.marks.length <= 20 || null },
				h("summary", null, l.marks.length + " overflow, drop and cookie events" + (l.marks.length > 200 ? " (the first 200)" : "")),
				h("table", { class: "grid" }, h("thead", null, h("tr", null, h("th", null, "ms"), h("th", null, "kind"),
					h("th", null, "what"), h("th", null, "connection"))), tb)));
	});
};

/* A listener's mark: its connection, with its segment or transition
 * selected. */
HSK.App.prototype.openMark = function (mk) {
	this.openConn(mk.conn);
	if (mk.state)
		this.select({ ev: this.model.ev(mk.i) });
	else
		this.select(this.model.segOf(mk.conn, this.model.ev(mk.i)));
};

HSK.App.prototype.about = function (p) {
	var h = HSK.h;
	p.appendChild(h("div", { class: "about" },
		h("h2", null, "What each view shows"),
		h("dl", null,
			h("dt", null, "Sequence diagram"), h("dd", null, "Client (the end that sent the first SYN) on the left, server on the right, time downwards. An arrow leaves at its transmission and lands at its reception, so its slant is its time in flight; long quiet gaps are shortened and labelled. Labels give flags, relative seq/ack (tick the box for absolute), len, window and options. Lost segments stop two thirds of the way with ✕ and the reason; dropped ones reach the receiver with ✕; orange is a retransmission (RTO: after a timeout). Each side's new state is written where it changes, with its cause."),
			h("dt", null, "Time-sequence graph"), h("dd", null, "Sequence number against time for each direction that carries data: one I-beam per data segment, the ACK line (green), the receive window's edge (blue), SACK blocks (purple), RTOs (red dashes). Wheel to zoom, drag to pan, double-click to reset."),
			h("dt", null, "Congestion window and RTT"), h("dd", null, "The sender's cwnd, ssthresh, bytes in flight and the peer's window, sampled after each segment it sent; shaded: fast recovery; red: a retransmission timeout. Below, the smoothed RTT and the RTO. Drag to zoom, double-click to reset."),
			h("dt", null, "States over time"), h("dd", null, "Each end's state as a band; the time axis is warped so that both a millisecond handshake and a minute of TIME_WAIT are visible."),
			h("dt", null, "Listeners"), h("dd", null, "SYN queue and accept queue length against the backlog, with overflows, drops and SYN cookies."),
			h("dt", null, "Connections"), h("dd", null, "Every connection with its outcome, duration, bytes, segments and retransmissions; click a column to sort, type to filter, click a row to open it."),
			h("dt", null, "Counters and table"), h("dd", null, "The stacks' counters (named as netstat -s), the same counted from the trace, and the connections left at the end, as ss -tan lists them.")),
		h("p", null, "Each transition and segment links to the RFC section that governs it, with one line on why it happened. Times are from the start of the trace."),
		h("p", { class: "hint" }, "The charts of congestion and queues use uPlot (MIT licence, below); the diagram, the time-sequence graph and the timeline are drawn by this page in SVG, one element per segment, so each can be hovered, clicked and counted.")));
};

(function () {
	var T0 = performance.now();
	function fail(msg) {
		var main = document.getElementById("main");
		if (main) {
			main.textContent = "";
			main.appendChild(HSK.h("p", { class: "error", id: "report-error" }, "This report could not be drawn: " + msg));
		}
		window.hskReport = { ready: true, error: msg };
	}
	function start() {
		var el = document.getElementById("hsk-data"), data, app;
		var tm = {}, t = performance.now();
		try {
			data = JSON.parse(el.textContent);
			tm.parse = performance.now() - t;
			t = performance.now();
			app = new HSK.App(data);
			tm.model = performance.now() - t;
			t = performance.now();
			app.boot();
			tm.views = performance.now() - t;
			tm.detail = app.timings;
			tm.modelDetail = app.model.timings;
		} catch (err) {
			fail(err && err.message ? err.message : String(err));
			throw err;
		}
		window.hskReport = { ready: true, scriptMs: performance.now() - T0, loadMs: performance.now(),
			timings: tm, app: app, model: app.model };
		document.body.setAttribute("data-ready", "1");
	}
	if (document.readyState === "loading")
		document.addEventListener("DOMContentLoaded", start);
	else
		start();
})();
