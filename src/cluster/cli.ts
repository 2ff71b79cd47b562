import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import type { Logger } from '../telemetry/log';
import { imageNames, normalizeImageRef, saveImage } from '../image';
import { binaryPath, COMPONENTS, ensureBinaries, isComponent } from './binaries';
import {
  clusterAddonDown,
  clusterAddonInstall,
  clusterAddonServed,
  clusterAddonUp,
  clusterDepsDown,
  clusterDepsUp,
  clusterDown,
  clusterInstall,
  clusterLayout,
  clusterStatus,
  clusterUp,
  depsSettings,
  importImage,
  OPTIONAL_ADDONS,
} from './index';

/** `ledgerflow cluster up|down|status|kubeconfig|env|deps|install|import`: thin wiring over the cluster room. */

const USAGE = `ledgerflow cluster up                 build (once, cached) and start a single-node Kubernetes cluster in its own
                                      network namespace; waits until the node is Ready and CoreDNS and
                                      metrics-server run. Idempotent: restarts a crashed component.
ledgerflow cluster down [--wipe]      stop everything and remove pods, mounts, namespace, veth and routes;
                                      --wipe also deletes the cluster's data (etcd, images, certificates)
ledgerflow cluster status             one line per component; exit 1 unless all run and the node is Ready
ledgerflow cluster kubeconfig         print the path of the admin kubeconfig
ledgerflow cluster env                print shell exports: KUBECONFIG and PATH with kubectl, crictl, helm
ledgerflow cluster deps up|down|env   the release's dependencies: the local stack's Kafka, Temporal and MariaDB
                                      inside the node, on its IP; Services in namespace ledgerflow-deps;
                                      env prints the LF_* settings that reach them from this machine
ledgerflow cluster addon up|down|status NAME
                                      an add-on the node runs only when asked (NAME: ${OPTIONAL_ADDONS.join(', ')}):
                                      up builds it once (cached, as \`install NAME\`) and deploys it from local
                                      images, idempotently; down removes it and everything it made
ledgerflow cluster import [--all-names] IMAGE...
                                      load a local podman image into the node's containerd (no registry:
                                      pods use it with imagePullPolicy Never or IfNotPresent);
                                      --all-names: under every name the image has (skaffold deploys a
                                      local build under <name>:<image id>, a tag it adds itself)
ledgerflow cluster install            only build and cache the binaries and images (no root network changes)
ledgerflow cluster install NAME...    only build (once, cached) these tools and print their paths; no root
                                      needed. NAME: ${COMPONENTS.join(', ')}
Needs root. Settings: LF_CLUSTER_DIR, LF_CACHE_DIR, LF_CLUSTER_LINK_CIDR, LF_CLUSTER_POD_CIDR,
LF_CLUSTER_SERVICE_CIDR (docs/configuration.md); guide: docs/deploy.md.`;

const line0 = (log: Logger) => (l: string) => log.info(l);

