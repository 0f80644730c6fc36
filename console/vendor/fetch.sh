#!/usr/bin/env bash
# Re-fetch the vendored chart library (uPlot, MIT) from the npm registry with the ordinary npm
# client, check it against the pinned sha256 sums, and copy the two files the console serves.
# The files are committed and embedded in the binary (include_bytes!), so nothing is fetched at
# build or run time; this script is how they were obtained and how to check or update them.
#   console/vendor/fetch.sh          fetch and (over)write the files
#   console/vendor/fetch.sh --check  only verify the committed files against the pins
set -euo pipefail
cd "$(dirname "$0")"

VERSION=1.6.32
TARBALL_SHA256=4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d
declare -A FILES=(
    [uPlot.iife.min.js]=19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f
    [uPlot.min.css]=df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04
)

check() {
    local f=$1 want=$2 got
    got=$(sha256sum "$f" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        echo "sha256 mismatch for $f: got $got, want $want" >&2
        return 1
    fi
}

if [ "${1:-}" = "--check" ]; then
    for f in "${!FILES[@]}"; do check "$f" "${FILES[$f]}"; done
    echo "uPlot $VERSION: vendored files match their pins"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$VERSION" >/dev/null)
check "$tmp/uplot-$VERSION.tgz" "$TARBALL_SHA256"
tar -xzf "$tmp/uplot-$VERSION.tgz" -C "$tmp"
for f in "${!FILES[@]}"; do
    check "$tmp/package/dist/$f" "${FILES[$f]}"
    cp "$tmp/package/dist/$f" "$f"
done
cp "$tmp/package/LICENSE" LICENSE-uPlot
echo "uPlot $VERSION: fetched and verified"
