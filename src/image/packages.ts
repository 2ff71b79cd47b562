import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LedgerflowError } from '../domain/errors';
import { runStep } from '../stack/install';

/** A package from the npm registry, pinned by version and by the registry's own integrity hash. */
export interface PinnedPackage {
  name: string;
  version: string;
  /** `sha512-…` as the registry publishes it (`npm view NAME@VERSION dist.integrity`). */
  integrity: string;
}

export function integrityOf(file: string): string {
  return `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

/**
 * The package's tarball in `dir` (downloaded once with `npm pack`, npm's own client and trust
 * settings); a file whose hash is not the pinned one is never used.
 */
export async function fetchPinnedPackage(pin: PinnedPackage, dir: string, logFile: string): Promise<string> {
  const file = path.join(dir, `${pin.name}-${pin.version}.tgz`);
  if (fs.existsSync(file) && integrityOf(file) === pin.integrity) return file;
  const tmp = fs.mkdtempSync(path.join(dir, '.pack-'));
  try {
    await runStep('npm', ['pack', `${pin.name}@${pin.version}`, '--pack-destination', tmp, '--silent'], { step: `npm pack ${pin.name}@${pin.version}`, logFile, cwd: tmp });
    const packed = path.join(tmp, `${pin.name}-${pin.version}.tgz`);
    const got = integrityOf(packed);
    if (got !== pin.integrity) {
      throw new LedgerflowError('LF_IMAGE', `${pin.name}@${pin.version}: integrity ${got} is not the pinned ${pin.integrity}`, pin);
    }
    fs.renameSync(packed, file);
    return file;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
