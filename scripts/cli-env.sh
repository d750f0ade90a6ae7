#!/usr/bin/env bash
# Prints, as shell `export` lines, the environment the pinned CDK CLI gives
# the app it synthesizes: CDK_CONTEXT_JSON (cdk.json's context plus the
# CLI's own settings: path and asset metadata, version reporting, bundling
# stacks, and failSynthOnValidationErrors=false, which leaves validation
# failures to the CLI), CDK_DEFAULT_REGION and the CLI's version variables.
# It leaves out the per-run paths (CDK_OUTDIR, CDK_ERROR_FILE,
# CDK_PERF_COUNTERS_FILE); set those to the run's output directory.
#
# It captures them from the CLI itself, with an app that writes its
# environment and fails, so the benchmarks run the app exactly as
# `cdk synth` does, minus the CLI's own start-up.
#
# Usage: scripts/cli-env.sh > cli.env; then, per run: ( . cli.env; export CDK_OUTDIR=...; exec app )
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/dump" <<'DUMP'
#!/usr/bin/env bash
if [ -n "${CONTEXT_OVERFLOW_LOCATION_ENV:-}" ]; then
  echo overflow >"$DUMP_TO.overflow" # part of the context is in a file the CLI deletes
fi
for v in $(compgen -e | grep '^CDK_'); do
  case "$v" in CDK_OUTDIR | CDK_ERROR_FILE | CDK_PERF_COUNTERS_FILE) continue ;; esac
  printf 'export %s=%q\n' "$v" "${!v}"
done >"$DUMP_TO"
exit 1 # the CLI stops here; nothing is synthesized
DUMP
chmod +x "$tmp/dump"
# Only what the CLI sets: the caller's own CDK_* variables are left out.
unset_caller=()
for v in $(compgen -e | grep '^CDK_' || true); do unset_caller+=(-u "$v"); done
env "${unset_caller[@]}" DUMP_TO="$tmp/env" npx --yes aws-cdk@2.1148.1 synth --quiet --app "$tmp/dump" -o "$tmp/out" >"$tmp/log" 2>&1 || true
if [ -e "$tmp/env.overflow" ]; then
  echo "cli-env: the context is too large for one environment variable; the CLI passed part of it in a file it deletes, which this script cannot replay" >&2
  exit 1
fi
if ! grep -q '^export CDK_CONTEXT_JSON=' "$tmp/env" 2>/dev/null; then
  cat "$tmp/log" >&2
  echo "cli-env: the CDK CLI did not hand the app a CDK_CONTEXT_JSON" >&2
  exit 1
fi
cat "$tmp/env"
