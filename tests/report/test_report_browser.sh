#!/usr/bin/env bash
# Every demo scenario's HTML report opened in headless Chromium
# (tests/report/browser.py): no console errors, one arrow per segment, the
# states in the trace's order, one mark per data segment, linked
# selection, index counts; the syn-flood report (about 100,000 events)
# drawn within 2 s. Screenshots of each view land in BUILD/report-artifacts.
# $1: build directory, $2: source directory.
set -u
build=$(cd "${1:?build dir}" && pwd)
src=${2:?source dir}
[ -x "$build/handshake" ] || { echo "no $build/handshake"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 is missing"; exit 77; }
art="$build/report-artifacts"
rm -rf "$art"
mkdir -p "$art"
exec /usr/bin/python3 "$src/tests/report/browser.py" scenarios "$build" "$art"
