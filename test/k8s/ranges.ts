/**
 * Prints the `export LF_CLUSTER_...` lines the Kubernetes tests run with, for test/k8s/run.sh to eval.
 *
 * The test node's default ranges may already be routed on this machine by another clone's node (a
 * second worktree, or a developer's node left up while CI runs on the same machine): `cluster up`
 * then refuses them, rightly, since it never shadows a network. The tests move their own node to
 * the first free set instead, and keep that choice beside the node's state (its certificates name
 * those addresses) so that every later run of this clone uses the same ranges.
 * Ranges set in the environment are the operator's choice and are never changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { clusterLayout } from '../../src/cluster/layout';
import { findRangeClash } from '../../src/cluster/network';

const KEYS = { LF_CLUSTER_LINK_CIDR: 'cluster.linkCidr', LF_CLUSTER_POD_CIDR: 'cluster.podCidr', LF_CLUSTER_SERVICE_CIDR: 'cluster.serviceCidr' } as const;
type Ranges = Record<keyof typeof KEYS, string>;

/** The k-th candidate set; k = 0 is the configured default. */
function candidate(k: number): Ranges {
  return { LF_CLUSTER_LINK_CIDR: `10.250.0.${4 * k}/30`, LF_CLUSTER_POD_CIDR: `10.244.${k}.0/24`, LF_CLUSTER_SERVICE_CIDR: `10.96.${k}.0/24` };
}

const exportLines = (r: Ranges) => Object.entries(r).map(([k, v]) => `export ${k}=${v}`).join('\n');

async function main(): Promise<void> {
  if (Object.keys(KEYS).some((k) => process.env[k])) return;
  const config = loadConfig();
  const saved = path.join(clusterLayout(config).root, 'ranges.env');
  if (fs.existsSync(saved)) {
    process.stdout.write(`${fs.readFileSync(saved, 'utf8').trim()}\n`);
    return;
  }
  for (let k = 0; k < 64; k += 1) {
    const ranges = candidate(k);
    const layout = clusterLayout(loadConfig({}, { ...process.env, ...ranges }));
    const clash = await findRangeClash(layout);
    if (!clash) {
      if (k === 0) return; // the defaults are free: nothing to export, nothing to remember
      fs.mkdirSync(path.dirname(saved), { recursive: true });
      fs.writeFileSync(saved, `${exportLines(ranges)}\n`);
      process.stderr.write(`k8s tests: the default cluster ranges are routed on this machine already; this clone's node uses ${Object.values(ranges).join(', ')} (kept in ${saved})\n`);
      process.stdout.write(`${exportLines(ranges)}\n`);
      return;
    }
    if (k === 0) process.stderr.write(`k8s tests: ${clash.clash} is routed via ${clash.route.dev ?? '?'} already; looking for free ranges\n`);
  }
  // None free: print nothing, and `cluster up` names the clash.
}

main().catch((err: Error) => {
  process.stderr.write(`k8s tests: could not choose cluster ranges: ${err.message}\n`);
});
