/*
 * handshake report: shared helpers. The page's script is these files joined
 * in this order (CMakeLists.txt, HSK_REPORT_JS): core, model, diagram, tsg,
 * charts, views, app. Everything lives in one object, HSK, so nothing leaks
 * into the page's globals but HSK itself.
 */
"use strict";
var HSK = {};

HSK.STATES = ["CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"];
HSK.OBJS = ["tcb", "req", "tw", "listen", "none"];
HSK.KIND = { STATE: 0, TX: 1, RX: 2, DROP: 3, CC: 4, QUEUE: 5 };
HSK.F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 };
HSK.SVGNS = "http://www.w3.org/2000/svg";

/* An HTML element: h("td", {class: "n"}, "text", child, ...). */
HSK.h = function (tag, attrs) {
	var e = document.createElement(tag), k, i, c;
	for (k in attrs || {}) {
		if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false)
			continue;
		if (k.slice(0, 2) === "on")
			e.addEventListener(k.slice(2), attrs[k]);
		else if (k === "text")
			e.textContent = attrs[k];
		else
			e.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
	}
	function add(x) {
		if (x === null || x === undefined)
			return;
		if (Array.isArray(x))
			x.forEach(add);
		else
			e.appendChild(typeof x === "object" ? x : document.createTextNode(String(x)));
	}
	for (i = 2; i < arguments.length; i++) {
		c = arguments[i];
		add(c);
	}
	return e;
};

/* An SVG element with attributes (and text, when given). */
HSK.s = function (tag, attrs, text) {
	var e = document.createElementNS(HSK.SVGNS, tag), k;
	for (k in attrs || {})
		if (attrs[k] !== null && attrs[k] !== undefined)
			e.setAttribute(k, attrs[k]);
	if (text !== undefined)
		e.textContent = text;
	return e;
};

HSK.flagNames = function (f) {
	if (f < 0)
		return "?";
	var order = [["SYN", 2], ["FIN", 1], ["RST", 4], ["PSH", 8], ["ACK", 16], ["URG", 32],
		["ECE", 64], ["CWR", 128]], out = [], i;
	for (i = 0; i < order.length; i++)
		if (f & order[i][1])
			out.push(order[i][0]);
	return out.length ? out.join(",") : "none";
};

/* Times are microseconds from the start of the trace. */
HSK.fmtMs = function (us) {
	return (us / 1000).toFixed(3);
};
HSK.fmtDur = function (us) {
	var a = Math.abs(us);
	if (a >= 60e6)
		return (us / 60e6).toFixed(1) + " min";
	if (a >= 1e6)
		return (us / 1e6).toFixed(a >= 10e6 ? 1 : 3) + " s";
	if (a >= 1e3)
		return (us / 1e3).toFixed(a >= 100e3 ? 0 : a >= 10e3 ? 1 : 3) + " ms";
	return us.toFixed(us === Math.floor(us) ? 0 : 3) + " µs";
};
HSK.fmtBytes = function (b) {
	if (b >= 1048576)
		return (b / 1048576).toFixed(b >= 10485760 ? 0 : 2) + " MiB";
	if (b >= 1024)
		return (b / 1024).toFixed(b >= 10240 ? 0 : 1) + " KiB";
	return b + " B";
};
HSK.fmtNum = function (n) {
	return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
};

/* Sequence numbers: a - b modulo 2^32, as a signed 32-bit value. */
HSK.seqDiff = function (a, b) {
	return ((a - b) | 0);
};
HSK.seqRel = function (a, base) {
	return (a - base) >>> 0;
};

/* ---- which RFC governs what, and why, in one line ---- */
HSK.rfcUrl = function (rfc, sec) {
	return "https://www.rfc-editor.org/rfc/rfc" + rfc + (sec ? "#section-" + sec : "");
};

