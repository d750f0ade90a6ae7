#!/usr/bin/env bash
# Measures synth wall time of the whole app (every environment, cdk-nag packs
# with reports, schema validation: exactly what `cdk synth` runs) against an
# app with one empty stack, in the same run, alternating the two.
#
# Usage: scripts/bench-synth.sh [runs]    (default 7; reports medians)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1

go build -o "$work/app" .
go build -o "$work/empty" ./internal/bench/emptyapp

# One run of $1, printing its wall time in milliseconds. The app binary reads
# the context that `cdk synth` would pass from cdk.json.
context="$(go run ./internal/bench/cdkcontext)"
run() {
  local out="$work/out-$1"
  rm -rf "$out"
  local start end
  start=$(date +%s%N)
  CDK_OUTDIR="$out" CDK_CONTEXT_JSON="$context" "$work/$1" >"$work/$1.log" 2>&1 || { cat "$work/$1.log" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

run empty >/dev/null; run app >/dev/null # warm the jsii package cache and the page cache
app_times=() empty_times=()
for _ in $(seq "$runs"); do
  empty_times+=("$(run empty)")
  app_times+=("$(run app)")
done
e=$(printf '%s\n' "${empty_times[@]}" | median)
a=$(printf '%s\n' "${app_times[@]}" | median)
stacks=$(ls "$work/out-app"/*.template.json | wc -l)
resources=$(cat "$work/out-app"/*.template.json | grep -c '"Type": "AWS::' || true)
echo "runs:            $runs (medians; alternating empty/app)"
echo "empty-stack app: ${e} ms   [${empty_times[*]}]"
echo "whole app:       ${a} ms   [${app_times[*]}]  ($stacks stacks, $resources resources)"
awk -v a="$a" -v e="$e" 'BEGIN {printf "ratio:           %.2fx (target <= 1.60x)\n", a / e}'
