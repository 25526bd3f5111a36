#!/usr/bin/env bash
# `handshake serve` and `handshake connect` reject bad usage with exit 2
# and a message, before touching any device or output file (so this runs
# without root, and leaves files named on a rejected line untouched).
set -u
bin="${HSK_BIN:-${1:?build dir}/handshake}"
[ -x "$bin" ] || { echo "FAIL: $bin is not built"; exit 1; }
fail=0

# A binary that wrongly accepts a line must not serve for ever, nor
# create a device in the root namespace: each run is bounded in time and,
# as root, gets a network namespace of its own.
run=(timeout 5)
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	run=(unshare -n timeout 5)
fi

expect() { # want_rc pattern args...
	local want=$1 pat=$2 out rc
	shift 2
	out=$("${run[@]}" "$bin" "$@" 2>&1)
	rc=$?
	if [ $rc -ne "$want" ] || ! grep -q -- "$pat" <<<"$out"; then
		echo "FAIL: handshake $* -> $rc (want $want, /$pat/): $out"
		fail=1
	fi
}

expect 0 "usage: handshake serve" serve --help
expect 0 "usage: handshake connect" connect --help
expect 0 "--loss P" serve --help
expect 2 "give one of --tun NAME, --tap NAME or --xdp IFNAME" serve --addr 198.18.0.2/24 --port 7
expect 2 "give one of --tun NAME, --tap NAME or --xdp IFNAME" serve --tun a --tap b --addr 198.18.0.2/24 --port 7
expect 2 "give one of --tun NAME, --tap NAME or --xdp IFNAME" serve --tun a --xdp b --addr 198.18.0.2/24 --port 7
expect 2 "bad thread count" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --threads 0
expect 2 "bad queue count" connect --tun hsk9 --addr 198.18.0.2/24 198.18.0.1:80 --queues 65
expect 2 "--queues 3 is not a multiple of --threads 2" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --threads 2 --queues 3
expect 2 "bad offload list" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --offload tso9
expect 2 "TUN options" serve --tap hsk9 --addr 198.18.0.2/24 --port 7 --offload all
expect 2 "TUN options" connect --xdp hsk9 --addr 198.18.0.2/24 198.18.0.1:80 --uring
expect 2 "a TAP device has one queue" serve --tap hsk9 --addr 198.18.0.2/24 --port 7 --threads 2
expect 0 "--threads N" serve --help
expect 0 "--xdp IFNAME" connect --help
expect 2 "--addr A.B.C.D/PREFIX is required" serve --tun hsk9 --port 7
expect 2 "--port N is required" serve --tun hsk9 --addr 198.18.0.2/24
expect 2 "bad address" serve --tun hsk9 --addr 198.18.0.300/24 --port 7
expect 2 "bad address" serve --tun hsk9 --addr 198.18.0.2/33 --port 7
expect 2 "bad --port" serve --tun hsk9 --addr 198.18.0.2/24 --port 70000
expect 2 "bad loss probability" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --loss 150%
expect 2 "bad trace format" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --trace xml
expect 2 "needs a value" serve --tun hsk9 --addr 198.18.0.2/24 --port
expect 2 "unknown argument" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --frob
expect 2 "No such file" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --send /nonexistent
expect 2 "HOST:PORT is required" connect --tun hsk9 --addr 198.18.0.2/24
expect 2 "bad target" connect --tun hsk9 --addr 198.18.0.2/24 198.18.0.1
expect 2 "bad target" connect --tun hsk9 --addr 198.18.0.2/24 198.18.0.1:0
expect 2 "bad address" connect --tun hsk9 --addr 198.18.0.2/24 example:80
expect 2 "unexpected argument" connect --tun hsk9 --addr 198.18.0.2/24 198.18.0.1:80 extra
expect 2 "bad --close-delay" connect --tun hsk9 --addr 198.18.0.2/24 198.18.0.1:80 --close-delay x
expect 2 "nonexistent" connect --tun hsk9 --addr 198.18.0.2/24 198.18.0.1:80 --send /nonexistent
expect 2 "--http /nonexistent: No such file or directory" serve --tun hsk9 --addr 198.18.0.2/24 --port 80 --http /nonexistent
expect 2 "--http /etc/hostname: Not a directory" serve --tun hsk9 --addr 198.18.0.2/24 --port 80 --http /etc/hostname
expect 2 "--send /tmp: not a regular file" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --send /tmp
expect 2 "bad --max-conn-per-source" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --max-conn-per-source -1
expect 2 "bad --idle-timeout" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --idle-timeout 5x
expect 2 "bad drain timeout" connect --tun hsk9 --addr 198.18.0.2/24 198.18.0.1:80 --drain-timeout x
expect 2 "bad --rcvbuf '1023'" serve --tun hsk9 --addr 198.18.0.2/24 --port 7 --hold --rcvbuf 1023
expect 0 "--max-conn-per-source N" serve --help
expect 0 "--hold " serve --help
expect 0 "--rcvbuf N" serve --help
expect 0 "--drain-timeout S" connect --help

