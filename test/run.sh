#!/usr/bin/env bash
# The whole test suite in one node:test run (one closing summary): unit tests of pure code and
# integration tests against the real local stack, which is installed (first run) and started here.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
npx tsx src/cli.ts stack up
# test/k8s/ builds the image and runs it (and a cluster): `npm run test:k8s`, not part of this suite.
mapfile -t files < <(find test \( -path test/fixtures -o -path test/k8s \) -prune -o -name "*.test.ts" -print | sort)
# --test-force-exit: a file whose tests finished exits even if a client still holds a socket;
# --test-timeout: no single test may hang CI (the long ones set their own, shorter, bounds).
exec node --import tsx --test --test-concurrency=1 --test-force-exit --test-timeout=900000 "${files[@]}"
