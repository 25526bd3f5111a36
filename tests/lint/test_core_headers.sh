#!/usr/bin/env bash
# The sans-IO core must not reach for the OS: src/wire, src/ip, src/tcp,
# src/core and src/stack include no socket, clock, thread or unistd headers
# (DESIGN.md).
# Usage (from CMake): test_core_headers.sh <build dir> <source dir>
set -u
src=${2:?source dir}
bad=$(grep -rnE '#include <(sys/[a-z_]+|time|unistd|pthread|netinet/[a-z_]+|arpa/inet|net/[a-z_]+|linux/[a-z_]+|poll|signal|fcntl)\.h>' \
	"$src/src/wire" "$src/src/tcp" "$src/src/ip" "$src/src/core" "$src/src/stack")
if [ -n "$bad" ]; then
	echo "OS headers in the sans-IO core:"
	echo "$bad"
	exit 1
fi
n=$(find "$src/src/wire" "$src/src/tcp" "$src/src/ip" "$src/src/core" "$src/src/stack" -name '*.[ch]' | wc -l)
echo "sans-IO core: $n files, no OS headers"
