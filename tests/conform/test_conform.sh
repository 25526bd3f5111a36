#!/usr/bin/env bash
# Differential conformance (docs/conformance.md): the same scripted peer,
# segment for segment, against the Linux kernel of one namespace (a TUN
# device whose fd the tool owns) and `handshake serve` in another; every
# reply compared. Fails on any difference not in tests/conform/known.py.
#
#   CONFORM_ARGS="-k rst" ctest -R conform -V      some scenarios only
#   CONFORM_ARGS="--show" ...                      every transcript
#   CONFORM_ARGS="--list" ...                      the scenarios
BUILD=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
BUILD=$(cd "$BUILD" && pwd)
SRC=$(cd "$SRC" && pwd)
HSK=${HSK_BIN:-$BUILD/handshake}
PY=/usr/bin/python3

. "$SRC/scripts/netns.sh"
reason=$(netns_check) || { echo "$reason"; exit 77; }
[ -x "$HSK" ] || { echo "FAIL: $HSK is not built"; exit 1; }

NS_HSK="hconf-hsk-$$"
NS_LNX="hconf-lnx-$$"
NS_HSK6="hconf-hsk6-$$"
NS_LNX6="hconf-lnx6-$$"
TMP=$(mktemp -d /tmp/hconf-conform.XXXXXX)
cleanup() {
	local rc=$?
	set +e
	[ -n "${PID4:-}" ] && kill "$PID4" 2>/dev/null
	[ -n "${PID6:-}" ] && kill "$PID6" 2>/dev/null
	wait 2>/dev/null
	for ns in "$NS_HSK" "$NS_LNX" "$NS_HSK6" "$NS_LNX6"; do netns_down "$ns"; done
	if [ "${HSK_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# IPv4: handshake at 198.18.0.2 behind hsk0 (the kernel side 198.18.0.1
# stays out of it: the peer 198.18.0.9 is nobody's); Linux at 198.18.1.1
# behind hconf0, whose fd the tool takes; the peer there is 198.18.1.2.
netns_up "$NS_HSK" tun hsk0 198.18.0.1/24 || { echo "FAIL: cannot make $NS_HSK"; exit 1; }
netns_up "$NS_LNX" tun hconf0 198.18.1.1/24 || { echo "FAIL: cannot make $NS_LNX"; exit 1; }
# IPv6, a pair of its own so that both families run at once: handshake at
# 2001:2::2/64 (serve gives the kernel side 2001:2::1; the peer 2001:2::9
# is nobody's), Linux at 2001:2:0:1::1/64 (no DAD: the TUN is
# point-to-point, no neighbour discovery on it), the peer 2001:2:0:1::2.
# (Their IPv4 addresses are unused.)
v6_on() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		net.ipv6.conf.default.disable_ipv6=0 "net.ipv6.conf.$2.disable_ipv6=0" >/dev/null
}
netns_up "$NS_HSK6" tun hsk0 198.18.2.1/24 && v6_on "$NS_HSK6" hsk0 ||
	{ echo "FAIL: cannot make $NS_HSK6"; exit 1; }
netns_up "$NS_LNX6" tun hconf0 198.18.3.1/24 && v6_on "$NS_LNX6" hconf0 &&
	ip -n "$NS_LNX6" -6 addr add 2001:2:0:1::1/64 dev hconf0 nodad ||
	{ echo "FAIL: cannot make $NS_LNX6"; exit 1; }

# Both families at once (the run is mostly waiting), each in a log of its
# own, printed when both are done.
mkdir -p "$TMP/v4" "$TMP/v6"
run() {
	timeout --foreground -k 5 100 "$PY" -u "$SRC/tests/conform/conform.py" --hsk "$HSK" \
		--family "$1" --hsk-ns "$2" --linux-ns "$3" --log "$TMP/v$1" ${CONFORM_ARGS:-} \
		>"$TMP/v$1/out" 2>&1
}
run 4 "$NS_HSK" "$NS_LNX" & PID4=$!
run 6 "$NS_HSK6" "$NS_LNX6" & PID6=$!
rc4=0; rc6=0
wait "$PID4" || rc4=$?
wait "$PID6" || rc6=$?
PID4= PID6=
rc=0
for f in 4 6; do
	cat "$TMP/v$f/out"
	eval "r=\$rc$f"
	if [ "$r" -ne 0 ]; then
		[ -f "$TMP/v$f/serve.log" ] &&
			{ echo "---- v$f serve.log (last 20 lines)"; tail -n 20 "$TMP/v$f/serve.log"; }
		echo "FAIL: conformance over IPv$f (exit $r)"
		rc=1
	fi
done
[ $rc -eq 0 ] || exit 1
echo "PASS: conformance (IPv4 and IPv6)"
