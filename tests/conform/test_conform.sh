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
TMP=$(mktemp -d /tmp/hconf-conform.XXXXXX)
cleanup() {
	local rc=$?
	set +e
	netns_down "$NS_HSK"
	netns_down "$NS_LNX"
	if [ "${HSK_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# handshake at 198.18.0.2 behind hsk0 (the kernel side 198.18.0.1 stays
# out of it: the peer 198.18.0.9 is nobody's); Linux at 198.18.1.1 behind
# hconf0, whose fd the tool takes; the peer there is 198.18.1.2.
netns_up "$NS_HSK" tun hsk0 198.18.0.1/24 || { echo "FAIL: cannot make $NS_HSK"; exit 1; }
netns_up "$NS_LNX" tun hconf0 198.18.1.1/24 || { echo "FAIL: cannot make $NS_LNX"; exit 1; }

rc=0
timeout --foreground -k 5 100 "$PY" -u "$SRC/tests/conform/conform.py" --hsk "$HSK" \
	--hsk-ns "$NS_HSK" --linux-ns "$NS_LNX" --log "$TMP" ${CONFORM_ARGS:-} || rc=$?
if [ $rc -ne 0 ]; then
	[ -f "$TMP/serve.log" ] && { echo "---- serve.log (last 20 lines)"; tail -n 20 "$TMP/serve.log"; }
	echo "FAIL: conformance (exit $rc)"
	exit 1
fi
echo "PASS: conformance"
