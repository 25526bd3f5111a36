#!/usr/bin/env bash
# The attack regression suite (issue 12): `handshake serve --echo` on a TUN
# device in a namespace of its own, attacked with crafted packets written
# into the device (scapy's python, tests/attack/*.py): malformed IPv4/TCP
# headers and options, the urgent pointer, hostile fragments, RFC 5961
# blind RST/SYN/data, blind ICMP errors, martian sources, a tiny MSS, a
# fragment flood, a spoofed SYN flood and connection exhaustion. After each
# sub-case handshake must be alive, an earlier connection must still echo
# and a new one must connect. One line per sub-case; fails if any fails.
# docs/attacks.md describes every sub-case.
#
#   ATTACK_ARGS="-k martian" ctest -R attack     run some sub-cases only
#   HSK_KEEP=1                                   keep serve.log
. "$(dirname "$0")/../interop/lib.sh"

PY=/usr/bin/python3
if ! "$PY" -c 'import scapy.layers.inet' 2>/dev/null; then
	echo "SKIP: $PY cannot import scapy (python3-scapy; scripts/deps.sh installs it)"
	exit 77
fi
# A second kernel-side address: the client from "another source".
ip -n "$NS" addr add 198.18.0.3/24 dev $DEV || fail "cannot add 198.18.0.3"

# Bounded: the suite stops starting sub-cases after --budget seconds.
rc=0
nsx timeout --foreground -k 10 240 "$PY" -u "$SRC/tests/attack/attack.py" --hsk "$HSK" --dev $DEV \
	--haddr $HADDR --kaddr $KADDR --kaddr2 198.18.0.3 --log "$TMP" \
	--serve-args "${ATTACK_SERVE_ARGS:-}" ${ATTACK_ARGS:-} || rc=$?
if [ $rc -ne 0 ]; then
	echo "---- serve.log (last 30 lines)"
	tail -n 30 "$TMP/serve.log"
	echo "FAIL: attack suite (exit $rc)"
	exit 1
fi
echo "PASS: attack suite"
