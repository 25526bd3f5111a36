/*
 * The model: the embedded data decoded, connections and listeners built
 * from what `handshake report` worked out (tools/report_model.c: which
 * connection each event belongs to, the ends, the index's figures), and a
 * connection's segments resolved when a view draws it, the way the text
 * diagram does it (src/trace/diagram.c): a transmission is matched with
 * the reception of the same segment at the other end (flags, seq, ack,
 * len), or with a drop reported by the network (on the sender) or by the
 * receiver. Events are decoded only when needed: a 100,000-event page
 * builds 30,000 connections and no event object at load.
 */
/* One event: the common fields, and the kind's own read from its array
 * in the embedded data (getters on one prototype per kind), so that
 * decoding 100,000 events allocates little. */
HSK.Ev = function (i, a, str) {
	this.i = i;
	this.k = a[0];
	this.t = a[1];
	this.host = str[a[2]];
	this.o = a[3];
	this.sd = a[4];
	this.L = a[5] >= 0 ? str[a[5]] : null;
	this.R = a[6] >= 0 ? str[a[6]] : null;
	this.a = a;
};

(function () {
	function def(proto, name, get) {
		Object.defineProperty(proto, name, { get: get });
	}
	function kind(fields) {
		var P = function (i, a, str) { HSK.Ev.call(this, i, a, str); };
		P.prototype = Object.create(HSK.Ev.prototype);
		Object.keys(fields).forEach(function (k) { def(P.prototype, k, fields[k]); });
		return P;
	}
	var S = function () { return HSK.strs; };
	function opt(n, dflt) {
		return function () { var o = this.a[13]; return o ? o[n] : dflt; };
	}
	var none = function () { return undefined; };
	var zero = function () { return 0; };
	var common = { from: zero, to: zero, cause: function () { return ""; }, flags: function () { return -1; },
		seq: zero, ack: zero, len: zero, win: zero, reason: function () { return null; }, mss: zero,
		wscale: function () { return -1; }, sackOk: function () { return false; }, tsval: none,
		tsecr: none, sack: function () { return null; }, cwnd: zero, flight: zero, sndWnd: zero,
		srtt: zero, rto: zero, backoff: zero, ssthresh: function () { return null; },
		rec: function () { return false; }, synq: zero, acceptq: zero, backlog: zero };
	Object.keys(common).forEach(function (k) { def(HSK.Ev.prototype, k, common[k]); });
	HSK.EvKinds = [
		kind({ from: function () { return this.a[7]; }, to: function () { return this.a[8]; },
			cause: function () { return this.a[9] >= 0 ? S()[this.a[9]] : ""; } }),
		null, null, null,
		kind({ cwnd: function () { return this.a[7]; },
			ssthresh: function () { return this.a[8] >= 0 ? this.a[8] : null; },
			flight: function () { return this.a[9]; }, sndWnd: function () { return this.a[10]; },
			srtt: function () { return this.a[11]; }, rto: function () { return this.a[12]; },
			backoff: function () { return this.a[13]; }, rec: function () { return !!this.a[14]; } }),
		kind({ synq: function () { return this.a[7]; }, acceptq: function () { return this.a[8]; },
			backlog: function () { return this.a[9]; } })
	];
	HSK.EvKinds[1] = HSK.EvKinds[2] = HSK.EvKinds[3] = kind({
		flags: function () { return this.a[7]; }, seq: function () { return this.a[8]; },
		ack: function () { return this.a[9]; }, len: function () { return this.a[10]; },
		win: function () { return this.a[11]; },
		reason: function () { return this.a[12] >= 0 ? S()[this.a[12]] : null; },
		mss: opt(0, 0), wscale: opt(1, -1),
		sackOk: function () { var o = this.a[13]; return !!(o && o[2]); },
		tsval: function () { var o = this.a[13]; return o && o[3] >= 0 ? o[3] : undefined; },
		tsecr: function () { var o = this.a[13]; return o && o[3] >= 0 ? o[4] : undefined; },
		sack: function () { var o = this.a[13]; return o && o[5] ? o[5] : null; }
	});
})();

HSK.portOf = function (ep) {
	var i = ep ? ep.lastIndexOf(":") : -1;
	return i < 0 ? 0 : +ep.slice(i + 1);
};
/* The sender's endpoint of a segment event. Link drops (obj none) are
 * reported by the sender; a receiver's drop by the receiver. */
HSK.senderEp = function (e) {
	if (e.k === HSK.KIND.TX || (e.k === HSK.KIND.DROP && e.o === 4))
		return e.L;
	return e.R;
};