/* Transitions, by cause. Each: [rfc, section, what the section says]. */
HSK.CAUSES = {
	"connect()": [9293, "3.10.1", "An active OPEN: the application called connect(); a SYN with the initial sequence number goes out and the connection waits in SYN-SENT."],
	"listen()": [9293, "3.10.1", "A passive OPEN: the application called listen(); the socket waits in LISTEN for SYNs."],
	"rcv SYN": [9293, "3.10.7.2", "A SYN reached a listener (or crossed ours in SYN-SENT): answer SYN,ACK and wait in SYN-RECEIVED for the final ACK."],
	"rcv SYN,ACK": [9293, "3.10.7.3", "In SYN-SENT a SYN,ACK that acknowledges our SYN completes the handshake from this side: ESTABLISHED, and an ACK goes back."],
	"rcv ACK": [9293, "3.10.7.4", "In SYN-RECEIVED an ACK of our SYN completes the three-way handshake: ESTABLISHED (fifth check, the ACK field)."],
	"rcv ACK with SYN cookie": [4987, "3.6", "The SYN queue was full, so no request was kept; the final ACK carried back a valid SYN cookie, and the connection is built from it."],
	"close()": [9293, "3.10.4", "The application called close() (or shutdown(SHUT_WR)): a FIN is queued after the data; ESTABLISHED goes to FIN-WAIT-1, CLOSE-WAIT to LAST-ACK."],
	"rcv FIN": [9293, "3.10.7.4", "A FIN arrived (eighth check, the FIN bit): the peer will send no more; ESTABLISHED goes to CLOSE-WAIT, FIN-WAIT-1 to CLOSING, FIN-WAIT-2 to TIME-WAIT."],
	"rcv FIN,ACK": [9293, "3.10.7.4", "A FIN that also acknowledges our FIN: from FIN-WAIT-1 straight to TIME-WAIT."],
	"rcv ACK of FIN": [9293, "3.10.7.4", "Our FIN is acknowledged (fifth check): FIN-WAIT-1 goes to FIN-WAIT-2, CLOSING to TIME-WAIT, LAST-ACK to CLOSED."],
	"timer 2MSL": [9293, "3.10.8", "The TIME-WAIT timeout: 2 MSL have passed since the last FIN was acknowledged, so no old duplicate can still be in the network; the connection is deleted."],
	"timer FIN_WAIT_2": [9293, "3.6", "An orphaned connection waited in FIN-WAIT-2 for the peer's FIN longer than fin_timeout (as Linux's tcp_fin_timeout): it is deleted."],
	"rcv RST": [5961, "3.2", "A RST whose sequence number is exactly RCV.NXT resets the connection (RFC 9293 §3.10.7.4, second check, as RFC 5961 tightens it)."],
	"rcv RST,ACK": [9293, "3.10.7.3", "In SYN-SENT a RST that acknowledges our SYN means nobody listens there: the connection is refused (ECONNREFUSED)."],
	"abort()": [9293, "3.10.5", "The ABORT call: the application reset the connection; a RST goes out and everything is forgotten."],
	"retransmission timeout": [6298, "5", "The retransmission timer expired too many times (tcp_retries2, or the SYN retries): the connection is given up (ETIMEDOUT; RFC 1122 §4.2.3.5)."],
	"timer SYN-ACK retries exhausted": [1122, "4.2.3.5", "The listener retransmitted its SYN,ACK synack_retries times without the final ACK: the half-open request is dropped."],
	"keepalive timeout": [1122, "4.2.3.6", "Keep-alive probes went unanswered: the peer is presumed gone (ETIMEDOUT)."],
	"rcv ICMP unreachable": [1122, "4.2.3.9", "An ICMP port or protocol unreachable for a connection still opening is a hard error: the connect fails."],
	"listener closed": [9293, "3.10.4", "The listening socket was closed: its pending requests are dropped and connections nobody accepted are reset."],
	"TIME_WAIT table full": [9293, "3.10.8", "No room for another TIME_WAIT entry (as Linux's tcp_max_tw_buckets): the connection is deleted at once instead."],
	"data after close()": [1122, "4.2.2.13", "Data arrived for a socket the application had closed: nobody can read it, so the connection is reset."],
	"rcv SYN of a new connection": [6191, "2", "A new SYN for a 4-tuple in TIME-WAIT, beyond the old connection's sequence space (or with a newer timestamp): the TIME-WAIT entry gives way to the new connection."],
	"SYN retries exhausted": [6298, "5", "The SYN was retransmitted tcp_syn_retries times without an answer: connect() fails with ETIMEDOUT."]
};

