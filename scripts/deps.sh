#!/usr/bin/env bash
# Installs the Debian packages that building, testing and benchmarking
# handshake need (liblwip-dev: lwIP for `make bench` and for test_lwip).
# Does nothing when they are present; needs root only when something is missing.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# python3-scapy: the attack suite (tests/attack); liblwip-dev: make bench and
# tests/peer/test_lwip.c;
# chromium, chromium-driver and python3-selenium: the HTML report's browser
# tests (tests/report); pkg-config, libbpf-dev, libxdp-dev, liburing-dev (and
# clang): the device features of cmake/link_features.cmake (eBPF steering,
# AF_XDP, io_uring); llvm-14: make fuzz's coverage report.
for p in cmake gcc clang make pkg-config libcmocka-dev libpcap-dev iproute2 tshark curl \
	python3 valgrind libclang-rt-14-dev python3-scapy liblwip-dev chromium chromium-driver \
	python3-selenium libbpf-dev libxdp-dev liburing-dev llvm-14; do
  have "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages: ${need[*]} (run as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: installing ${need[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
