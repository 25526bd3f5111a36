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
HSK.decode = function (d) {
	var str = d.str, K = HSK.KIND, out = new Array(d.ev.length), i, a, e, o;
	for (i = 0; i < d.ev.length; i++) {
		a = d.ev[i];
		e = { i: i, k: a[0], t: a[1], host: str[a[2]], o: a[3], sd: a[4],
			L: a[5] >= 0 ? str[a[5]] : null, R: a[6] >= 0 ? str[a[6]] : null };
		if (e.k === K.STATE) {
			e.from = a[7];
			e.to = a[8];
			e.cause = a[9] >= 0 ? str[a[9]] : "";
		} else if (e.k <= K.DROP) {
			e.flags = a[7];
			e.seq = a[8];
			e.ack = a[9];
			e.len = a[10];
			e.win = a[11];
			e.reason = a[12] >= 0 ? str[a[12]] : null;
			o = a[13];
			if (o) {
				e.mss = o[0];
				e.wscale = o[1];
				e.sackOk = !!o[2];
				if (o[3] >= 0) {
					e.tsval = o[3];
					e.tsecr = o[4];
				}
				if (o[5])
					e.sack = o[5];
			}
		} else if (e.k === K.CC) {
			e.cwnd = a[7];
			e.ssthresh = a[8] >= 0 ? a[8] : null;
			e.flight = a[9];
			e.sndWnd = a[10];
			e.srtt = a[11];
			e.rto = a[12];
			e.backoff = a[13];
			e.rec = !!a[14];
		} else {
			e.synq = a[7];
			e.acceptq = a[8];
			e.backlog = a[9];
		}
		out[i] = e;
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
	m.group();
	m.conns.forEach(function (c) { m.resolve(c); });
	m.attachListeners();
	m.conns.forEach(function (c) { m.summarize(c); });
};

/* The sender's endpoint of a segment event. Link drops (obj none) are
 * reported by the sender; a receiver's drop by the receiver. */
HSK.senderEp = function (e) {
	if (e.k === HSK.KIND.TX || (e.k === HSK.KIND.DROP && e.o === 4))
		return e.L;
	return e.R;
};

HSK.Model.prototype.group = function () {
	var m = this, K = HSK.KIND, byKey = {}, lis = {}, hostSeen = {}, i, e, key, c, sideInfo;
	function newConn(k) {
		c = { id: m.conns.length, key: k, ev: [], info: {}, firstSyn: null };
		m.conns.push(c);
		byKey[k] = c;
		return c;
	}
	function info(c, ep) {
		return c.info[ep] || (c.info[ep] = { ep: ep, host: null, syn: null, opened: false,
			last: null, n: 0 });
	}
	function ended(c) {
		var k, any = false;
		for (k in c.info) {
			if (c.info[k].n === 0)
				continue;
			any = true;
			if (c.info[k].last !== 0 && c.info[k].last !== 10)
				return false;
		}
		return any;
	}
	for (i = 0; i < m.events.length; i++) {
		e = m.events[i];
		if (!hostSeen[e.host]) {
			hostSeen[e.host] = true;
			m.hosts.push(e.host);
		}
		if (e.k === K.QUEUE || (e.L && (!e.R || /:0$/.test(e.R) && /^0\.0\.0\.0/.test(e.R)))) {
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
		key = e.L < e.R ? e.L + "|" + e.R : e.R + "|" + e.L;
		c = byKey[key] || newConn(key);
		if (e.k === K.STATE) {
			sideInfo = info(c, e.L);
			if ((e.from === 0 || e.from === 1) && (e.to === 2 || e.to === 3) &&
			    sideInfo.n > 0 && (sideInfo.opened || ended(c)))
				c = newConn(key);
			sideInfo = info(c, e.L);
			sideInfo.host = e.host;
			sideInfo.n++;
			sideInfo.last = e.to;
			if (e.to === 2 || e.to === 3)
				sideInfo.opened = true;
		} else if (e.k <= K.DROP && e.flags > 0 && (e.flags & 2) && !(e.flags & 16)) {
			sideInfo = info(c, HSK.senderEp(e));
			if ((sideInfo.syn !== null && sideInfo.syn !== e.seq) ||
			    (sideInfo.syn === null && ended(c)))
				c = newConn(key);
			sideInfo = info(c, HSK.senderEp(e));
			if (sideInfo.syn === null)
				sideInfo.syn = e.seq;
			if (c.firstSyn === null)
				c.firstSyn = HSK.senderEp(e);
		}
		if (e.k !== K.STATE && e.L && !info(c, e.L).host)
			info(c, e.L).host = e.host;
		c.ev.push(e);
	}
	/* sides: 0 is the end that sent the first SYN */
	m.conns.forEach(function (c) {
		var eps = Object.keys(c.info), a, b, t;
		c.ev.forEach(function (e) {
			if (eps.indexOf(e.L) < 0) eps.push(e.L);
			if (eps.indexOf(e.R) < 0) eps.push(e.R);
		});
		a = c.firstSyn;
		if (!a) {
			t = eps.filter(function (ep) { return c.info[ep] && c.info[ep].host === "client"; });
			a = t.length ? t[0] : null;
		}
		if (!a) {
			t = eps.filter(function (ep) {
				return c.info[ep] && c.ev.some(function (e) { return e.L === ep && e.k === K.STATE && e.from === 1; });
			});
			if (t.length)
				a = eps.filter(function (ep) { return ep !== t[0]; })[0];
		}
		if (!a) {
			t = c.ev.filter(function (e) { return e.k === K.TX; });
			a = t.length ? t[0].L : eps[0];
		}
		b = eps.filter(function (ep) { return ep !== a; })[0] || "?";
		c.sides = [a, b].map(function (ep) {
			return { ep: ep, host: c.info[ep] ? c.info[ep].host : null, states: [], cc: [],
				path: [], bytes: 0, segs: 0, retrans: 0, rto: 0 };
		});
		delete c.info;
	});
};

/* Matches transmissions, receptions and drops of one connection. */
HSK.Model.prototype.resolve = function (c) {
	var m = this, K = HSK.KIND, pend = [[], []], arrived = [[], []], maxEnd = [null, null];
	var lastCc = [null, null], lastBackoff = [0, 0], lastSynRx = [null, null], prevSeg = [null, null];
	c.segs = [];
	function sideOf(ep) {
		return ep === c.sides[0].ep ? 0 : 1;
	}
	function keyOf(e) {
		return e.flags + "/" + e.seq + "/" + e.ack + "/" + e.len;
	}
	function take(list, key, oldest) {
		var i;
		if (oldest) {
			for (i = 0; i < list.length; i++)
				if (list[i].key === key)
					return list.splice(i, 1)[0];
		} else {
			for (i = list.length - 1; i >= 0; i--)
				if (list[i].key === key)
					return list[i];
		}
		return null;
	}
	function newSeg(e, side, t) {
		var g = { id: m.segs.length, conn: c, side: side, key: keyOf(e), t: t, tArr: null,
			tx: null, rx: null, drop: null, status: "pending", flags: e.flags, seq: e.seq,
			ack: e.ack, len: e.len, win: e.win, e: e, retrans: false, rto: false,
			recovery: false, probe: false, cookie: false, dup: false, reason: null };
		var space = e.len + (e.flags & 2 ? 1 : 0) + (e.flags & 1 ? 1 : 0), end = (e.seq + space) >>> 0;
		if (e.flags >= 0 && !(e.flags & 4)) {
			if (space > 0 && maxEnd[side] !== null && HSK.seqDiff(e.seq, maxEnd[side]) < 0)
				g.retrans = true;
			if (space === 0 && e.flags === 16 && maxEnd[side] !== null &&
			    HSK.seqDiff(e.seq, maxEnd[side]) < 0)
				g.probe = true;
			if (space > 0 && (maxEnd[side] === null || HSK.seqDiff(end, maxEnd[side]) > 0))
				maxEnd[side] = end;
		}
		m.segs.push(g);
		c.segs.push(g);
		prevSeg[side] = g;
		return g;
	}
	c.ev.forEach(function (e) {
		var s, g, r;
		if (e.k === K.STATE) {
			s = sideOf(e.L);
			c.sides[s].states.push(e);
			return;
		}
		if (e.k === K.CC) {
			s = sideOf(e.L);
			c.sides[s].cc.push(e);
			g = prevSeg[s];
			if (g && g.tx && g.t === e.t && !g.cc) {
				g.cc = e;
				g.recovery = e.rec;
				if (g.retrans && e.backoff > lastBackoff[s])
					g.rto = true;
			}
			lastBackoff[s] = e.backoff;
			lastCc[s] = e;
			return;
		}
		if (e.k === K.TX) {
			s = sideOf(e.L);
			g = newSeg(e, s, e.t);
			g.tx = e;
			g.cookie = e.o === 3 && (e.flags & 18) === 18;
			if (g.retrans && (e.flags & 2) && !g.rto)
				/* SYN and SYN,ACK retransmissions are timer-driven, unless a
				 * SYN,ACK answers a duplicate SYN just received */
				g.rto = !((e.flags & 16) && lastSynRx[s] === e.t);
			pend[s].push(g);
			return;
		}
		if (e.k === K.RX) {
			r = sideOf(e.L);
			s = 1 - r;
			if (e.flags & 2 && !(e.flags & 16))
				lastSynRx[r] = e.t;
			g = take(pend[s], keyOf(e), true);
			if (g) {
				g.rx = e;
				g.tArr = e.t;
				g.status = "arrived";
				arrived[s].push(g);
				return;
			}
			var dup = take(arrived[s], keyOf(e), false);
			g = newSeg(e, s, e.t);
			g.rx = e;
			g.tArr = e.t;
			g.status = c.sides[s].host ? "arrived" : "untraced";
			g.dup = !!dup && !!c.sides[s].host;
			g.unmatched = !dup && !!c.sides[s].host;
			arrived[s].push(g);
			return;
		}
		/* a drop */
		if (e.flags < 0)
			return;
		if (e.o === 4) {
			s = sideOf(e.L);
			g = take(pend[s], keyOf(e), true);
			if (g) {
				g.status = "lost";
				g.drop = e;
				g.reason = e.reason;
				return;
			}
		} else {
			s = 1 - sideOf(e.L);
			g = take(pend[s], keyOf(e), true) || take(arrived[s], keyOf(e), false);
			if (g) {
				g.status = "dropped";
				g.drop = e;
				g.reason = e.reason;
				if (!g.tArr)
					g.tArr = e.t;
				return;
			}
		}
		g = newSeg(e, s, e.t);
		g.drop = e;
		g.status = e.o === 4 ? "lost" : "dropped";
		g.reason = e.reason;
		g.tArr = e.t;
	});
	[0, 1].forEach(function (s) {
		pend[s].forEach(function (g) {
			g.status = c.sides[1 - s].host ? "unseen" : "untraced";
		});
	});
};

HSK.Model.prototype.attachListeners = function () {
	var m = this, K = HSK.KIND;
	m.listeners.forEach(function (l) {
		l.states = l.ev.filter(function (e) { return e.k === K.STATE; });
		l.backlog = l.q.length ? l.q[l.q.length - 1].backlog : null;
	});
	m.conns.forEach(function (c) {
		var srv = c.sides[1], l = null;
		m.listeners.forEach(function (x) {
			if (!l && x.host === srv.host && x.port === HSK.portOf(srv.ep))
				l = x;
		});
		c.listener = l;
		if (!l)
			return;
		l.conns.push(c);
		c.segs.forEach(function (g) {
			var r = g.reason || "";
			if (g.drop && g.drop.host === l.host && /queue full|no memory/.test(r))
				l.marks.push({ t: g.drop.t, kind: /accept/.test(r) ? "overflow" : "synq", seg: g, text: r });
			else if (g.cookie)
				l.marks.push({ t: g.t, kind: "cookie", seg: g, text: "SYN cookie sent" });
			else if (g.drop && g.drop.host === l.host)
				l.marks.push({ t: g.drop.t, kind: "drop", seg: g, text: r });
		});
		c.sides[1].states.forEach(function (e) {
			if (/SYN cookie/.test(e.cause))
				l.marks.push({ t: e.t, kind: "cookie-ack", state: e, text: e.cause });
		});
	});
	m.listeners.forEach(function (l) {
		l.marks.sort(function (a, b) { return a.t - b.t; });
	});
};

/* Per-connection figures for the index. */
HSK.Model.prototype.summarize = function (c) {
	var all = [], est = false, t0 = Infinity, t1 = -Infinity;
	c.ev.forEach(function (e) {
		if (e.t < t0) t0 = e.t;
		if (e.t > t1) t1 = e.t;
	});
	c.t0 = t0;
	c.t1 = t1;
	c.sides.forEach(function (sd) {
		sd.path = sd.states.length ? [HSK.STATES[sd.states[0].from]] : [];
		sd.states.forEach(function (e) {
			sd.path.push(HSK.STATES[e.to]);
			if (e.to === 4)
				est = true;
			all.push(e);
		});
		sd.last = sd.states.length ? sd.states[sd.states.length - 1].to : null;
	});
	c.nretrans = 0;
	c.nrto = 0;
	c.ndrop = 0;
	c.segs.forEach(function (g) {
		var sd = c.sides[g.side];
		sd.segs++;
		if (g.retrans) {
			sd.retrans++;
			c.nretrans++;
		} else if (g.len > 0 && g.flags >= 0) {
			sd.bytes += g.len;
		}
		if (g.rto) {
			sd.rto++;
			c.nrto++;
		}
		if (g.status === "lost" || g.status === "dropped")
			c.ndrop++;
	});
	c.outcome = HSK.outcome(c, all, est);
};

HSK.outcome = function (c, states, est) {
	var i, e, cause, reasons = c.segs.map(function (g) { return g.reason || ""; }).join(" ");
	for (i = 0; i < states.length; i++) {
		e = states[i];
		cause = e.cause.replace(/^inferred: /, "");
		if (e.from === 2 && e.to === 0 && /RST/.test(cause))
			return "refused";
		if ((e.to === 0 || (e.from === 3 && e.to === 1)) && /RST|abort|reset|listener closed/.test(cause))
			return est ? "reset" : "reset in handshake";
		if (e.to === 0 && e.from !== 10 && /timeout|exhausted|retries|keepalive/.test(cause))
			return est ? "timed out" : "handshake timed out";
	}
	if (!states.length) {
		if (c.segs.some(function (g) { return g.cookie; }))
			return "SYN cookie";
		if (/queue full/.test(reasons))
			return "SYN dropped";
		if (c.segs.some(function (g) { return g.flags & 4; }))
			return "reset";
		return "segments only";
	}
	var open = c.sides.filter(function (sd) {
		return sd.last !== null && sd.last !== 0 && sd.last !== 10 && sd.last !== 1;
	});
	if (open.length)
		return "open (" + open.map(function (sd) { return HSK.STATES[sd.last]; }).join(", ") + ")";
	if (c.sides.some(function (sd) { return sd.last === 10; }))
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

/* The counters of `netstat -s` that the trace itself can tell, per host. */
HSK.Model.prototype.traceCounters = function () {
	var out = {}, K = HSK.KIND;
	function bump(h, n, v) {
		out[h] = out[h] || {};
		out[h][n] = (out[h][n] || 0) + (v === undefined ? 1 : v);
	}
	this.events.forEach(function (e) {
		if (e.k === K.TX) bump(e.host, "OutSegs");
		else if (e.k === K.RX) bump(e.host, "InSegs");
		else if (e.k === K.STATE) {
			if (e.from === 0 && e.to === 2) bump(e.host, "ActiveOpens");
			if (e.from === 3 && e.to === 4 && e.o === 0 && !/simultaneous/.test(e.cause)) bump(e.host, "PassiveOpens");
			if (e.from === 2 && e.to === 0) bump(e.host, "AttemptFails");
			if ((e.from === 4 || e.from === 7) && e.to === 0 && /RST/.test(e.cause)) bump(e.host, "EstabResets");
		} else if (e.k === K.DROP && e.o !== 4) {
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
	});
	this.segs.forEach(function (g) {
		var h = g.tx ? g.tx.host : null;
		if (!h)
			return;
		if (g.retrans) bump(h, "RetransSegs");
		if (g.rto && g.len > 0) bump(h, "TCPTimeouts");
		if (g.rto && (g.flags & 2)) bump(h, "TCPSynRetrans");
		if (g.cookie) bump(h, "SyncookiesSent");
		if (g.flags > 0 && (g.flags & 4)) bump(h, "OutRsts");
	});
	return out;
};
