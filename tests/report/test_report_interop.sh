#!/usr/bin/env bash
# A real run: 200 kernel clients at once against `handshake serve --echo
# --report`, in a network namespace this test creates and deletes. The
# report written at exit must hold all 200 connections (and the counters
# and table the stack had at exit) and be drawn in headless Chromium
# within 2 s, without errors. Needs root and /dev/net/tun (skipped
# otherwise), like tests/interop.
NEED_TOOLS=""
. "$(dirname "$0")/../interop/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 is missing"; exit 77; }

N=200
start_serve --port 7 --echo --backlog 256 --report "$TMP/run.html"
peer many $HADDR 7 $N 4096 >"$TMP/many.log" 2>&1 || fail "clients: $(tail -n 1 "$TMP/many.log")"
sleep 0.2
stop_serve
[ -s "$TMP/run.html" ] || fail "no report written at exit"
grep -q "serve: report written to $TMP/run.html" "$TMP/serve.log" || fail "serve did not say where the report is"
python3 - "$TMP/run.html" $N <<'PY' || fail "the report's data"
import json, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
d = json.loads(re.search(r'<script id="hsk-data" type="application/json">(.*?)</script>', html, re.S).group(1))
n = int(sys.argv[2])
peers = set()
for e in d["ev"]:
    if e[0] == 2 and e[6] >= 0:
        peers.add(d["str"][e[6]])
assert len(peers) >= n, (len(peers), n)
s = d["summary"]
assert s["counters"]["serve"]["PassiveOpens"] == n, s["counters"]
# The table is taken at exit, after the graceful stop closed the listener
# and drained every connection: nothing is left open.
assert s["connections"]["serve"] == [], s["connections"]
print("report: %d events, %d peers, %.0f KiB" % (len(d["ev"]), len(peers), len(html) / 1024))
PY
/usr/bin/python3 "$SRC/tests/report/browser.py" timed "$TMP/run.html" "$BUILD/report-artifacts" 2.0 ||
	fail "the report of $N connections"
echo "PASS: the report of $N concurrent kernel clients"
