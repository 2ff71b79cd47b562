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
# The Kubernetes tests' builds (a cold cache compiles Kubernetes, etcd, CoreDNS, Helm 4 and 3 and
# skaffold from the Go module proxy) run beside the suite at the lowest CPU priority, so a fresh
# machine's run overlaps them with the suite's waits instead of adding them to its end.
mkdir -p .stack/logs
( nice -n 19 npx tsx src/cli.ts cluster install && nice -n 19 npx tsx src/cli.ts cluster install helm4 helm3; nice -n 19 npx tsx src/cli.ts cluster install skaffold ) > .stack/logs/cluster-install.log 2>&1 &
builds=$!
mapfile -t files < <(find test \( -path test/fixtures -o -path test/k8s \) -prune -o -name "*.test.ts" -print | sort)
# --test-force-exit: a file whose tests finished exits even if a client still holds a socket;
# --test-timeout: no single test may hang CI (the long ones set their own, shorter, bounds).
status=0
mkdir -p .stack/logs
log=.stack/logs/test-suite.tap
node --import tsx --test --test-concurrency=1 --test-force-exit --test-timeout=900000 "${files[@]}" 2>&1 | tee "$log" || status=$?
# test/k8s/run.sh installs again (cached: seconds) and reports a failed build itself.
wait "$builds" || echo "cluster builds beside the suite failed (see .stack/logs/cluster-install.log); test/k8s/run.sh retries them"
bash test/k8s/run.sh || status=$?
bash test/failures.sh "$log"
exit "$status"