/* Drop reasons. */
HSK.REASONS = {
	"accept queue full": [9293, "3.10.7.2", "The listener's accept queue is full (the application is not calling accept()): as Linux does, the SYN or the final ACK is dropped (ListenOverflows) and a retransmission tries again later."],
	"accept queue full: reset": [9293, "3.10.7.2", "The accept queue is full and abort_on_overflow is set: the connection is reset instead of waiting."],
	"SYN queue full": [4987, "3.6", "The SYN queue is full and SYN cookies are off: the SYN is dropped (TCPReqQFullDrop)."],
	"out of window": [9293, "3.10.7.4", "The segment is outside the receive window (first check, sequence number): it is dropped and an ACK says what is expected."],
	"PAWS: old timestamp": [7323, "5", "Protection Against Wrapped Sequences: the timestamp is older than the last one seen, so the segment is an old duplicate."],
	"RST not at RCV.NXT: challenge ACK": [5961, "3.2", "A RST inside the window but not exactly at RCV.NXT may be forged: it is ignored and a challenge ACK asks a genuine peer to resend it at RCV.NXT."],
	"SYN in window: challenge ACK": [5961, "4.2", "A SYN on a synchronized connection is answered with a challenge ACK, never a reset (a blind attacker cannot kill the connection)."],
	"SYN in synchronized state: challenge ACK": [5961, "4.2", "A SYN on a synchronized connection is answered with a challenge ACK, never a reset."],
	"ACK too old": [5961, "5.2", "The ACK acknowledges data older than SND.UNA - MAX.SND.WND: it is dropped (blind data injection mitigation)."],
	"ACK of unsent data": [9293, "3.10.7.4", "The ACK acknowledges something not yet sent: dropped, and an ACK is sent back."],
	"RST in TIME_WAIT ignored (RFC 1337)": [1337, "3", "TIME-WAIT assassination hazard: a RST must not cut TIME-WAIT short, so it is ignored."],
	"RST to a listener": [9293, "3.10.7.2", "A RST to a listener is ignored (LISTEN, first check)."],
	"ACK to a listener": [9293, "3.10.7.2", "An ACK to a listener belongs to no connection: it is answered with a RST (LISTEN, second check)."],
	"ACK to a listener: bad SYN cookie": [4987, "3.6", "An ACK to the listener during a SYN flood did not carry a valid cookie: RST."],
	"no SYN to a listener": [9293, "3.10.7.2", "Only a SYN can start a connection at a listener; anything else is dropped."],
	"bad ACK": [9293, "3.10.7.4", "In SYN-RECEIVED the ACK does not acknowledge our SYN: a RST answers it."],
	"bad ACK in SYN_SENT": [9293, "3.10.7.3", "In SYN-SENT an ACK that does not acknowledge our SYN is answered with a RST."],
	"bad ACK in SYN_RECEIVED": [9293, "3.10.7.4", "In SYN-RECEIVED an unacceptable ACK is answered with a RST."],
	"RST without ACK in SYN_SENT": [9293, "3.10.7.3", "In SYN-SENT a RST is only acceptable if it acknowledges our SYN."],
	"no SYN in SYN_SENT": [9293, "3.10.7.3", "In SYN-SENT, a segment with neither SYN nor RST is dropped."],
	"no ACK": [9293, "3.10.7.4", "Synchronized states drop segments without the ACK bit (fifth check)."],
	"old SYN in TIME_WAIT": [6191, "2", "A SYN in TIME-WAIT that cannot start a new connection (an old sequence number or timestamp) is treated as an old duplicate."],
	"segment in TIME_WAIT": [9293, "3.10.7.4", "In TIME-WAIT only a retransmitted FIN needs an answer (an ACK, and 2 MSL start over)."],
	"ACK in TIME_WAIT": [9293, "3.10.7.4", "An ACK in TIME-WAIT carries nothing new: dropped."],
	"no memory for a connection": [9293, "3.10.7.2", "No memory for the connection (max_conns): the final ACK is dropped."],
	"no memory for a request": [9293, "3.10.7.2", "No memory for a SYN-queue request: the SYN is dropped."]
};

/* The governing reference of a transition's cause or a drop's reason:
 * {rfc, sec, text, url}, or null. "inferred: ..." causes (pcap) are
 * looked up without the prefix. */