# IPv6 (docs/ipv6.md): --addr takes IPV6/PREFIX, repeated; endpoints take
# brackets; each bad form says what it wanted.
expect 0 "--addr IPV6/PREFIX" serve --help
expect 0 "\[2001:2::2\]:80" serve --help
expect 2 "bad address (no brackets in --addr" serve --tun hsk9 --addr '[2001:2::2]/64' --port 7
expect 2 "bad address (A.B.C.D/PREFIX or IPV6/PREFIX)" serve --tun hsk9 --addr 2001:2::2/129 --port 7
expect 2 "bad address (A.B.C.D/PREFIX or IPV6/PREFIX)" serve --tun hsk9 --addr 2001:2::zz/64 --port 7
expect 2 "bad address (A.B.C.D/PREFIX or IPV6/PREFIX)" serve --tun hsk9 --addr 2001:2::2%3/64 --port 7
expect 2 "an IPv6 prefix is 1..128 bits" serve --tun hsk9 --addr 2001:2::2/0 --port 7
expect 2 "a multicast address" serve --tun hsk9 --addr ff02::2/64 --port 7
expect 2 "unspecified and loopback" serve --tun hsk9 --addr ::1/128 --port 7
expect 2 "IPv4-mapped address" serve --tun hsk9 --addr ::ffff:198.18.0.2/120 --port 7
expect 2 "link-local" serve --tun hsk9 --addr fe80::2/64 --port 7
expect 2 "given twice" serve --tun hsk9 --addr 2001:2::2/64 --addr 2001:2::2/64 --port 7
expect 2 "too many IPv6 addresses" serve --tun hsk9 --addr 2001:2::2/64 --addr 2001:2::3/64 \
	--addr 2001:2::4/64 --addr 2001:2::5/64 --addr 2001:2::6/64 --port 7
expect 2 "one IPv4 address only" serve --tun hsk9 --addr 198.18.0.2/24 --addr 198.18.0.3/24 --port 7
# IPv6 over AF_XDP passes the checks: it fails only at the device
expect 1 "no interface 'hsk9'\\|built without libxdp" serve --xdp hsk9 --addr 2001:2::2/64 --port 7
expect 2 "an IPv6 --host-addr needs an IPv6 --addr" serve --tun hsk9 --addr 198.18.0.2/24 \
	--host-addr 2001:2::1 --port 7
expect 2 "bad host address" serve --tun hsk9 --addr 2001:2::2/64 --host-addr '[2001:2::1]' --port 7
expect 2 "an IPv6 --gw needs --tap or --xdp and an IPv6 --addr" serve --tap hsk9 --addr 198.18.0.2/24 \
	--gw 2001:2::1 --port 7
expect 2 "an IPv6 --gw needs --tap or --xdp and an IPv6 --addr" serve --tun hsk9 --addr 2001:2::2/64 \
	--gw 2001:2::1 --port 7
expect 2 "bad gateway (A.B.C.D or IPV6)" serve --tap hsk9 --addr 2001:2::2/64 --gw '[2001:2::1]' --port 7
expect 2 "bad gateway (A.B.C.D or IPV6)" serve --tap hsk9 --addr 198.18.0.2/24 --gw 198.18.0 --port 7
expect 2 "bad --port '\[2001:2::2\]80'" serve --tun hsk9 --addr 2001:2::2/64 --port '[2001:2::2]80'
expect 2 "an IPv6 address takes brackets" serve --tun hsk9 --addr 2001:2::2/64 --port 2001:2::2:80
expect 2 "bad --port '\[2001:2::2\]:0': port 1..65535" serve --tun hsk9 --addr 2001:2::2/64 \
	--port '[2001:2::2]:0'
expect 2 "an IPv6 address takes brackets" connect --tun hsk9 --addr 2001:2::2/64 2001:2::1:80
expect 2 "bad target '\[2001:2::1\]'" connect --tun hsk9 --addr 2001:2::2/64 '[2001:2::1]'
expect 2 "bad target '\[2001:2::1:80'" connect --tun hsk9 --addr 2001:2::2/64 '[2001:2::1:80'
expect 2 "bad address '\[198.18.0.1\]'" connect --tun hsk9 --addr 198.18.0.2/24 '[198.18.0.1]:80'
expect 2 "bad target '\[2001:2::1\]:65536': port" connect --tun hsk9 --addr 2001:2::2/64 \
	'[2001:2::1]:65536'
expect 2 "is IPv6: give an IPv6 --addr too" connect --tun hsk9 --addr 198.18.0.2/24 '[2001:2::1]:80'
expect 2 "is IPv4: give an IPv4 --addr too" connect --tun hsk9 --addr 2001:2::2/64 198.18.0.1:80

# A rejected command line leaves the output files alone: the trace file
# is opened only once everything else was accepted.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo keep >"$tmp/trace"
echo keep >"$tmp/recv"
expect 2 "bad --port" serve --tun hsk9 --addr 198.18.0.2/24 --trace-file "$tmp/trace" --port 70000
expect 2 "No such file" serve --tun hsk9 --addr 198.18.0.2/24 --trace-file "$tmp/trace" --port 80 --http /nonexistent
expect 2 "nonexistent" connect --tun hsk9 --addr 198.18.0.2/24 --trace-file "$tmp/trace" \
	--recv "$tmp/recv" 198.18.0.1:80 --send /nonexistent
expect 2 "unexpected argument" connect --tun hsk9 --addr 198.18.0.2/24 --trace-file "$tmp/trace" \
	198.18.0.1:80 --recv "$tmp/recv" extra
for f in trace recv; do
	if [ "$(cat "$tmp/$f")" != keep ]; then
		echo "FAIL: a rejected command line truncated the $f file"
		fail=1
	fi
done
[ $fail = 0 ] && echo "PASS: argument checks of serve and connect"
exit $fail
