/** The Dockerfile is hadolint-clean and builds one non-root, shell-less image for every process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { SERVICE_NODE_FLAGS } from '../../../src/bench';
import { ensureHadolint, REPO_ROOT } from '../../helpers/k8s-tools';

const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

test('hadolint reports nothing at its default threshold', () => {
  const res = spawnSync(ensureHadolint(), ['--no-color', 'Dockerfile'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(res.error, undefined);
  assert.equal(`${res.stdout}${res.stderr}`.trim(), '');
  assert.equal(res.status, 0);
});

test('multi-stage: npm ci with the lockfile, production deps only in a distroless non-root final stage', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  assert.ok(stages.length >= 3, 'build, deps and run stages');
  const final = stages[stages.length - 1] ?? '';
  assert.match(final, /^gcr\.io\/distroless\/nodejs20-debian12/);
  assert.match(dockerfile, /COPY package\.json package-lock\.json/);
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.doesNotMatch(final, /^RUN /m, 'the final stage has no shell to RUN anything');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(final)?.[1] ?? '[]') as string[];
  assert.deepEqual(entrypoint, ['/nodejs/bin/node', ...SERVICE_NODE_FLAGS, 'dist/src/cli.js'], 'the image runs node with the flags the benchmark measured');
  for (const dir of ['dist', 'sql', 'grafana', 'node_modules']) assert.match(final, new RegExp(`COPY --from=\\w+ /app/${dir} `));
  const user = /^USER (\d+)(?::\d+)?$/m.exec(final)?.[1];
  assert.ok(user && Number(user) > 0, 'the final stage runs as a numeric non-root UID');
  const values = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'charts', 'ledgerflow', 'values.yaml'), 'utf8'));
  assert.equal(values.runAsUser, Number(user), "the chart's runAsUser is the image's user");
});

test('.dockerignore keeps the context to what the image needs', () => {
  const lines = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  assert.equal(lines.find((l) => l && !l.startsWith('#')), '*', 'allow-list: everything is ignored first');
  for (const needed of ['!package.json', '!package-lock.json', '!tsconfig.json', '!src/', '!sql/', '!grafana/']) {
    assert.ok(lines.includes(needed), `${needed} missing`);
  }
  assert.ok(!lines.some((l) => /^!(node_modules|\.stack|test|\.git)/.test(l)));
});
