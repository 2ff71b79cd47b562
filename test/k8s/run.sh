#!/usr/bin/env bash
# The Kubernetes tests (npm run test:k8s): a real single-node cluster built and started by
# `ledgerflow cluster up` (cached per user), then the tests in test/k8s, then `cluster down`,
# whatever the tests' outcome, so nothing of the node stays on the machine.
set -uo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(find test/k8s -name "*.test.ts" | sort)
LF_K8S_TESTS=1 node --import tsx --test --test-concurrency=1 --test-force-exit --test-timeout=5400000 "${files[@]}"
status=$?
npx tsx src/cli.ts cluster down || status=1
exit "$status"
