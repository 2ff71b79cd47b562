#!/usr/bin/env bash
# The whole test suite: unit tests of pure code and integration tests against the real local stack
# (installed on the first run and started here) in one node:test run, then the Kubernetes tests
# (test/k8s/run.sh: the image, a real single-node cluster, the Helm release on it). The exit code
# is non-zero if either part failed; both always run, so one CI run reports everything.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
# With the OpenTelemetry Collector and Jaeger (on request otherwise): built once into the per-user
# cache, in parallel with the other installs, before any test needs them.
npx tsx src/cli.ts stack up kafka temporal mariadb prometheus otelcol jaeger
mapfile -t files < <(find test \( -path test/fixtures -o -path test/k8s \) -prune -o -name "*.test.ts" -print | sort)
# --test-force-exit: a file whose tests finished exits even if a client still holds a socket;
# --test-timeout: no single test may hang CI (the long ones set their own, shorter, bounds).
status=0
node --import tsx --test --test-concurrency=1 --test-force-exit --test-timeout=900000 "${files[@]}" || status=$?
bash test/k8s/run.sh || status=$?
exit "$status"
