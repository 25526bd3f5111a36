#!/usr/bin/env bash
# Runs every scenario of `handshake demo --list` in text and JSON and checks
# that basic's JSON trace holds the textbook state sequences; then every
# scenario again over IPv6 (--ipv6).
# $1: build directory, $2: source directory.
set -u
build=${1:?build dir}
src=${2:-}
bin="$build/handshake"
# A missing binary is a broken build, not a reason to skip.
[ -x "$bin" ] || { echo "FAIL: $bin is not built"; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# the usual front doors
"$bin" --help >/dev/null || { echo "FAIL: --help"; fail=1; }
"$bin" version | grep -q '^handshake ' || { echo "FAIL: version"; fail=1; }
"$bin" demo --bogus >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown option '--bogus'" "$tmp/err" ||
	{ echo "FAIL: unknown option gave $rc"; fail=1; }
"$bin" demo --scenario no-such >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: unknown scenario gave $rc"; fail=1; }
"$bin" demo --loss 2 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: --loss 2 gave $rc"; fail=1; }
"$bin" frobnicate >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: unknown command gave $rc"; fail=1; }

scenarios=$("$bin" demo --list | awk '{print $1}')
[ -n "$scenarios" ] || { echo "FAIL: --list is empty"; exit 1; }
for s in $scenarios; do
	if ! timeout --foreground -k 10 60 "$bin" demo --scenario "$s" >"$tmp/$s.txt" 2>&1; then
		echo "FAIL: $s (text)"; tail -n 30 "$tmp/$s.txt"; fail=1
	fi
	grep -q "^summary: $s" "$tmp/$s.txt" || { echo "FAIL: $s: no summary"; fail=1; }
	quiet=0
	"$bin" demo --list | grep -q "^$s .*(summary only)" && quiet=1
	if [ $quiet = 1 ]; then
		# a long run: the summary says what happened, no diagram
		words="goodput|final cwnd|TCPSackRecovery|RetransSegs|TCPTimeouts"
		[ "$s" = syn-flood ] && words="SYN cookies sent|SyncookiesRecv|TCPReqQFullDoCookies"
		IFS='|' read -r -a ws <<<"$words"
		for w in "${ws[@]}"; do
			grep -q "$w" "$tmp/$s.txt" || { echo "FAIL: $s: no $w"; fail=1; }
		done
		! grep -q -- '--->\|<---' "$tmp/$s.txt" || { echo "FAIL: $s: a diagram"; fail=1; }
	else
		grep -q -- '--->\|<---' "$tmp/$s.txt" || { echo "FAIL: $s: no arrows"; fail=1; }
	fi
	if ! timeout --foreground -k 10 60 "$bin" demo --scenario "$s" --format json >"$tmp/$s.json" 2>"$tmp/$s.err"; then
		echo "FAIL: $s (json)"; cat "$tmp/$s.err"; fail=1
	fi
	# every line is a JSON object with the required keys
	python3 - "$tmp/$s.json" $quiet <<'PY' || { echo "FAIL: $s: bad JSON"; fail=1; }
import json, sys
quiet = sys.argv[2] == "1"
summaries = 0
need = {"state": {"from", "to", "cause"}, "tx": {"flags", "seq", "ack", "len", "win"},
        "rx": {"flags", "seq", "ack", "len", "win"}, "drop": {"reason"},
        "cc": {"cwnd", "flight", "snd_wnd", "srtt_us", "rto_us", "backoff", "recovery"},
        "queue": {"syn_q", "accept_q", "backlog"}}
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["ev"] == "summary":
        summaries += 1
        continue
    n += 1
    for k in ("t_us", "host", "ev", "obj"):
        assert k in o, (k, line)
    assert need[o["ev"]] <= set(o), line
assert summaries == 1
assert n > 0      # every scenario's JSON has its events, long ones too
PY
done

# the summary's figures are numbers; --loss 0 means no loss, in bulk too
"$bin" demo --scenario bulk --format json --loss 0 >"$tmp/bulk0.json" 2>&1 ||
	{ echo "FAIL: bulk --loss 0"; fail=1; }
python3 - "$tmp/bulk.json" "$tmp/bulk0.json" <<'PY' || fail=1
import json, sys
def summary(path):
    return [json.loads(l) for l in open(path) if '"summary"' in l][-1]
lossy, clean = summary(sys.argv[1]), summary(sys.argv[2])
for s in (lossy, clean):
    f = s["figures"]
    for k in ("bytes", "retransmissions", "recoveries", "rtos", "goodput_mbps", "final_cwnd"):
        assert isinstance(f.get(k), (int, float)) and not isinstance(f.get(k), bool), (k, f)
    assert f["bytes"] == 4 << 20, f
ok = True
if not (lossy["link"]["lost"] > 0 and lossy["figures"]["retransmissions"] > 0):
    print("FAIL: bulk without --loss lost nothing", lossy["link"]); ok = False
if clean["link"]["lost"] != 0 or clean["figures"]["retransmissions"] != 0:
    print("FAIL: bulk --loss 0 still lost packets", clean["link"], clean["figures"]); ok = False
sys.exit(0 if ok else 1)
PY

# the same seed gives the same run
"$bin" demo --format json --seed 7 >"$tmp/a.json" 2>/dev/null
"$bin" demo --format json --seed 7 >"$tmp/b.json" 2>/dev/null
cmp -s "$tmp/a.json" "$tmp/b.json" || { echo "FAIL: not deterministic"; fail=1; }

# the textbook sequences in basic
python3 - "$tmp/basic.json" <<'PY' || fail=1
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
def path(host):
    seq = []
    key = None
    for e in ev:
        if e.get("host") != host or e["ev"] != "state" or e["obj"] == "listen":
            continue
        if not e.get("remote", "").endswith(":0") and key is None:
            key = e.get("remote")
        if e.get("remote") != key:
            continue
        if not seq:
            seq.append(e["from"])
        seq.append(e["to"])
    return "->".join(seq)
want = {
    "client": "CLOSED->SYN_SENT->ESTABLISHED->FIN_WAIT_1->FIN_WAIT_2->TIME_WAIT->CLOSED",
    "server": "LISTEN->SYN_RECEIVED->ESTABLISHED->CLOSE_WAIT->LAST_ACK->CLOSED",
}
ok = True
for h, w in want.items():
    got = path(h)
    if got != w:
        print("FAIL: %s states %s, expected %s" % (h, got, w))
        ok = False
# t_us never goes backwards
ts = [e["t_us"] for e in ev if "t_us" in e and e["ev"] != "summary"]
if ts != sorted(ts):
    print("FAIL: time goes backwards"); ok = False
# the handshake is SYN, SYN,ACK, ACK
tx = [(e["host"], e["flags"]) for e in ev if e["ev"] == "tx"]
if tx[:3] != [("client", "SYN"), ("server", "SYN,ACK"), ("client", "ACK")]:
    print("FAIL: handshake segments", tx[:3]); ok = False
sys.exit(0 if ok else 1)
PY

"$bin" demo | head -n 1 | grep -q 't(ms)' || { echo "FAIL: default demo"; fail=1; }

# --pcap: a nanosecond LINKTYPE_RAW capture with one record per packet sent
"$bin" demo --scenario syn-retransmit --format json --pcap "$tmp/d.pcap" >"$tmp/p.json" ||
	{ echo "FAIL: --pcap run"; fail=1; }
python3 - "$tmp/d.pcap" "$tmp/p.json" <<'PY' || { echo "FAIL: pcap"; fail=1; }
import json, struct, sys
data = open(sys.argv[1], "rb").read()
magic, = struct.unpack("=I", data[:4])
assert magic == 0xa1b23c4d, hex(magic)
assert struct.unpack("=I", data[20:24])[0] == 101
off, n, last = 24, 0, 0
while off < len(data):
    sec, nsec, caplen, length = struct.unpack("=IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + caplen]
    assert caplen == length == len(pkt) and pkt[0] >> 4 == 4
    t = sec * 10**9 + nsec
    assert t >= last
    last = t
    off += 16 + caplen
    n += 1
summary = [json.loads(l) for l in open(sys.argv[2]) if '"summary"' in l][0]
assert n == summary["link"]["sent"], (n, summary["link"])
PY
"$bin" demo --pcap /nonexistent/dir/x.pcap >/dev/null 2>&1 && { echo "FAIL: bad --pcap path accepted"; fail=1; }

# --ipv6: every scenario over IPv6 (2001:2::/96 + the IPv4 address), with
# the same expectations met; basic's JSON shows the IPv6 endpoints, MSS
# 1440 and the textbook handshake; the pcap holds IPv6 packets only.
for s in $scenarios; do
	if ! timeout --foreground -k 10 60 "$bin" demo --ipv6 --scenario "$s" >"$tmp/$s.v6.txt" 2>&1; then
		echo "FAIL: $s --ipv6"; grep UNEXPECTED "$tmp/$s.v6.txt"; fail=1
	fi
	grep -q "outcome: as expected" "$tmp/$s.v6.txt" || { echo "FAIL: $s --ipv6: outcome"; fail=1; }
done
"$bin" demo --ipv6 --format json --pcap "$tmp/v6.pcap" >"$tmp/basic6.json" ||
	{ echo "FAIL: basic --ipv6 json"; fail=1; }
python3 - "$tmp/basic6.json" "$tmp/v6.pcap" <<'PY' || { echo "FAIL: basic --ipv6"; fail=1; }
import json, struct, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
tx = [e for e in ev if e["ev"] == "tx"]
assert [(e["host"], e["flags"]) for e in tx[:3]] == \
    [("client", "SYN"), ("server", "SYN,ACK"), ("client", "ACK")], tx[:3]
assert tx[0]["local"].startswith("[2001:2::c612:1]:") and tx[0]["remote"] == "[2001:2::c612:2]:80", tx[0]
assert tx[0]["options"]["mss"] == 1440 and tx[1]["options"]["mss"] == 1440, tx[:2]
st = [e["to"] for e in ev if e["ev"] == "state" and e["host"] == "client"]
assert st == ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED"], st
data = open(sys.argv[2], "rb").read()
off, n = 24, 0
while off < len(data):
    caplen, = struct.unpack("=I", data[off + 8:off + 12])
    assert data[off + 16] >> 4 == 6
    off += 16 + caplen
    n += 1
assert n == [e for e in ev if e["ev"] == "summary"][0]["link"]["sent"], n
PY
[ $fail -eq 0 ] && echo "ok: $(echo $scenarios | wc -w) scenarios, over IPv4 and IPv6"
exit $fail