HSK.NONE = Object.freeze([]);

HSK.push = function (obj, name, x) {
	if (obj[name] === HSK.NONE)
		obj[name] = [];
	obj[name].push(x);
};

/* One end of a connection. */
HSK.End = function (ep, host, last) {
	this.ep = ep;
	this.host = host;
	this.last = last;       /* its last state, null: none traced */
	this.states = HSK.NONE;
	this.cc = HSK.NONE;
	this.bytes = this.segs = this.retrans = this.rto = 0;
};

/* "CLOSED SYN_SENT ..." of one end (once loaded) */
HSK.path = function (sd) {
	if (!sd.states.length)
		return "";
	return HSK.STATES[sd.states[0].from] + " " + sd.states.map(function (e) {
		return HSK.STATES[e.to];
	}).join(" ");
};

HSK.Model = function (data) {
	var m = this, S = data.str, T = performance.now(), tm = m.timings = {}, i, a, c, x, l;
	m.data = data;
	m.inferred = !!data.inferred;
	m.raw = data.ev;
	m.owner = data.owner;
	m.events = new Array(m.raw.length);     /* decoded on demand: m.ev(i) */
	HSK.strs = S;
	m.t0 = m.raw.length ? m.raw[0][1] : 0;
	m.t1 = m.raw.length ? m.raw[m.raw.length - 1][1] : 0;
	m.segs = [];
	m.loose = [];
	m.resolver = new HSK.Resolver(m);
	/* the connections, as report_model.c wrote them:
	 * [ep0, ep1, host0, host1, t0, t1, last0, last1, segs0, segs1,
	 *  retrans0, retrans1, rto0, rto1, bytes0, bytes1, drops, flags, outcome] */
	m.conns = new Array(data.conns.length);
	for (i = 0; i < data.conns.length; i++) {
		x = data.conns[i];
		c = { id: i, ev: null, segs: null, listener: null,
			sides: [new HSK.End(S[x[0]], x[2] >= 0 ? S[x[2]] : null, x[6] >= 0 ? x[6] : null),
				new HSK.End(S[x[1]], x[3] >= 0 ? S[x[3]] : null, x[7] >= 0 ? x[7] : null)],
			t0: x[4], t1: x[5], nsegs: x[8] + x[9], nretrans: x[10] + x[11], nrto: x[12] + x[13],
			ndrop: x[16], cookie: !!(x[17] & 1), outcome: S[x[18]] };
		c.sides[0].segs = x[8]; c.sides[1].segs = x[9];
		c.sides[0].retrans = x[10]; c.sides[1].retrans = x[11];
		c.sides[0].rto = x[12]; c.sides[1].rto = x[13];
		c.sides[0].bytes = x[14]; c.sides[1].bytes = x[15];
		m.conns[i] = c;
	}
	m.listeners = data.listeners.map(function (y, k) {
		return { id: k, host: S[y[0]], ep: S[y[1]], port: HSK.portOf(S[y[1]]), ev: [], q: [],
			marks: [], conns: [], states: [], backlog: null };
	});
	/* listener and loose events now; a connection's when it is drawn */
	var hosts = {};
	for (i = 0; i < m.raw.length; i++) {
		a = m.raw[i];
		hosts[a[2]] = 1;
		if (m.owner[i] >= 0)
			continue;
		if (m.owner[i] === -1) {
			m.loose.push(m.ev(i));
			continue;
		}
		l = m.listeners[-2 - m.owner[i]];
		x = m.ev(i);
		l.ev.push(x);
		if (x.k === HSK.KIND.QUEUE)
			l.q.push(x);
		else if (x.k === HSK.KIND.STATE)
			l.states.push(x);
	}
	m.hosts = Object.keys(hosts).map(function (k) { return S[k]; });
	m.attachListeners();
	tm.build = performance.now() - T;
};

/* Event i, decoded once. */
HSK.Model.prototype.ev = function (i) {
	return this.events[i] || (this.events[i] = new HSK.EvKinds[this.raw[i][0]](i, this.raw[i], this.data.str));
};

/* The connection an event belongs to, or null. */
HSK.Model.prototype.connOf = function (i) {
	return this.owner[i] >= 0 ? this.conns[this.owner[i]] : null;
};

/* Loads the events of these connections (one pass over the trace for all
 * of them): each end's states and congestion samples. */
