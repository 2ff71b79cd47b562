import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TOOLS_DIR } from './k8s-tools';

/**
 * schemathesis, the OpenAPI fuzzer, from PyPI into a virtual environment under
 * <repo>/.stack/tools/ (git-ignored), installed once and reused while it is the pinned version.
 */
export const SCHEMATHESIS_VERSION = '4.32.5';
const INSTALL_TIMEOUT_MS = 10 * 60_000;

export function ensureSchemathesis(): string {
  const venv = path.join(TOOLS_DIR, `schemathesis-${SCHEMATHESIS_VERSION}`);
  const bin = path.join(venv, 'bin', 'st');
  const marker = path.join(venv, '.installed');
  if (fs.existsSync(bin) && fs.existsSync(marker)) return bin;
  fs.rmSync(venv, { recursive: true, force: true });
  fs.mkdirSync(TOOLS_DIR, { recursive: true });
  console.error(`schemathesis: pip install schemathesis==${SCHEMATHESIS_VERSION} into ${path.relative(process.cwd(), venv)} (once)`);
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 << 20 });
  run('python3', ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-input', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  fs.writeFileSync(marker, `${SCHEMATHESIS_VERSION}\n`);
  return bin;
}
