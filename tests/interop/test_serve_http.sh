#!/usr/bin/env bash
# `serve --http DIR` against hostile requests (curl and raw sockets in the
# kernel's namespace):
#  - symbolic links out of DIR (absolute, relative, through a directory)
#    and ".." are refused, and the secret outside DIR never shows; a link
#    that stays inside DIR is followed (openat2 RESOLVE_BENEATH); with
#    HANDSHAKE_NO_OPENAT2=1 (the fallback walk) no link is followed;
#  - a FIFO in DIR is refused at once and never stalls the server: a
#    second client is served meanwhile;
#  - a request head that never ends (slowloris) gets 408 after
#    --request-timeout while other clients are served; one over 8 KiB gets
#    431; both are counted.
. "$(dirname "$0")/lib.sh"

WWW=$TMP/www
mkdir -p "$WWW/sub"
echo "inside" >"$WWW/inside.txt"
echo "SECRET-$$" >"$TMP/secret.txt"
ln -s "$TMP/secret.txt" "$WWW/out-abs"
ln -s ../secret.txt "$WWW/out-rel"
ln -s "$TMP" "$WWW/outdir"
ln -s /proc/self/root/etc/passwd "$WWW/magic"
ln -s ../inside.txt "$WWW/sub/in-link"
mkfifo "$WWW/fifo"

# get PATH -> "CODE BODY" (curl keeps the path as given)
get() {
	local body code
	code=$(nsx timeout --foreground -k 10 5 curl -s --path-as-is -m 3 -o "$TMP/body" -w '%{http_code}' \
		"http://$HADDR$1")
	body=$(head -c 100 "$TMP/body" 2>/dev/null | tr -d '\r\n')
	echo "$code $body"
}

# Every way out of DIR: refused, no secret.
refused_all() {
	local p r
	for p in /out-abs /out-rel /outdir/secret.txt /magic /../secret.txt \
		/%2e%2e/secret.txt /sub/..%2f..%2fsecret.txt; do
		r=$(get "$p")
		case "$r" in
		400\ *|403\ *|404\ *) ;;
		*) fail "$1: $p gave '$r'" ;;
		esac
		grep -q SECRET "$TMP/body" && fail "$1: $p leaked the secret"
	done
	return 0
}

start_serve --port 80 --http "$WWW" --request-timeout 1 --stats
[ "$(get /inside.txt)" = "200 inside" ] || fail "inside.txt: $(get /inside.txt)"
refused_all openat2
r=$(get /sub/in-link)
[ "$r" = "200 inside" ] || fail "a link inside DIR was not followed: $r"

# The FIFO: refused without waiting for a writer; meanwhile another
# client is served.
t0=$(date +%s%N)
nsx timeout --foreground -k 10 5 curl -s -m 3 -o /dev/null -w '%{http_code}' http://$HADDR/fifo >"$TMP/fifo.code" &
fifo_pid=$!
r=$(get /inside.txt)
wait $fifo_pid
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$r" = "200 inside" ] || fail "a client was not served beside the FIFO request: '$r'"
[ "$(cat "$TMP/fifo.code")" = 403 ] || fail "FIFO gave '$(cat "$TMP/fifo.code")' (want 403)"
[ $ms -lt 2500 ] || fail "FIFO request took $ms ms"

# Slowloris: a head that never ends, while curl is served.
ip netns exec "$NS" timeout --foreground -k 10 10 python3 "$PEER" raw-request $HADDR 80 \
	'GET /inside.txt HTTP/1.1\r\nHost: x\r\n' >"$TMP/slow.log" 2>&1 &
slow_pid=$!
sleep 0.3
r=$(get /inside.txt)
[ "$r" = "200 inside" ] || fail "a client was not served beside the slow one: '$r'"
wait $slow_pid || fail "slow request: $(cat "$TMP/slow.log")"
[ "$(jfield "$TMP/slow.log" status)" = 408 ] || fail "slow request: $(cat "$TMP/slow.log")"
secs=$(jfield "$TMP/slow.log" seconds)
awk -v s="$secs" 'BEGIN { exit !(s >= 0.9 && s < 3) }' ||
	fail "slow request closed after $secs s (--request-timeout 1)"
echo "slowloris: $(tail -n 1 "$TMP/slow.log")"

# Over 8 KiB of head.
peer raw-request $HADDR 80 'GET / HTTP/1.1\r\nX-Pad: ' 9000 >"$TMP/big.log" 2>&1
[ "$(jfield "$TMP/big.log" status)" = 431 ] || fail "big head: $(cat "$TMP/big.log")"
stop_serve
for c in RequestTimeouts HeadTooLarge HttpForbidden; do
	[ "$(counter "$TMP/serve.log" $c)" -ge 1 ] || fail "$c not counted"
done
echo "openat2: $(grep -E 'RequestTimeouts|HttpForbidden' "$TMP/serve.log" | tr -s ' ' | tr '\n' ' ')"

# The walk without openat2: no link is followed at all.
HANDSHAKE_NO_OPENAT2=1 start_serve --port 80 --http "$WWW"
[ "$(get /inside.txt)" = "200 inside" ] || fail "walk: inside.txt: $(get /inside.txt)"
refused_all walk
r=$(get /sub/in-link)
[ "${r%% *}" = 403 ] || fail "walk: a link was followed: $r"
stop_serve
echo "PASS: no way out of DIR (openat2 and walk), FIFO refused at once, 408 and 431"
