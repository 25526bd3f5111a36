#!/usr/bin/env bash
# Replaces the vendored uPlot (third_party/uplot) with VERSION from the npm
# registry. Not part of the build: the files are committed so that building
# needs no network. Usage: scripts/update-uplot.sh 1.6.32
set -euo pipefail
ver=${1:?usage: scripts/update-uplot.sh VERSION}
dir=$(cd "$(dirname "$0")/.." && pwd)/third_party/uplot
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "uplot@$ver" >/dev/null && tar xzf "uplot-$ver.tgz")
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" \
   "$tmp/package/LICENSE" "$dir/"
echo "$ver" >"$dir/VERSION"
sha256sum "$tmp/uplot-$ver.tgz" "$dir"/uPlot.iife.min.js "$dir"/uPlot.min.css "$dir"/LICENSE
echo "update the version and hashes in $dir/README.md"
