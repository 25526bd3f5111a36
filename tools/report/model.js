/*
 * The model: the embedded events decoded, grouped into connections and
 * listeners, and every segment resolved the way the text diagram does it
 * (src/trace/diagram.c): a transmission is matched with the reception of
 * the same segment at the other end (flags, seq, ack, len), or with a drop
 * reported by the network (on the sender) or by the receiver.
 *
 * A connection is a 4-tuple incarnation: a new one starts when a SYN with
 * a new sequence number leaves an end that already sent one, or when an end
 * that has finished (CLOSED, TIME_WAIT) opens again. Side 0 (the left
 * column) is the end that sent the first SYN, side 1 the other.
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
	var S = function () { return HSK.decode.str; };
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

HSK.decode = function (d) {
	var n = d.ev.length, out = new Array(n), i, a, K = HSK.EvKinds;
	HSK.decode.str = d.str;
	for (i = 0; i < n; i++) {
		a = d.ev[i];
		out[i] = new K[a[0]](i, a, d.str);
	}
	return out;
};

HSK.portOf = function (ep) {
	var i = ep ? ep.lastIndexOf(":") : -1;
	return i < 0 ? 0 : +ep.slice(i + 1);
};

HSK.Model = function (data) {
	var m = this;
	m.data = data;
	m.inferred = !!data.inferred;
	m.events = HSK.decode(data);
	m.t0 = m.events.length ? m.events[0].t : 0;
	m.t1 = m.events.length ? m.events[m.events.length - 1].t : 0;
	m.hosts = [];
	m.conns = [];
	m.listeners = [];
	m.segs = [];
	m.loose = [];
	m.nsegs = 0;
	m.group();
	/* every connection is tallied (states, samples, counts, outcome);
	 * its segments are resolved when a view draws it (m.resolve) */
	m.resolver = new HSK.Resolver(m);
	var i;
	for (i = 0; i < m.conns.length; i++) {
		m.resolver.tally(m.conns[i]);
		m.summarize(m.conns[i]);
	}
	m.attachListeners();
};

/* The connection's segments, matched (once). */
HSK.Model.prototype.resolve = function (c) {
	if (c.segs === null) {
		c.segs = HSK.NONE;
		this.resolver.run(c);
		this.summarize(c);
	}
	return c.segs;
};

/* The sender's endpoint of a segment event. Link drops (obj none) are
 * reported by the sender; a receiver's drop by the receiver. */
HSK.senderEp = function (e) {
	if (e.k === HSK.KIND.TX || (e.k === HSK.KIND.DROP && e.o === 4))
		return e.L;
	return e.R;
};

/* One end of a connection: what grouping learns of it, then what the
 * views need. Arrays start shared and empty (HSK.NONE) and are made on the
 * first push (a SYN flood has 30,000 connections of three events). */
HSK.NONE = Object.freeze([]);
HSK.End = function (ep) {
	this.ep = ep;
	this.host = null;
	this.syn = null;        /* SEG.SEQ of its first SYN */
	this.opened = false;    /* it entered SYN_SENT or SYN_RECEIVED */
	this.passive = false;   /* it left LISTEN */
	this.last = null;       /* its latest state */
	this.n = 0;             /* its transitions */
	this.states = HSK.NONE;
	this.cc = HSK.NONE;
	this.bytes = this.segs = this.retrans = this.rto = 0;
};

HSK.push = function (obj, name, x) {
	if (obj[name] === HSK.NONE)
		obj[name] = [];
	obj[name].push(x);
};

/* "CLOSED SYN_SENT ..." of one end */
HSK.path = function (sd) {
	if (!sd.states.length)
		return "";
	return HSK.STATES[sd.states[0].from] + " " + sd.states.map(function (e) {
		return HSK.STATES[e.to];
	}).join(" ");
};