HSK.Model.prototype.load = function (conns) {
	var m = this, want = {}, n = 0, i, c, e;
	conns.forEach(function (x) {
		if (x.ev === null) {
			want[x.id] = x;
			x.ev = [];
			n++;
		}
	});
	if (!n)
		return;
	for (i = 0; i < m.owner.length; i++) {
		c = want[m.owner[i]];
		if (!c)
			continue;
		e = m.ev(i);
		c.ev.push(e);
		if (e.k === HSK.KIND.STATE)
			HSK.push(c.sides[e.L === c.sides[0].ep ? 0 : 1], "states", e);
		else if (e.k === HSK.KIND.CC)
			HSK.push(c.sides[e.L === c.sides[0].ep ? 0 : 1], "cc", e);
	}
};

/* The connection's segments, matched (once); resolvedCounts then says
 * what they count, for a test to compare with the index's figures. */
HSK.Model.prototype.resolve = function (c) {
	var i, g, r;
	if (c.segs !== null)
		return c.segs;
	this.load([c]);
	c.segs = HSK.NONE;
	this.resolver.run(c);
	r = c.resolvedCounts = { segs: c.segs.length, retrans: 0, rto: 0, drops: 0, bytes: [0, 0] };
	for (i = 0; i < c.segs.length; i++) {
		g = c.segs[i];
		if (g.retrans) r.retrans++;
		else if (g.len > 0 && g.flags >= 0) r.bytes[g.side] += g.len;
		if (g.rto) r.rto++;
		if (g.status === "lost" || g.status === "dropped") r.drops++;
	}
	return c.segs;
};

/* Each listener gets its connections (the server end's host and port)
 * and marks: drops at the listener, SYN cookies sent and redeemed (read
 * from the raw events; a mark's segment is found when it is clicked). */
HSK.Model.prototype.attachListeners = function () {
	var m = this, S = m.data.str, byHostPort = new Map(), cache = new Map(), i, l, c, a, srv, r;
	if (!m.listeners.length)
		return;
	for (i = 0; i < m.listeners.length; i++) {
		l = m.listeners[i];
		l.backlog = l.q.length ? l.q[l.q.length - 1].backlog : null;
		if (!byHostPort.has(l.host + "|" + l.port))
			byHostPort.set(l.host + "|" + l.port, l);
	}
	for (i = 0; i < m.conns.length; i++) {
		c = m.conns[i];
		srv = c.sides[1];
		/* an endpoint names one host (its address), so it is the key */
		l = cache.get(srv.ep);
		if (l === undefined)
			cache.set(srv.ep, l = byHostPort.get(srv.host + "|" + HSK.portOf(srv.ep)) || null);
		c.listener = l;
		if (l)
			l.conns.push(c);
	}
	for (i = 0; i < m.raw.length; i++) {
		a = m.raw[i];
		c = m.owner[i] >= 0 ? m.conns[m.owner[i]] : null;
		if (!c || !(l = c.listener) || S[a[2]] !== l.host)
			continue;
		if (a[0] === 3 && a[3] !== 4 && a[7] >= 0) {
			r = a[12] >= 0 ? S[a[12]] : "";
			l.marks.push({ t: a[1], kind: /accept queue full/.test(r) ? "overflow" :
				/queue full|no memory/.test(r) ? "synq" : "drop", i: i, conn: c, text: r });
		} else if (a[0] === 1 && a[3] === 3 && (a[7] & 18) === 18) {
			l.marks.push({ t: a[1], kind: "cookie", i: i, conn: c, text: "SYN cookie sent" });
		} else if (a[0] === 0 && a[9] >= 0 && /SYN cookie/.test(S[a[9]])) {
			l.marks.push({ t: a[1], kind: "cookie-ack", i: i, conn: c, text: S[a[9]], state: true });
		}
	}
};


/* A segment: its transmission, reception and drop events as known. */
HSK.Seg = function (id, c, side, e) {
	this.id = id;
	this.conn = c;
	this.side = side;       /* the sender's side */
	this.t = e.t;           /* sent (or first seen) */
	this.tArr = null;       /* received or dropped by the receiver */
	this.tx = this.rx = this.drop = this.cc = null;
	this.status = "pending";
	this.flags = e.flags;
	this.seq = e.seq;
	this.ack = e.ack;
	this.len = e.len;
	this.win = e.win;
	this.e = e;
	this.retrans = this.rto = this.recovery = this.probe = this.cookie = false;
	this.dup = this.unmatched = false;
	this.reason = null;
};

/* Matches transmissions, receptions and drops of one connection; one
 * resolver serves every connection (its maps are cleared in between).
 * Segments are found by SEG.SEQ, then flags, ack and length compared: no
 * string per segment. */