async function depsCommand(config: Config, args: string[], log: (line: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  if (rest.length > 0) throw new LedgerflowError('LF_CONFIG', `cluster deps ${sub} takes no argument, got ${rest.join(' ')}`);
  switch (sub) {
    case 'up':
      await clusterDepsUp(config, log);
      return 0;
    case 'down':
      await clusterDepsDown(config);
      return 0;
    case 'env':
      for (const [k, v] of Object.entries(depsSettings(config))) process.stdout.write(`export ${k}=${v}\n`);
      return 0;
    default:
      throw new LedgerflowError('LF_CONFIG', `cluster deps needs up, down or env${sub ? `, got "${sub}"` : ''}`);
  }
}

async function installComponents(config: Config, names: string[], log: (line: string) => void): Promise<number> {
  const unknown = names.filter((n) => !isComponent(n));
  if (unknown.length > 0) throw new LedgerflowError('LF_CONFIG', `cluster install: unknown ${unknown.join(', ')}; one of ${COMPONENTS.join(', ')}`, unknown);
  const components = names.filter(isComponent);
  await ensureBinaries(config, components, log);
  // An add-on's images are built with its binaries, so deploying it later builds nothing.
  for (const c of components) if (OPTIONAL_ADDONS.includes(c)) await clusterAddonInstall(config, c, log);
  for (const c of components) process.stdout.write(`${binaryPath(config, c)}\n`);
  return 0;
}

async function addonCommand(config: Config, args: string[], log: (line: string) => void): Promise<number> {
  const [sub, name, ...rest] = args;
  if (!name || rest.length > 0) throw new LedgerflowError('LF_CONFIG', `cluster addon needs up, down or status and one add-on (${OPTIONAL_ADDONS.join(', ')})`);
  switch (sub) {
    case 'up':
      await clusterAddonUp(config, name, log);
      return 0;
    case 'down':
      await clusterAddonDown(config, name, log);
      return 0;
    case 'status': {
      const served = await clusterAddonServed(config, name);
      process.stdout.write(`${name.padEnd(24)} ${served ? 'served' : 'not served'}\n`);
      return served ? 0 : 1;
    }
    default:
      throw new LedgerflowError('LF_CONFIG', `cluster addon needs up, down or status${sub ? `, got "${sub}"` : ''}`);
  }
}

/** podman save, then containerd's import: the way a locally built image reaches the node. */
async function importImages(config: Config, refs: string[], allNames: boolean, log: (line: string) => void): Promise<number> {
  if (refs.length === 0) throw new LedgerflowError('LF_CONFIG', 'cluster import needs the image(s) to load, e.g. ledgerflow:0.1.0');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-import-'));
  try {
    for (const ref of refs) {
      const archive = path.join(dir, 'image.tar');
      const names = allNames ? await imageNames(normalizeImageRef(ref)) : [ref];
      await saveImage(names, archive);
      await importImage(clusterLayout(config), archive);
      fs.rmSync(archive, { force: true });
      log(`cluster: ${names.map(normalizeImageRef).join(', ')} imported into the node's containerd`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

export async function clusterCommand(config: Config, args: string[], log: Logger): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { wipe: { type: 'boolean' }, 'all-names': { type: 'boolean' } } });
  const [sub, ...rest] = positionals;
  if (sub === 'deps') return depsCommand(config, rest, line0(log));
  if (sub === 'addon') return addonCommand(config, rest, line0(log));
  if (sub === 'install' && rest.length > 0) return installComponents(config, rest, line0(log));
  if (values['all-names'] && sub !== 'import') throw new LedgerflowError('LF_CONFIG', '--all-names applies to cluster import only');
  if (sub === 'import') return importImages(config, rest, values['all-names'] === true, line0(log));
  if (rest.length > 0) throw new LedgerflowError('LF_CONFIG', `cluster ${sub} takes no argument, got ${rest.join(' ')}`);
  if (values.wipe && sub !== 'down') throw new LedgerflowError('LF_CONFIG', '--wipe applies to cluster down only');
  const line = line0(log);
  switch (sub) {
    case 'up':
      await clusterUp(config, line);
      return 0;
    case 'down':
      await clusterDown(config, line, { wipe: values.wipe === true });
      return 0;
    case 'install':
      await clusterInstall(config, line);
      return 0;
    case 'status': {
      const s = await clusterStatus(config);
      process.stdout.write(`${'network'.padEnd(24)} ${s.network ? 'namespace present' : 'absent'}\n`);
      for (const c of s.components) {
        process.stdout.write(`${c.name.padEnd(24)} ${(c.pid !== undefined ? `running (pid ${c.pid})` : 'stopped').padEnd(22)} ${c.ready ? 'ready' : 'not ready'}\n`);
      }
      process.stdout.write(`${'node'.padEnd(24)} ${s.nodeReady ? 'Ready' : 'not Ready'}\n`);
      return s.network && s.nodeReady && s.components.every((c) => c.ready) ? 0 : 1;
    }
    case 'kubeconfig':
      process.stdout.write(`${clusterLayout(config).kubeconfig}\n`);
      return 0;
    case 'env': {
      const dirs = [path.dirname(binaryPath(config, 'kubernetes', 'kubectl')), path.dirname(binaryPath(config, 'crictl')), path.dirname(binaryPath(config, 'helm4'))];
      const layout = clusterLayout(config);
      process.stdout.write(`export KUBECONFIG=${layout.kubeconfig}\nexport CONTAINER_RUNTIME_ENDPOINT=unix://${layout.containerdSocket}\nexport PATH=${dirs.join(':')}:$PATH\n`);
      return 0;
    }
    case undefined:
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new LedgerflowError('LF_CONFIG', `unknown cluster command "${sub}"; try: ledgerflow cluster --help`);
  }
}
