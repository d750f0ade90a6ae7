#!/usr/bin/env bash
# Measures the Lambda functions against their limits: arm64 bootstrap and zip
# size, cold start (exec until the first Runtime API "next"), and RSS after
# 100 invocations. Exits non-zero when a limit is exceeded.
# See docs/lambda-benchmarks.md for the method and recorded results.
#
# Usage: scripts/bench-lambdas.sh [-runs 20] [-invocations 100] [-functions a,b] [-qemu auto|on|off]
#        [-inittrace 11] [-keep DIR] [-timeout 30s]      (go run ./internal/bench/lambdabench -h)
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./internal/bench/lambdabench "$@"