HSK.ref = function (table, key) {
	var k = key || "", r;
	if (k.indexOf("inferred: ") === 0)
		k = k.slice(10);
	r = table[k];
	if (!r && table === HSK.CAUSES) {
		if (/^rcv SYN/.test(k)) r = HSK.CAUSES["rcv SYN"];
		else if (/RST/.test(k)) r = HSK.CAUSES["rcv RST"];
		else if (/^sent FIN|close/.test(k)) r = HSK.CAUSES["close()"];
		else if (/^sent SYN/.test(k)) r = HSK.CAUSES["connect()"];
		else if (/FIN/.test(k)) r = HSK.CAUSES["rcv FIN"];
		else if (/timer|timeout|retries/.test(k)) r = HSK.CAUSES["retransmission timeout"];
		else if (/ACK/.test(k)) r = HSK.CAUSES["rcv ACK"];
		else if (/capture began/.test(k)) r = [9293, "3.5", "The capture began after the handshake: the connection was already synchronized."];
	}
	if (!r && table === HSK.REASONS) {
		if (/^link/.test(k)) r = [6298, "5", "The network lost the segment (" + k.replace(/^link: /, "") + "); the sender notices from duplicate ACKs, SACK blocks or its retransmission timer."];
		else if (/challenge ACK/.test(k)) r = [5961, "3.2", "Answered with a challenge ACK."];
		else if (/window/.test(k)) r = HSK.REASONS["out of window"];
	}
	return r ? { rfc: r[0], sec: r[1], text: r[2], url: HSK.rfcUrl(r[0], r[1]) } : null;
};

/* The reference for a segment: what it is and which text governs it. */
HSK.segRef = function (g) {
	var f = g.flags, r;
	if (g.reason && (r = HSK.ref(HSK.REASONS, g.reason)))
		return r;
	if (g.retrans) {
		if (g.rto)
			return { rfc: 6298, sec: "5", text: "A retransmission after the retransmission timer expired: the RTO doubles (backoff) and, for data, cwnd falls to one segment (RFC 5681 §3.1).", url: HSK.rfcUrl(6298, "5") };
		if (g.recovery)
			return { rfc: 6675, sec: "5", text: "A retransmission during loss recovery: duplicate ACKs or SACK blocks said the segment was lost (RFC 6675; RACK-TLP, RFC 8985, decides when).", url: HSK.rfcUrl(6675, "5") };
		return { rfc: 8985, sec: "7", text: "A retransmission without a timeout or recovery: a tail loss probe, a fast retransmit or a retransmitted SYN/FIN answering a duplicate.", url: HSK.rfcUrl(8985, "7") };
	}
	if (f & HSK.F.RST)
		return { rfc: 9293, sec: "3.5.2", text: "A reset: the connection does not exist (or is aborted); a RST answers a segment for which there is no connection.", url: HSK.rfcUrl(9293, "3.5.2") };
	if ((f & HSK.F.SYN) && (f & HSK.F.ACK) && g.cookie)
		return { rfc: 4987, sec: "3.6", text: "The SYN queue is full: this SYN,ACK's sequence number is a SYN cookie, and nothing is kept until the final ACK brings it back.", url: HSK.rfcUrl(4987, "3.6") };
	if (f & HSK.F.SYN)
		return { rfc: 9293, sec: "3.5", text: (f & HSK.F.ACK) ? "The second step of the three-way handshake: the listener's SYN, acknowledging the client's." : "The first step of the three-way handshake: a SYN carrying the initial sequence number (RFC 6528) and the options (MSS, window scale, SACK, timestamps).", url: HSK.rfcUrl(9293, "3.5") };
	if (f & HSK.F.FIN)
		return { rfc: 9293, sec: "3.6", text: "A FIN: this side has no more to send (close or shutdown); it takes one sequence number.", url: HSK.rfcUrl(9293, "3.6") };
	if (g.len > 0)
		return { rfc: 9293, sec: "3.8.6", text: "Data, sent within the peer's window and the congestion window (RFC 5681).", url: HSK.rfcUrl(9293, "3.8.6") };
	if (g.probe)
		return { rfc: 9293, sec: "3.8.6.1", text: "A window or keep-alive probe: SEG.SEQ = SND.UNA - 1 asks the peer for an ACK with its current window.", url: HSK.rfcUrl(9293, "3.8.6.1") };
	return { rfc: 9293, sec: "3.10.7.4", text: "An acknowledgment: it moves the peer's SND.UNA and window (delayed ACKs: RFC 1122 §4.2.3.2; SACK blocks: RFC 2018).", url: HSK.rfcUrl(9293, "3.10.7.4") };
};

HSK.refLink = function (r) {
	if (!r)
		return null;
	return HSK.h("a", { href: r.url, target: "_blank", rel: "noopener", class: "rfc" },
		"RFC " + r.rfc + (r.sec ? " §" + r.sec : ""));
};
