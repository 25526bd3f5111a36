#!/usr/bin/env bash
# Network namespaces with a TUN or TAP device in them, for running handshake
# against the Linux kernel without touching the root namespace.
#
# As a command:
#   scripts/netns.sh up NAME [tun|tap] [DEV] [KERNEL_ADDR/PREFIX]
#        creates namespace NAME with DEV (default hsk0) carrying the kernel's
#        address (default 198.18.0.1/24), link up, IPv6 off
#   scripts/netns.sh down NAME      kills what runs in NAME and deletes it
#   scripts/netns.sh check          exit 0 when namespaces + TUN are usable,
#                                   else prints why and exits 77
# Then, for example:
#   ip netns exec NAME handshake serve --tun hsk0 --addr 198.18.0.2/24 --port 80 --http .
#   ip netns exec NAME curl http://198.18.0.2/
#
# As a library (source it): netns_check, netns_up, netns_down, netns_pids.
# Addresses must come from 198.18.0.0/15 (RFC 2544 benchmarking range).

netns_check() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (network namespaces and TUN devices)"
		return 77
	fi
	if [ ! -c /dev/net/tun ]; then
		echo "SKIP: /dev/net/tun is missing"
		return 77
	fi
	if ! command -v ip >/dev/null 2>&1; then
		echo "SKIP: the 'ip' command (iproute2) is missing"
		return 77
	fi
	local probe="hsk-probe-$$-$RANDOM"
	if ! ip netns add "$probe" 2>/dev/null; then
		echo "SKIP: cannot create network namespaces here"
		return 77
	fi
	if ! ip -n "$probe" tuntap add dev hskprobe mode tun 2>/dev/null; then
		ip netns del "$probe" 2>/dev/null
		echo "SKIP: cannot create TUN devices here"
		return 77
	fi
	ip netns del "$probe"
	return 0
}

# netns_up NAME MODE DEV ADDR/PREFIX
netns_up() {
	local ns=$1 mode=${2:-tun} dev=${3:-hsk0} addr=${4:-198.18.0.1/24}
	case "$addr" in
	198.18.*|198.19.*) ;;
	*) echo "netns_up: $addr is outside 198.18.0.0/15" >&2; return 1 ;;
	esac
	ip netns add "$ns" || return 1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	ip -n "$ns" link set lo up &&
	ip -n "$ns" tuntap add dev "$dev" mode "$mode" &&
	ip -n "$ns" addr add "$addr" dev "$dev" &&
	ip -n "$ns" link set "$dev" up || { netns_down "$ns"; return 1; }
}

netns_pids() {
	ip netns pids "$1" 2>/dev/null
}

# Kills what runs in the namespace (only our own processes can be there:
# the namespace was created by us), then deletes it.
netns_down() {
	local ns=$1 pids
	ip netns list 2>/dev/null | grep -qw "^$ns" || return 0
	pids=$(netns_pids "$ns")
	if [ -n "$pids" ]; then
		kill $pids 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -z "$(netns_pids "$ns")" ] && break
			sleep 0.1
		done
		pids=$(netns_pids "$ns")
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	fi
	ip netns del "$ns"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case "${1:-}" in
	up)
		[ $# -ge 2 ] || { echo "usage: $0 up NAME [tun|tap] [DEV] [ADDR/PREFIX]" >&2; exit 2; }
		netns_check || exit $?
		netns_up "$2" "${3:-tun}" "${4:-hsk0}" "${5:-198.18.0.1/24}"
		;;
	down)
		[ $# -ge 2 ] || { echo "usage: $0 down NAME" >&2; exit 2; }
		netns_down "$2"
		;;
	check)
		netns_check
		;;
	*)
		sed -n '2,20s/^# \{0,1\}//p' "$0"
		exit 2
		;;
	esac
fi
