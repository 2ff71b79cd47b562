#!/usr/bin/env bash
# The Kubernetes tests: a real single-node cluster built and started by `ledgerflow cluster up`
# (binaries cached per user, in cache.dir), the image built from the Dockerfile, the release on the
# node, then `cluster down`, whatever the tests' outcome, so nothing of the node stays on the
# machine. `npm test` runs this after the rest of the suite; `npm run test:k8s` runs it alone,
# writes docs/reports/k8s-e2e.json (LF_K8S_REPORT=1) and adds the autoscaling proof
# (LF_K8S_AUTOSCALE=1: KEDA built here first, then autoscale.test.ts's ~30 min load step), which
# stays out of `npm test` so a CI run keeps within its hour.
set -uo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
# This run's TAP log, for the failure summary at the end (pipefail: the tests' exit code survives tee).
mkdir -p .stack/logs && rm -f .stack/logs/test-k8s.tap
# The builds first, outside any test's timeout: from an empty cache they take what the machine
# gives them (54 min of wall time for Kubernetes alone on a shared, overloaded 2-core box).
status=0
# Another clone's node may hold the default ranges on this machine: this clone's node then takes free ones.
eval "$(npx tsx test/k8s/ranges.ts)"
npx tsx src/cli.ts cluster install && npx tsx src/cli.ts cluster install helm4 helm3 > /dev/null || status=$?
# skaffold serves its own test alone: a failed build fails that test (which names it), not the rest.
npx tsx src/cli.ts cluster install skaffold > /dev/null || echo "skaffold did not build; test/k8s/skaffold.test.ts will fail on it"
if [ "$status" = 0 ] && [ "${LF_K8S_AUTOSCALE:-}" = 1 ]; then
  nice -n 10 npx tsx src/cli.ts cluster install keda > /dev/null || status=$?
fi
install_seconds=$(( $(date +%s) - started ))
if [ "$status" = 0 ]; then
  mapfile -t files < <(find test/k8s -name "*.test.ts" | sort)
  LF_K8S_TESTS=1 node --import tsx --test --test-concurrency=1 --test-force-exit --test-timeout=5400000 "${files[@]}" 2>&1 | tee .stack/logs/test-k8s.tap || status=$?
fi
npx tsx src/cli.ts cluster down || status=1
if [ "${LF_K8S_REPORT:-}" = 1 ]; then
  npx tsx test/k8s/report.ts run "{\"seconds\":$(( $(date +%s) - started )),\"installSeconds\":$install_seconds,\"startedAt\":\"$(date -u -d "@$started" +%FT%TZ)\",\"exitCode\":$status}"
fi
bash test/failures.sh .stack/logs/test-k8s.tap
exit "$status"
