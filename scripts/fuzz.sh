#!/usr/bin/env bash
# Runs every fuzz target of the module for a while each (default 30s), one
# after another, and fails on the first crash. Fuzz targets cover the event
# decoders of every Lambda function and the validators and parsers they and
# the config rely on (cron, platform versions, AMI ids, the webhook secret).
#
# Usage: scripts/fuzz.sh [duration]     e.g. scripts/fuzz.sh 30s
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-30s}"
# Lines of "<package dir> <FuzzName>", found from the source so a new target is never skipped.
targets=$(grep -rlE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' --include='*_test.go' . |
  while read -r file; do
    dir=$(dirname "$file")
    grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //' | while read -r name; do echo "$dir $name"; done
  done | sort)
[ -n "$targets" ] || { echo "no fuzz targets found" >&2; exit 1; }
while read -r dir name; do
  echo "== $dir $name ($duration)"
  go test "$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$duration"
done <<<"$targets"
