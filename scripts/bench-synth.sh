#!/usr/bin/env bash
# Measures synth wall time of the whole app (every environment, cdk-nag packs
# with reports, schema validation: exactly what `cdk synth` runs) against an
# app with one empty stack, in the same run, alternating the two.
#
# Usage: scripts/bench-synth.sh [runs]    (default 7; reports medians)
# Exit status 3: it ran, and the whole app missed the 1.6x target.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

go build -o "$work/app" .
go build -o "$work/empty" ./internal/bench/emptyapp
go build -o "$work/phases" ./internal/bench/synthphases

# One run of $1, printing "<wall ms> <cpu ms>" (cpu = user + sys of the app
# and its Node process). The app gets the environment `cdk synth` gives it
# (context and settings, captured from the pinned CLI by scripts/cli-env.sh),
# with its own output directory.
scripts/cli-env.sh >"$work/cli.env"
with_cli_env() { # with_cli_env <outdir> <command...>
  local out="$1"
  shift
  (
    . "$work/cli.env"
    export CDK_OUTDIR="$out" CDK_ERROR_FILE="$out/error.txt" CDK_PERF_COUNTERS_FILE="$out/performance-counters.json"
    exec "$@"
  )
}
# synth_failed <outdir>: with the CLI's failSynthOnValidationErrors=false an
# app exits 0 even when validation fails (the CLI would fail it), so a run
# is only timed as a synth when it left no error and no failed report.
synth_failed() {
  [ -e "$1/error.txt" ] || grep -q '"conclusion": "failure"' "$1/validation-report.json" 2>/dev/null
}
run() {
  local out="$work/out-$1" TIMEFORMAT='%R %U %S' t
  rm -rf "$out"
  t=$( { time with_cli_env "$out" "$work/$1" >"$work/$1.log" 2>&1; } 2>&1 ) ||
    { cat "$work/$1.log" >&2; exit 1; }
  if synth_failed "$out"; then
    cat "$work/$1.log" "$out/error.txt" "$out/validation-report.json" >&2 2>/dev/null
    echo "bench-synth: $1 did not synthesize (see above)" >&2
    exit 1
  fi
  awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}' <<<"$t"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

run empty >/dev/null; run app >/dev/null # warm the jsii package cache and the page cache
app_wall=() app_cpu=() empty_wall=() empty_cpu=()
for _ in $(seq "$runs"); do
  read -r w c <<<"$(run empty)"; empty_wall+=("$w"); empty_cpu+=("$c")
  read -r w c <<<"$(run app)"; app_wall+=("$w"); app_cpu+=("$c")
done
ew=$(printf '%s\n' "${empty_wall[@]}" | median); ec=$(printf '%s\n' "${empty_cpu[@]}" | median)
aw=$(printf '%s\n' "${app_wall[@]}" | median); ac=$(printf '%s\n' "${app_cpu[@]}" | median)
stacks=$(ls "$work/out-app"/*.template.json | wc -l)
# Resources only: the templates' BootstrapVersion parameters are not resources.
resources=$(node -e 'let n = 0; for (const f of process.argv.slice(1)) n += Object.keys(require(f).Resources || {}).length; console.log(n)' "$work/out-app"/*.template.json)
echo "runs:            $runs, alternating empty/app; medians in ms"
echo "empty-stack app: wall ${ew}  cpu ${ec}   walls [${empty_wall[*]}]"
echo "whole app:       wall ${aw}  cpu ${ac}   walls [${app_wall[*]}]  ($stacks stacks, $resources resources)"
awk -v aw="$aw" -v ew="$ew" -v ac="$ac" -v ec="$ec" \
  'BEGIN {printf "ratio:           wall %.2fx, cpu %.2fx (target: wall <= 1.60x)\n", aw / ew, ac / ec}'
met=$(awk -v aw="$aw" -v ew="$ew" 'BEGIN {print (aw <= 1.6 * ew) ? "yes" : "no"}')

# Where the whole app's time goes, one run each (not medians).
echo
echo "phases of one whole-app synth (internal/bench/synthphases):"
with_cli_env "$work/out-phases" "$work/phases" 2>/dev/null | sed 's/^/  /'
echo "the same with CDK_VALIDATION=false:"
rm -rf "$work/out-phases"
CDK_VALIDATION=false with_cli_env "$work/out-phases" "$work/phases" 2>/dev/null | sed 's/^/  /'

# Template validation alone, on the whole app's templates: the engine that
# both apps create, and what each template adds (internal/bench/validationcost).
cdklib_version=$(go list -m -f '{{.Version}}' github.com/aws/aws-cdk-go/awscdk/v2 | sed 's/^v//')
cdklib=$(ls -d "${XDG_CACHE_HOME:-$HOME/.cache}/aws/jsii/package-cache/aws-cdk-lib/$cdklib_version"/*/ 2>/dev/null | head -1)
echo
if [ -n "$cdklib" ] && [ -d "$cdklib/core/lib/validation/rules" ]; then
  echo "template validation alone (aws-cdk-lib $cdklib_version, internal/bench/validationcost):"
  node internal/bench/validationcost/validationcost.js "$cdklib" "$work/out-app" | sed 's/^/  /'
else
  echo "template validation alone: aws-cdk-lib $cdklib_version not found in the jsii package cache; not measured" >&2
  exit 1
fi

# The exit status is the target's verdict, after everything is printed.
if [ "$met" != yes ]; then
  echo "target NOT met: the whole app took more than 1.6x the empty app's wall time" >&2
  exit 3
fi
