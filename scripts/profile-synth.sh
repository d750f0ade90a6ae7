#!/usr/bin/env bash
# Profiles the Node side of one synth with V8's CPU profiler and prints
# where its time goes (internal/bench/synthprofile/summary.js): template
# validation, cdk-nag, module loading, garbage collection, waiting for Go.
# jsii's runtime script starts the kernel as a child process and forwards
# every signal to it, the profiler's SIGPROF too, so profiling the script's
# own process kills the kernel. The script runs a copy of the runtime whose
# spawn call adds --cpu-prof for the kernel alone (JSII_RUNTIME); nothing in
# the app changes.
#
# Usage: scripts/profile-synth.sh [app|empty]   (default app: the whole app;
#        empty: the empty-stack baseline of scripts/bench-synth.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-app}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

case "$which" in
  app) go build -o "$work/bin" . ;;
  empty) go build -o "$work/bin" ./internal/bench/emptyapp ;;
  *) echo "usage: $0 [app|empty]" >&2; exit 2 ;;
esac
version=$(go list -m -f '{{.Version}}' github.com/aws/jsii-runtime-go)
runtime="$(go env GOMODCACHE)/github.com/aws/jsii-runtime-go@$version/internal/embedded/resources/bin/jsii-runtime.js"
[ -f "$runtime" ] || { echo "jsii runtime not found at $runtime" >&2; exit 1; }

cp -r "$(dirname "$runtime")/.." "$work/runtime"
chmod -R u+w "$work/runtime"
spawn='[...process.execArgv,"--preserve-symlinks"'
grep -qF "$spawn" "$work/runtime/bin/jsii-runtime.js" ||
  { echo "jsii-runtime.js $version no longer spawns the kernel with $spawn; update this script" >&2; exit 1; }
sed -i "s#\[\.\.\.process\.execArgv,\"--preserve-symlinks\"#[...process.execArgv,\"--cpu-prof\",\"--cpu-prof-dir=$work/prof\",\"--preserve-symlinks\"#" "$work/runtime/bin/jsii-runtime.js"

# The environment `cdk synth` gives the app (scripts/cli-env.sh).
scripts/cli-env.sh >"$work/cli.env"
(
  . "$work/cli.env"
  export CDK_OUTDIR="$work/out" CDK_ERROR_FILE="$work/out/error.txt" CDK_PERF_COUNTERS_FILE="$work/out/performance-counters.json"
  JSII_RUNTIME="node $work/runtime/bin/jsii-runtime.js" exec "$work/bin"
) >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
# With the CLI's failSynthOnValidationErrors=false the app exits 0 even when
# validation fails; do not profile a failed synth.
if [ -e "$work/out/error.txt" ] || grep -q '"conclusion": "failure"' "$work/out/validation-report.json" 2>/dev/null; then
  cat "$work/log" "$work/out/validation-report.json" >&2 2>/dev/null
  echo "profile-synth: the app did not synthesize (see above)" >&2
  exit 1
fi
node internal/bench/synthprofile/summary.js "$work"/prof/*.cpuprofile
