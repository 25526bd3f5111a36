#!/usr/bin/env bash
# The layers depend one way (DESIGN.md, docs/architecture.md):
#
#   api -> stack -> tcp -> ip -> wire        core below all of them
#   link and trace know the public API and core (link also wire: devices
#   parse headers for offloads), nothing of ip, tcp or the stack
#
# Every #include "..." under src/ is checked against what its folder may
# see; a file may always include its own folder's headers and the public
# handshake.h. Usage (from CMake): test_layers.sh <build dir> <source dir>
set -u
src=${2:?source dir}/src

declare -A may=(
	[core]="core"
	[wire]="wire core"
	[ip]="ip wire core"
	[tcp]="tcp ip wire core"
	[stack]="stack tcp ip wire core"
	[api]="api stack tcp ip wire core link trace"
	[link]="link wire core"
	[trace]="trace core"
)

bad=0
for dir in "$src"/*/; do
	layer=$(basename "$dir")
	if [ -z "${may[$layer]+x}" ]; then
		echo "src/$layer: a folder with no place in the layering (add it here and to docs)"
		bad=1
		continue
	fi
	while IFS= read -r line; do
		file=${line%%:*}
		inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"${line#*:}")
		case "$inc" in
		handshake.h | handshake_loop.h) [ "$layer" = api ] || [ "$inc" = handshake.h ] && continue ;;
		*/*) ;;
		*) continue ;;          # the folder's own header, by bare name
		esac
		target=${inc%%/*}
		ok=0
		for m in ${may[$layer]}; do
			[ "$m" = "$target" ] && ok=1
		done
		if [ $ok = 0 ]; then
			echo "${file#"$src"/}: includes \"$inc\": $layer may see only: ${may[$layer]}"
			bad=1
		fi
	done < <(grep -Hn '#include "' "$dir"*.[ch] 2>/dev/null | sed -E 's/^([^:]+):[0-9]+:/\1:/')
done
if [ $bad != 0 ]; then
	echo "FAIL: an include points up or sideways"
	exit 1
fi
echo "layers: every include points down (core <- wire <- ip <- tcp <- stack <- api)"