HSK.Resolver = function (m) {
	this.m = m;
	this.pend = [new Map(), new Map()];     /* seq -> segments in flight, oldest first */
	this.arrived = [new Map(), new Map()];  /* seq -> segments arrived, in order */
	this.maxEnd = [null, null];
	this.prev = [null, null];
	this.lastBackoff = [0, 0];
	this.lastSynRx = [null, null];
};

HSK.same = function (g, e) {
	return g.flags === e.flags && g.ack === e.ack && g.len === e.len;
};

/* The oldest (or, !oldest, the latest) segment in map matching e; taken
 * out of the map when oldest. */
HSK.Resolver.prototype.find = function (map, e, oldest) {
	var b = map.get(e.seq), i;
	if (b === undefined)
		return null;
	if (!Array.isArray(b)) {
		if (!HSK.same(b, e))
			return null;
		if (oldest)
			map.delete(e.seq);
		return b;
	}
	if (oldest) {
		for (i = 0; i < b.length; i++)
			if (HSK.same(b[i], e))
				return b.splice(i, 1)[0];
	} else {
		for (i = b.length - 1; i >= 0; i--)
			if (HSK.same(b[i], e))
				return b[i];
	}
	return null;
};

HSK.Resolver.prototype.put = function (map, g) {
	var b = map.get(g.seq);
	if (b === undefined)
		map.set(g.seq, g);
	else if (Array.isArray(b))
		b.push(g);
	else
		map.set(g.seq, [b, g]);
};

HSK.Resolver.prototype.newSeg = function (e, side) {
	var g = new HSK.Seg(this.m.segs.length, this.c, side, e), me = this.maxEnd;
	var space = e.len + (e.flags & 2 ? 1 : 0) + (e.flags & 1 ? 1 : 0), end = (e.seq + space) >>> 0;
	if (e.flags >= 0 && !(e.flags & 4)) {
		if (space > 0 && me[side] !== null && HSK.seqDiff(e.seq, me[side]) < 0)
			g.retrans = true;
		if (space === 0 && e.flags === 16 && me[side] !== null && HSK.seqDiff(e.seq, me[side]) < 0)
			g.probe = true;
		if (space > 0 && (me[side] === null || HSK.seqDiff(end, me[side]) > 0))
			me[side] = end;
	}
	this.m.segs.push(g);
	HSK.push(this.c, "segs", g);
	this.prev[side] = g;
	return g;
};

HSK.Resolver.prototype.run = function (c) {
	var K = HSK.KIND, r = this, pend = r.pend, arrived = r.arrived, ep0 = c.sides[0].ep, i, e, s, g, q;
	var lastBackoff = r.lastBackoff, lastSynRx = r.lastSynRx, dup;
	pend[0].clear(); pend[1].clear(); arrived[0].clear(); arrived[1].clear();
	r.c = c;
	r.maxEnd[0] = r.maxEnd[1] = r.prev[0] = r.prev[1] = null;
	lastBackoff[0] = lastBackoff[1] = 0;
	lastSynRx[0] = lastSynRx[1] = null;
	for (i = 0; i < c.ev.length; i++) {
		e = c.ev[i];
		s = e.L === ep0 ? 0 : 1;        /* the side of the host that reported it */
		if (e.k === K.STATE)
			continue;
		if (e.k === K.CC) {
			g = r.prev[s];
			if (g && g.tx && g.t === e.t && !g.cc) {
				g.cc = e;
				g.recovery = e.rec;
				if (g.retrans && e.backoff > lastBackoff[s])
					g.rto = true;
			}
			lastBackoff[s] = e.backoff;
			continue;
		}
		if (e.k === K.TX) {
			g = r.newSeg(e, s);
			g.tx = e;
			g.cookie = e.o === 3 && (e.flags & 18) === 18;
			if (g.retrans && (e.flags & 2) && !g.rto)
				/* SYN and SYN,ACK retransmissions are timer-driven, unless a
				 * SYN,ACK answers a duplicate SYN just received */
				g.rto = !((e.flags & 16) && lastSynRx[s] === e.t);
			r.put(pend[s], g);
			continue;
		}
		if (e.k === K.RX) {
			if ((e.flags & 2) && !(e.flags & 16))
				lastSynRx[s] = e.t;
			s = 1 - s;              /* the sender */
			g = r.find(pend[s], e, true);
			if (!g) {
				dup = r.find(arrived[s], e, false);
				g = r.newSeg(e, s);
				g.dup = !!dup && !!c.sides[s].host;
				g.unmatched = !dup && !!c.sides[s].host;
			}
			g.rx = e;
			g.tArr = e.t;
			g.status = g.tx || c.sides[s].host ? "arrived" : "untraced";
			r.put(arrived[s], g);
			continue;
		}
		/* a drop: the network's (obj none) on the sender, else the receiver's */
		if (e.flags < 0)
			continue;
		if (e.o !== 4)
			s = 1 - s;
		g = r.find(pend[s], e, true);
		if (!g && e.o !== 4)
			g = r.find(arrived[s], e, false);
		if (!g) {
			g = r.newSeg(e, s);
			g.tArr = e.t;
		}
		g.status = e.o === 4 ? "lost" : "dropped";
		g.drop = e;
		g.reason = e.reason;
		if (g.tArr === null && e.o !== 4)
			g.tArr = e.t;
	}
	for (s = 0; s < 2; s++) {
		q = c.sides[1 - s].host ? "unseen" : "untraced";
		pend[s].forEach(function (b) {
			if (Array.isArray(b))
				b.forEach(function (x) { x.status = q; });
			else
				b.status = q;
		});
	}
};

