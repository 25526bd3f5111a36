# The part of lib.sh (the TUN/TAP tests) and devlib.sh (the device tests)
# that is the same, sourced by both: the arguments (the build directory and
# the source directory), the skip checks, the namespace's name, a temporary
# directory, the cleanup that deletes both whatever happens, and the
# helpers every test uses. Set HSK_KEEP=1 to keep the temporary directory
# (logs, pcaps).
#
# Before sourcing: NEED_TOOLS (more programs a test needs, else a skip).
# After: NS is a name, not yet a namespace (the library makes it);
# SERVE_PID and DT_PID, when set, are killed at exit; fail_hook (if
# defined) runs when a test fails, before the logs are shown.

BUILD=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
BUILD=$(cd "$BUILD" && pwd)
SRC=$(cd "$SRC" && pwd)
TEST=$(basename "$0" .sh)

. "$SRC/scripts/netns.sh"

reason=$(netns_check)
if [ $? -ne 0 ]; then
	echo "$reason"
	exit 77
fi
for tool in python3 timeout sha256sum $NEED_TOOLS; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool is missing"
		exit 77
	fi
done

PEER="$SRC/tests/interop/peer.py"
NS="hsk-${TEST#test_}-$$"
TMP=$(mktemp -d "/tmp/hsk-${TEST}.XXXXXX")
KADDR=198.18.0.1
HADDR=198.18.0.2
SERVE_PID=
DT_PID=
EXTRA_NS=       # more namespaces a test created, deleted on exit too

cleanup() {
	local rc=$?
	# A test may have turned on `set -e`: a kill that finds its process
	# already gone must not end the cleanup half way (failing a passed
	# test and leaving the namespace behind).
	set +e
	for pid in $SERVE_PID $DT_PID; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	netns_down "$NS"
	for ns in $EXTRA_NS; do
		netns_down "$ns"
	done
	if [ "${HSK_KEEP:-0}" = 1 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	if declare -F fail_hook >/dev/null; then
		fail_hook
	fi
	for f in "$TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last 40 lines)"
		tail -n 40 "$f"
	done
	exit 1
}

nsx() {
	ip netns exec "$NS" "$@"
}

peer() {
	nsx timeout --foreground -k 10 60 python3 "$PEER" "$@"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# A JSON field of the last line of a peer's output.
jfield() {
	tail -n 1 "$1" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2'))"
}

# check COND MESSAGE: fails the test unless the shell arithmetic COND holds.
check() {
	(( $1 )) || fail "$2 ($1)"
}
