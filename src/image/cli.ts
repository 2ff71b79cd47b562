import { parseArgs } from 'node:util';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import type { Logger } from '../telemetry/log';
import { buildImage, defaultImageTag, saveImage } from './build';
import { ensureStandInBases } from './bases';
import path from 'node:path';
import { repoRoot } from '../stack/layout';
import { BASE_IMAGE_ARGS, upstreamBaseImages } from './refs';

/** `ledgerflow image build|bases|save`: thin wiring over the image module. */

const USAGE = `ledgerflow image build [--tag T] [--upstream-bases]
                                      build the image with podman (default tag ${defaultImageTag()});
                                      FROM local stand-ins for the base images unless --upstream-bases
ledgerflow image bases                build (once) the local stand-ins for the Dockerfile's base images
                                      from Debian packages and the Node.js binary; print their names
ledgerflow image save [--tag T] --out FILE
                                      write the image as an archive for \`ctr -n k8s.io images import\``;

const OPTIONS = {
  build: { tag: { type: 'string' }, 'upstream-bases': { type: 'boolean' } },
  bases: {},
  save: { tag: { type: 'string' }, out: { type: 'string' } },
} as const;

type Sub = keyof typeof OPTIONS;

function parse(sub: Sub, args: string[]) {
  try {
    return parseArgs({ args, options: { ...OPTIONS[sub], help: { type: 'boolean' } }, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new LedgerflowError('LF_CONFIG', `image ${sub}: ${(err as Error).message.split('. ')[0]} (ledgerflow image --help)`);
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

export async function imageCommand(config: Config, args: string[], log: Logger): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  if (!(sub in OPTIONS)) throw new LedgerflowError('LF_CONFIG', `image: unknown subcommand ${JSON.stringify(sub)}; one of ${Object.keys(OPTIONS).join(', ')} (ledgerflow image --help)`, sub);
  const values = parse(sub as Sub, rest);
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const say = (line: string) => log.info(line);
  switch (sub as Sub) {
    case 'bases': {
      const upstream = upstreamBaseImages(path.join(repoRoot(), 'Dockerfile'));
      const { images, built, seconds } = await ensureStandInBases(config, say);
      for (const arg of BASE_IMAGE_ARGS) process.stdout.write(`${arg}=${images[arg]}   (stands in for ${upstream[arg]})\n`);
      process.stdout.write(built.length > 0 ? `built ${built.length} in ${seconds.toFixed(0)} s\n` : 'both were already built\n');
      return 0;
    }
    case 'build': {
      const image = await buildImage(config, { ...(typeof values.tag === 'string' ? { tag: values.tag } : {}), upstreamBases: values['upstream-bases'] === true, log: say });
      process.stdout.write(`${image.ref} ${image.id.slice(0, 19)} ${mb(image.sizeBytes)}, built in ${image.buildSeconds.toFixed(0)} s`
        + `${image.standInSeconds > 0 ? ` (+ ${image.standInSeconds.toFixed(0)} s for the base stand-ins)` : ''}\n`);
      return 0;
    }
    case 'save': {
      if (typeof values.out !== 'string') throw new LedgerflowError('LF_CONFIG', 'image save needs --out FILE', 'out');
      const ref = typeof values.tag === 'string' ? values.tag : defaultImageTag();
      await saveImage(ref, values.out);
      process.stdout.write(`${values.out}\n`);
      return 0;
    }
  }
  return 2;
}