/* The segment an event belongs to (resolving its connection). */
HSK.Model.prototype.segOf = function (c, e) {
	var segs = this.resolve(c), i;
	for (i = 0; i < segs.length; i++)
		if (segs[i].tx === e || segs[i].rx === e || segs[i].drop === e)
			return segs[i];
	return null;
};

/* Label of a connection: "198.18.0.1:50643 → 198.18.0.2:80". */
HSK.connLabel = function (c) {
	return c.sides[0].ep + " → " + c.sides[1].ep;
};

/* Connections between the same two hosts (the diagram can draw them
 * together, as the text diagram does). */
HSK.Model.prototype.peers = function (c) {
	var a = c.sides[0].host || c.sides[0].ep.replace(/:\d+$/, ""),
	    b = c.sides[1].host || c.sides[1].ep.replace(/:\d+$/, "");
	return this.conns.filter(function (x) {
		return (x.sides[0].host || x.sides[0].ep.replace(/:\d+$/, "")) === a &&
		       (x.sides[1].host || x.sides[1].ep.replace(/:\d+$/, "")) === b;
	});
};

/* The counters of `netstat -s` that the trace itself can tell, per host
 * (retransmissions as the report infers them). */
HSK.Model.prototype.traceCounters = function () {
	var out = {}, S = this.data.str, i, a, h, c, s, cause, reason;
	function bump(host, n, v) {
		if (!host)
			return;
		out[host] = out[host] || {};
		out[host][n] = (out[host][n] || 0) + (v === undefined ? 1 : v);
	}
	for (i = 0; i < this.raw.length; i++) {
		a = this.raw[i];
		h = S[a[2]];
		if (a[0] === 1) {
			bump(h, "OutSegs");
			if (a[7] & 4) bump(h, "OutRsts");
			if (a[3] === 3 && (a[7] & 18) === 18) bump(h, "SyncookiesSent");
		} else if (a[0] === 2) {
			bump(h, "InSegs");
		} else if (a[0] === 0) {
			cause = a[9] >= 0 ? S[a[9]] : "";
			if (a[7] === 0 && a[8] === 2) bump(h, "ActiveOpens");
			if (a[7] === 3 && a[8] === 4 && a[3] === 0 && !/simultaneous/.test(cause)) bump(h, "PassiveOpens");
			if (a[7] === 2 && a[8] === 0) bump(h, "AttemptFails");
			if ((a[7] === 4 || a[7] === 7) && a[8] === 0 && /RST/.test(cause)) bump(h, "EstabResets");
		} else if (a[0] === 3 && a[3] !== 4 && a[7] >= 0) {
			reason = a[12] >= 0 ? S[a[12]] : "";
			if (/accept queue full/.test(reason)) {
				bump(h, "ListenOverflows");
				bump(h, "ListenDrops");
			} else if (/SYN queue full/.test(reason)) {
				bump(h, "TCPReqQFullDrop");
				bump(h, "ListenDrops");
			} else if (/challenge ACK/.test(reason)) {
				bump(h, "TCPChallengeACK");
			}
		}
	}
	for (i = 0; i < this.conns.length; i++) {
		c = this.conns[i];
		for (s = 0; s < 2; s++) {
			if (c.sides[s].retrans) bump(c.sides[s].host, "RetransSegs", c.sides[s].retrans);
			if (c.sides[s].rto) bump(c.sides[s].host, "RTOs (inferred)", c.sides[s].rto);
		}
	}
	return out;
};
