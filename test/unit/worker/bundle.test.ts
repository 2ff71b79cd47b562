import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/telemetry/log';
import { workflowCode } from '../../../src/worker/bundle';

test('the workflow bundle is built once per code version and interceptor set, then read from the prebuilt bundles or the cache', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-bundle-'));
  const config = loadConfig({ 'stack.dir': dir });
  const log = createLogger('warn', 'bundle-test');
  const first = await workflowCode(config, [], log);
  const cacheDir = path.join(dir, 'cache', 'workflow-bundles');
  const files = fs.readdirSync(cacheDir);
  assert.equal(files.length, 1);
  const code = (first.workflowBundle as { code: string }).code;
  assert.match(code, /processBatch/);

  // A second start reads the cached file: same code, no new file.
  const cachedFile = path.join(cacheDir, files[0] as string);
  fs.appendFileSync(cachedFile, '\n// read from cache\n');
  const second = await workflowCode(config, [], log);
  assert.match((second.workflowBundle as { code: string }).code, /read from cache/);
  assert.equal(fs.readdirSync(cacheDir).length, 1);

  // A bundle prebuilt by `npm run build` for this very code (the image's) is used from its file, first.
  const prebuiltDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-prebuilt-'));
  const prebuilt = path.join(prebuiltDir, files[0] as string);
  fs.copyFileSync(cachedFile, prebuilt);
  fs.appendFileSync(prebuilt, '\n// prebuilt\n');
  assert.deepEqual((await workflowCode(config, [], log, { prebuiltDir })).workflowBundle, { codePath: prebuilt });
  // One made for other code (another key) is never used: the cache answers instead.
  fs.renameSync(prebuilt, path.join(prebuiltDir, '000000000000000000000000.js'));
  assert.match(((await workflowCode(config, [], log, { prebuiltDir })).workflowBundle as { code: string }).code, /read from cache/);
  fs.rmSync(prebuiltDir, { recursive: true, force: true });

  // Other interceptor modules are another bundle.
  const modules = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];
  const traced = await workflowCode(config, modules, log);
  assert.equal(fs.readdirSync(cacheDir).length, 2);
  assert.notEqual((traced.workflowBundle as { code: string }).code, code);
  fs.rmSync(dir, { recursive: true, force: true });
});
