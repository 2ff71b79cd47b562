/**
 * The Dockerfile is hadolint-clean and builds one non-root, shell-less image for every process
 * (test/k8s/image.test.ts builds and runs it for real).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { SERVICE_NODE_FLAGS } from '../../../src/bench';
import { NODE_VERSION, NONROOT_UID, standInBaseImages } from '../../../src/image/bases';
import { upstreamBaseImages } from '../../../src/image/refs';
import { ensureHadolint, REPO_ROOT } from '../../helpers/k8s-tools';

const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

test('hadolint reports nothing at its default threshold', () => {
  const res = spawnSync(ensureHadolint(), ['--no-color', 'Dockerfile'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(res.error, undefined);
  assert.equal(`${res.stdout}${res.stderr}`.trim(), '');
  assert.equal(res.status, 0);
});

test('multi-stage: npm ci from the lockfile, production deps only, a distroless non-root final stage', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  assert.ok(stages.length >= 4, 'install, build, deps and run stages');
  const stage = (name: string) => stages.find((s) => new RegExp(`^\\S+ AS ${name}$`, 'm').test(s.split('\n')[0] ?? '')) ?? '';
  const final = stages[stages.length - 1] ?? '';
  assert.match(final, /^\$\{RUNTIME_IMAGE\}\n/, 'the final stage is the runtime base');
  assert.match(stage('install'), /^\$\{BUILD_IMAGE\} AS install/);
  assert.match(stage('install'), /COPY package\.json package-lock\.json/);
  assert.match(stage('install'), /npm ci /);
  assert.match(stage('build'), /^install AS build/);
  assert.match(stage('build'), /RUN npm run build/);
  assert.match(stage('deps'), /^install AS deps/);
  assert.match(stage('deps'), /npm prune --omit=dev/);
  assert.doesNotMatch(final, /^RUN /m, 'the final stage has no shell to RUN anything');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(final)?.[1] ?? '[]') as string[];
  assert.deepEqual(entrypoint, ['/nodejs/bin/node', ...SERVICE_NODE_FLAGS, 'dist/src/cli.js'], 'the image runs node with the flags the benchmark measured');
  assert.match(final, /COPY --from=deps \/app\/node_modules /, 'node_modules without dev dependencies');
  for (const dir of ['dist', 'sql', 'grafana']) assert.match(final, new RegExp(`COPY --from=build /app/${dir} `));
  // The workflow bundles' key hashes the lock file: without it a worker would miss them and bundle.
  assert.match(final, /COPY --from=build \/app\/package\.json \/app\/package-lock\.json \.\//);
  const user = /^USER (\d+)(?::\d+)?$/m.exec(final)?.[1];
  assert.ok(user && Number(user) > 0, 'the final stage runs as a numeric non-root UID');
  assert.equal(Number(user), NONROOT_UID, "the image's user is the runtime stand-in's nonroot");
  const values = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'charts', 'ledgerflow', 'values.yaml'), 'utf8'));
  assert.equal(values.runAsUser, Number(user), "the chart's runAsUser is the image's user");
});

test('the base images are build arguments defaulting to the upstream Node.js LTS images the stand-ins copy', () => {
  const upstream = upstreamBaseImages(path.join(REPO_ROOT, 'Dockerfile'));
  const major = NODE_VERSION.split('.')[0];
  assert.ok(Number(major) >= 22, 'a maintained Node.js LTS (20 reached end of life in April 2026)');
  assert.equal(upstream.BUILD_IMAGE, `docker.io/library/node:${major}-bookworm-slim`);
  assert.equal(upstream.RUNTIME_IMAGE, `gcr.io/distroless/nodejs${major}-debian12:nonroot`);
  const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  const stageNames = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  for (const from of froms) assert.ok(from === '${BUILD_IMAGE}' || from === '${RUNTIME_IMAGE}' || stageNames.includes(from), `FROM ${from}`);
  const standIns = standInBaseImages();
  assert.match(standIns.BUILD_IMAGE, new RegExp(`:${NODE_VERSION}-bookworm-`));
  assert.match(standIns.RUNTIME_IMAGE, new RegExp(`:${NODE_VERSION}-debian12-nonroot-`));
});

test('the npm CA bundle is a build secret mount, never an ARG, ENV or COPY that would land in a layer', () => {
  const runs = dockerfile.split(/^(?=RUN |FROM |COPY |ENV |ARG )/m);
  assert.ok(runs.filter((r) => r.startsWith('RUN ') && /npm (ci|install)/.test(r)).every((r) => /--mount=type=secret,id=npm-ca,required=false/.test(r)));
  assert.doesNotMatch(dockerfile, /^(ARG|ENV|COPY)\b.*(npm-ca|NODE_EXTRA_CA_CERTS|\.crt)/m);
});

test('npm run build prebuilds the workflow bundles the image ships', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.build ?? '', /tsc -p tsconfig\.build\.json && node dist\/src\/worker\/prebundle\.js$/);
});

test('.dockerignore keeps the context to what the image needs', () => {
  const lines = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  assert.equal(lines.find((l) => l && !l.startsWith('#')), '*', 'allow-list: everything is ignored first');
  for (const needed of ['!package.json', '!package-lock.json', '!tsconfig.json', '!src/', '!sql/', '!grafana/']) {
    assert.ok(lines.includes(needed), `${needed} missing`);
  }
  assert.ok(!lines.some((l) => /^!(node_modules|\.stack|test|\.git)/.test(l)));
});