HSK.Model.prototype.group = function () {
	var m = this, K = HSK.KIND, byKey = new Map(), lis = {}, hostSeen = {}, i, e, key, c, end, ep;
	var nstr = m.data.str.length + 1;
	function newConn(k, e) {
		c = { id: m.conns.length, key: k, ev: [], sides: [new HSK.End(e.L), new HSK.End(e.R)],
			firstSyn: null, firstTx: null, segs: null };
		m.conns.push(c);
		byKey.set(k, c);
		return c;
	}
	function endOf(c, ep) {
		return c.sides[ep === c.sides[0].ep ? 0 : 1];
	}
	function ended(c) {
		var a = c.sides[0], b = c.sides[1];
		if (!a.n && !b.n)
			return false;
		return (!a.n || a.last === 0 || a.last === 10) && (!b.n || b.last === 0 || b.last === 10);
	}
	for (i = 0; i < m.events.length; i++) {
		e = m.events[i];
		if (!hostSeen[e.host]) {
			hostSeen[e.host] = true;
			m.hosts.push(e.host);
		}
		if (e.k === K.QUEUE || (e.L && (!e.R || e.R === "0.0.0.0:0"))) {
			key = e.host + "|" + e.L;
			if (!lis[key]) {
				lis[key] = { id: m.listeners.length, host: e.host, ep: e.L,
					port: HSK.portOf(e.L), ev: [], q: [], marks: [], conns: [] };
				m.listeners.push(lis[key]);
			}
			lis[key].ev.push(e);
			if (e.k === K.QUEUE)
				lis[key].q.push(e);
			continue;
		}
		if (!e.L || !e.R) {
			m.loose.push(e);
			continue;
		}
		/* the pair of endpoints as one number: their string indexes */
		key = e.a[5] < e.a[6] ? e.a[5] * nstr + e.a[6] : e.a[6] * nstr + e.a[5];
		c = byKey.get(key) || newConn(key, e);
		if (e.k === K.STATE) {
			end = endOf(c, e.L);
			if ((e.from === 0 || e.from === 1) && (e.to === 2 || e.to === 3) &&
			    end.n > 0 && (end.opened || ended(c)))
				c = newConn(key, e);
			end = endOf(c, e.L);
			end.host = e.host;
			end.n++;
			end.last = e.to;
			if (e.to === 2 || e.to === 3)
				end.opened = true;
			if (e.from === 1)
				end.passive = true;
		} else if (e.k <= K.DROP && e.flags > 0 && (e.flags & 2) && !(e.flags & 16)) {
			ep = HSK.senderEp(e);
			end = endOf(c, ep);
			if ((end.syn !== null && end.syn !== e.seq) || (end.syn === null && ended(c)))
				c = newConn(key, e);
			end = endOf(c, ep);
			if (end.syn === null)
				end.syn = e.seq;
			if (c.firstSyn === null)
				c.firstSyn = ep;
		}
		if (e.k !== K.STATE && (end = endOf(c, e.L)).host === null)
			end.host = e.host;
		if (e.k === K.TX && c.firstTx === null)
			c.firstTx = e.L;
		c.ev.push(e);
	}
	/* side 0 is the end that sent the first SYN (else the one called
	 * "client", else the one that did not listen, else the first sender) */
	for (i = 0; i < m.conns.length; i++) {
		c = m.conns[i];
		var a = c.sides[0], b = c.sides[1], first;
		if (c.firstSyn !== null)
			first = c.firstSyn === a.ep ? 0 : 1;
		else if (a.host === "client" || b.host === "client")
			first = a.host === "client" ? 0 : 1;
		else if (a.passive || b.passive)
			first = a.passive ? 1 : 0;
		else
			first = c.firstTx !== null && c.firstTx === b.ep ? 1 : 0;
		if (first)
			c.sides = [b, a];
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

/* The light pass over one connection, allocating nothing per segment:
 * each end's states and samples, and what the index shows (segments,
 * retransmissions, RTOs, drops, bytes, a cookie) counted the way
 * Resolver.run decides them. */
HSK.Resolver.prototype.tally = function (c) {
	var K = HSK.KIND, r = this, pend = r.pend, ep0 = c.sides[0].ep, me = r.maxEnd, i, e, s, sd;
	var lastBackoff = r.lastBackoff, lastSynRx = r.lastSynRx, prevRtx = [false, false], prevT = [null, null];
	var t = { segs: [0, 0], retrans: [0, 0], rto: [0, 0], bytes: [0, 0], drops: 0, cookie: false, rst: false, full: false };
	pend[0].clear(); pend[1].clear();
	me[0] = me[1] = null;
	lastBackoff[0] = lastBackoff[1] = 0;
	lastSynRx[0] = lastSynRx[1] = null;
	function count(e, s) {
		var space = e.len + (e.flags & 2 ? 1 : 0) + (e.flags & 1 ? 1 : 0), end = (e.seq + space) >>> 0, rtx = false;
		t.segs[s]++;
		if (e.flags & 4)
			t.rst = true;
		else if (space > 0) {
			rtx = me[s] !== null && HSK.seqDiff(e.seq, me[s]) < 0;
			if (me[s] === null || HSK.seqDiff(end, me[s]) > 0)
				me[s] = end;
		}
		if (rtx) {
			t.retrans[s]++;
			if ((e.flags & 2) && e.k === K.TX && !((e.flags & 16) && lastSynRx[s] === e.t))
				t.rto[s]++;
		} else if (e.len > 0) {
			t.bytes[s] += e.len;
		}
		prevRtx[s] = rtx && !(e.flags & 2);
		prevT[s] = e.k === K.TX ? e.t : null;
	}
	for (i = 0; i < c.ev.length; i++) {
		e = c.ev[i];
		s = e.L === ep0 ? 0 : 1;
		sd = c.sides[s];
		if (e.k === K.STATE) {
			HSK.push(sd, "states", e);
		} else if (e.k === K.CC) {
			HSK.push(sd, "cc", e);
			if (prevRtx[s] && prevT[s] === e.t && e.backoff > lastBackoff[s])
				t.rto[s]++;
			prevRtx[s] = false;
			lastBackoff[s] = e.backoff;
		} else if (e.k === K.TX) {
			count(e, s);
			if (e.o === 3 && (e.flags & 18) === 18)
				t.cookie = true;
			r.put(pend[s], e);
		} else if (e.k === K.RX) {
			if ((e.flags & 2) && !(e.flags & 16))
				lastSynRx[s] = e.t;
			if (!r.find(pend[1 - s], e, true))
				count(e, 1 - s);
		} else if (e.flags >= 0) {
			if (/queue full/.test(e.reason || ""))
				t.full = true;
			if (e.o !== 4)
				s = 1 - s;
			if (!r.find(pend[s], e, true) && e.o === 4)
				count(e, s);
			t.drops++;
		}
	}
	c.tally = t;
};

/* Each listener gets its connections (the server end's host and port)
 * and marks: drops at the listener, SYN cookies sent and redeemed. Marks
 * hold events; the segment is found when one is clicked (HSK.segOf). */
HSK.Model.prototype.attachListeners = function () {
	var m = this, K = HSK.KIND, byHostPort = new Map(), i, j, l, c, r, e, srv, key;
	for (i = 0; i < m.listeners.length; i++) {
		l = m.listeners[i];
		l.states = l.ev.filter(function (x) { return x.k === K.STATE; });
		l.backlog = l.q.length ? l.q[l.q.length - 1].backlog : null;
		key = l.host + "|" + l.port;
		if (!byHostPort.has(key))
			byHostPort.set(key, l);
	}
	if (!m.listeners.length)
		return;
	for (i = 0; i < m.conns.length; i++) {
		c = m.conns[i];
		srv = c.sides[1];
		l = byHostPort.get(srv.host + "|" + HSK.portOf(srv.ep)) || null;
		c.listener = l;
		if (!l)
			continue;
		l.conns.push(c);
		for (j = 0; j < c.ev.length; j++) {
			e = c.ev[j];
			if (e.host !== l.host)
				continue;
			if (e.k === K.DROP && e.o !== 4 && e.flags >= 0) {
				r = e.reason || "";
				l.marks.push({ t: e.t, kind: /accept queue full/.test(r) ? "overflow" :
					/queue full|no memory/.test(r) ? "synq" : "drop", ev: e, conn: c, text: r });
			} else if (e.k === K.TX && e.o === 3 && (e.flags & 18) === 18) {
				l.marks.push({ t: e.t, kind: "cookie", ev: e, conn: c, text: "SYN cookie sent" });
			} else if (e.k === K.STATE && /SYN cookie/.test(e.cause)) {
				l.marks.push({ t: e.t, kind: "cookie-ack", ev: e, conn: c, text: e.cause, state: true });
			}
		}
	}
	for (i = 0; i < m.listeners.length; i++)
		m.listeners[i].marks.sort(function (a, b) { return a.t - b.t; });
};

/* The segment an event belongs to (resolving its connection). */
HSK.Model.prototype.segOf = function (c, e) {
	var segs = this.resolve(c), i;
	for (i = 0; i < segs.length; i++)
		if (segs[i].tx === e || segs[i].rx === e || segs[i].drop === e)
			return segs[i];
	return null;
};

/* Per-connection figures for the index. */
HSK.Model.prototype.summarize = function (c) {
	var est = false, i, s, sd, g, t = c.tally;
	c.t0 = c.ev[0].t;
	c.t1 = c.ev[c.ev.length - 1].t;
	for (s = 0; s < 2; s++) {
		sd = c.sides[s];
		for (i = 0; i < sd.states.length; i++)
			if (sd.states[i].to === 4)
				est = true;
		sd.last = sd.states.length ? sd.states[sd.states.length - 1].to : null;
		sd.segs = t.segs[s];
		sd.retrans = t.retrans[s];
		sd.rto = t.rto[s];
		sd.bytes = t.bytes[s];
	}
	c.nsegs = t.segs[0] + t.segs[1];
	c.nretrans = t.retrans[0] + t.retrans[1];
	c.nrto = t.rto[0] + t.rto[1];
	c.ndrop = t.drops;
	if (c.segs !== null) {
		/* resolved: count from the segments themselves */
		c.resolvedCounts = { segs: c.segs.length, retrans: 0, rto: 0, drops: 0, bytes: [0, 0] };
		for (i = 0; i < c.segs.length; i++) {
			g = c.segs[i];
			if (g.retrans) c.resolvedCounts.retrans++;
			else if (g.len > 0 && g.flags >= 0) c.resolvedCounts.bytes[g.side] += g.len;
			if (g.rto) c.resolvedCounts.rto++;
			if (g.status === "lost" || g.status === "dropped") c.resolvedCounts.drops++;
		}
	}
	c.outcome = HSK.outcome(c, est);
};

/* One word or two on how a connection ended, from its transitions in
 * trace order (the first decisive one wins) or, without any, its segments. */
HSK.outcome = function (c, est) {
	var i, e, cause, n = 0, open = [], s, sd, cookie = false, full = false, rst = false;
	for (i = 0; i < c.ev.length; i++) {
		e = c.ev[i];
		if (e.k !== 0)
			continue;
		n++;
		cause = e.cause.indexOf("inferred: ") === 0 ? e.cause.slice(10) : e.cause;
		if (e.from === 2 && e.to === 0 && /RST/.test(cause))
			return "refused";
		if ((e.to === 0 || (e.from === 3 && e.to === 1)) && /RST|abort|reset|listener closed/.test(cause))
			return est ? "reset" : "reset in handshake";
		if (e.to === 0 && e.from !== 10 && /timeout|exhausted|retries|keepalive/.test(cause))
			return est ? "timed out" : "handshake timed out";
	}
	if (!n) {
		cookie = c.tally.cookie;
		full = c.tally.full;
		rst = c.tally.rst;
		return cookie ? "SYN cookie" : full ? "SYN dropped" : rst ? "reset" : "segments only";
	}
	for (s = 0; s < 2; s++) {
		sd = c.sides[s];
		if (sd.last !== null && sd.last !== 0 && sd.last !== 10 && sd.last !== 1)
			open.push(HSK.STATES[sd.last]);
	}
	if (open.length)
		return "open (" + open.join(", ") + ")";
	if (c.sides[0].last === 10 || c.sides[1].last === 10)
		return "closed (TIME_WAIT at the end)";
	return "closed";
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
	var out = {}, K = HSK.KIND, i, e, c, s;
	function bump(h, n, v) {
		if (!h)
			return;
		out[h] = out[h] || {};
		out[h][n] = (out[h][n] || 0) + (v === undefined ? 1 : v);
	}
	for (i = 0; i < this.events.length; i++) {
		e = this.events[i];
		if (e.k === K.TX) {
			bump(e.host, "OutSegs");
			if (e.flags & 4) bump(e.host, "OutRsts");
			if (e.o === 3 && (e.flags & 18) === 18) bump(e.host, "SyncookiesSent");
		} else if (e.k === K.RX) {
			bump(e.host, "InSegs");
		} else if (e.k === K.STATE) {
			if (e.from === 0 && e.to === 2) bump(e.host, "ActiveOpens");
			if (e.from === 3 && e.to === 4 && e.o === 0 && !/simultaneous/.test(e.cause)) bump(e.host, "PassiveOpens");
			if (e.from === 2 && e.to === 0) bump(e.host, "AttemptFails");
			if ((e.from === 4 || e.from === 7) && e.to === 0 && /RST/.test(e.cause)) bump(e.host, "EstabResets");
		} else if (e.k === K.DROP && e.o !== 4 && e.flags >= 0) {
			if (/accept queue full/.test(e.reason)) {
				bump(e.host, "ListenOverflows");
				bump(e.host, "ListenDrops");
			} else if (/SYN queue full/.test(e.reason)) {
				bump(e.host, "TCPReqQFullDrop");
				bump(e.host, "ListenDrops");
			} else if (/challenge ACK/.test(e.reason)) {
				bump(e.host, "TCPChallengeACK");
			}
		}
	}
	for (i = 0; i < this.conns.length; i++) {
		c = this.conns[i];
		for (s = 0; s < 2; s++) {
			if (c.tally.retrans[s]) bump(c.sides[s].host, "RetransSegs", c.tally.retrans[s]);
			if (c.tally.rto[s]) bump(c.sides[s].host, "RTOs (inferred)", c.tally.rto[s]);
		}
	}
	return out;
};
