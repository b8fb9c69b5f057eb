#!/usr/bin/env bash
# Rebuild tests/fixtures/audit from the demo (tests/fixtures/audit/README.md): the
# road map, the log, its tiles and the log's verifier key, without any secret key.
# Needed only when the demo's history changes on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$PWD
(cd "$work" && "$root/.venv/bin/python" -m cvid.demo --no-serve > demo.txt)
vkey=$(sed -n "s/.*--vkey '\([^']*\)'.*/\1/p" "$work/demo.txt" | head -n 1)
[ -n "$vkey" ] || { echo "the demo printed no --vkey" >&2; exit 1; }
out=tests/fixtures/audit
rm -rf "$out/agreement" "$out/tiles" "$out/vkey"
mkdir -p "$out/agreement"
cp "$work/demo-out/agreement/roadmap.yaml" "$work/demo-out/agreement/log.db" "$out/agreement/"
cp -r "$work/demo-out/tiles" "$out/tiles"
printf '%s\n' "$vkey" > "$out/vkey"
echo "rebuilt $out"
