import fs from 'node:fs';
import { LedgerflowError } from '../domain/errors';
import { mustRun, runCommand } from './exec';
import { ClusterLayout, cidrsOverlap } from './layout';

/**
 * The node's network: a namespace of its own with NO default route, joined to this machine by one
 * veth pair. The host routes the pod and Service ranges into that veth and nowhere else; inside,
 * anything without a route (any address outside the node) is unreachable at once, so nothing of
 * the cluster ever reaches the machine's gateway. A firewall rule in the namespace refuses new
 * connections from the node or its pods towards the host: traffic only flows host → node.
 * See docs/decisions/025-local-kubernetes-node.md.
 */

const COMMENT = 'ledgerflow cluster: the node never opens connections to the host';

const ip = (args: string[]) => mustRun('ip', args);
const inNetns = (layout: ClusterLayout, command: string, args: string[]) => mustRun('ip', ['netns', 'exec', layout.netns, command, ...args]);

export function netnsExists(layout: ClusterLayout): boolean {
  return fs.existsSync(layout.netnsPath);
}

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const r = await runCommand('ip', [...(netns ? ['-n', netns] : []), 'link', 'show', 'dev', name]);
  return r.code === 0;
}

export interface RangeClash {
  clash: string;
  route: { dst?: string; dev?: string };
}

/** The node's three ranges: the link to the host, the pods, the Services. */
function nodeRanges({ addresses: a }: ClusterLayout): string[] {
  return [`${a.hostIp}/${a.linkPrefix}`, a.podCidr, a.serviceCidr];
}

/** The first of this node's ranges that this machine already routes elsewhere (null when all are free). */
export async function findRangeClash(layout: ClusterLayout): Promise<RangeClash | null> {
  const ours = nodeRanges(layout);
  const routes = JSON.parse(await ip(['-j', 'route', 'show', 'table', 'all'])) as { dst?: string; dev?: string }[];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default' || r.dev === layout.vethHost || r.dev === 'lo') continue;
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(dst)) continue;
    const clash = ours.find((cidr) => cidrsOverlap(cidr, dst));
    if (clash) return { clash, route: r };
  }
  return null;
}

/** Refuses ranges that overlap each other or that this machine already routes elsewhere (another network would be shadowed). */
async function assertRangesFree(layout: ClusterLayout): Promise<void> {
  const ours = nodeRanges(layout);
  for (let i = 0; i < ours.length; i += 1) {
    for (let j = i + 1; j < ours.length; j += 1) {
      if (cidrsOverlap(ours[i] as string, ours[j] as string)) {
        throw new LedgerflowError('LF_CONFIG', `cluster ranges overlap: ${ours[i]} and ${ours[j]} (LF_CLUSTER_LINK_CIDR, LF_CLUSTER_POD_CIDR, LF_CLUSTER_SERVICE_CIDR)`);
      }
    }
  }
  const found = await findRangeClash(layout);
  if (found) {
    throw new LedgerflowError(
      'LF_CLUSTER',
      `${found.clash} overlaps ${found.route.dst} that this machine already routes via ${found.route.dev ?? '?'}; move the cluster with LF_CLUSTER_LINK_CIDR / LF_CLUSTER_POD_CIDR / LF_CLUSTER_SERVICE_CIDR`,
      found,
    );
  }
}

/** Creates (or completes) the namespace, the veth pair, the addresses, routes, sysctls and firewall. */
export async function networkUp(layout: ClusterLayout, log: (line: string) => void): Promise<void> {
  const { addresses: a } = layout;
  if (!netnsExists(layout) || !(await linkExists(layout.vethHost))) await assertRangesFree(layout);
  if (!netnsExists(layout)) {
    await ip(['netns', 'add', layout.netns]);
    log(`cluster: network namespace ${layout.netns} created`);
  }
  if (!(await linkExists(layout.vethHost))) {
    // A half-made pair from an interrupted run: start the pair afresh.
    if (await linkExists(layout.vethNode, layout.netns)) await ip(['-n', layout.netns, 'link', 'del', layout.vethNode]);
    await ip(['link', 'add', layout.vethHost, 'type', 'veth', 'peer', 'name', layout.vethNode, 'netns', layout.netns]);
  }
  await ip(['addr', 'replace', `${a.hostIp}/${a.linkPrefix}`, 'dev', layout.vethHost]);
  await ip(['link', 'set', layout.vethHost, 'up']);
  await ip(['-n', layout.netns, 'addr', 'replace', `${a.nodeIp}/${a.linkPrefix}`, 'dev', layout.vethNode]);
  await ip(['-n', layout.netns, 'link', 'set', layout.vethNode, 'up']);
  await ip(['-n', layout.netns, 'link', 'set', 'lo', 'up']);
  // The host reaches pods and Services through the node, and only through it.
  for (const cidr of [a.podCidr, a.serviceCidr]) await ip(['route', 'replace', cidr, 'via', a.nodeIp, 'dev', layout.vethHost]);
  await inNetns(layout, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await bridgeNetfilter(layout, log);
  for (const chain of ['OUTPUT', 'FORWARD']) {
    const rule = [chain, '-o', layout.vethNode, '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', COMMENT, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'];
    const present = await runCommand('ip', ['netns', 'exec', layout.netns, 'iptables', '-w', '-C', ...rule]);
    if (present.code !== 0) await inNetns(layout, 'iptables', ['-w', '-I', ...rule]);
  }
}

/**
 * Pod → Service → pod on the same bridge needs bridged packets to pass iptables (kube-proxy's DNAT).
 * With br_netfilter (built in here; per namespace since Linux 5.3) that is one sysctl; without it,
 * kube-proxy's masquerade-all is the fallback (see components.ts).
 */
async function bridgeNetfilter(layout: ClusterLayout, log: (line: string) => void): Promise<void> {
  const r = await runCommand('ip', ['netns', 'exec', layout.netns, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
  if (r.code !== 0) log(`cluster: br_netfilter is not available (${r.stderr.trim()}); kube-proxy masquerades all Service traffic instead`);
}

export async function hasBridgeNetfilter(layout: ClusterLayout): Promise<boolean> {
  const r = await runCommand('ip', ['netns', 'exec', layout.netns, 'sysctl', '-n', 'net.bridge.bridge-nf-call-iptables']);
  return r.code === 0 && r.stdout.trim() === '1';
}

/** Pids of every process whose network namespace is the node's. */
export async function netnsPids(layout: ClusterLayout): Promise<number[]> {
  if (!netnsExists(layout)) return [];
  const r = await runCommand('ip', ['netns', 'pids', layout.netns]);
  return r.stdout.split('\n').map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
}

/** Deletes the namespace (its veth end, bridge, pod veths and iptables rules go with it) and the host's end. */
export async function networkDown(layout: ClusterLayout): Promise<void> {
  if (netnsExists(layout)) await ip(['netns', 'del', layout.netns]);
  // Deleting the namespace deletes the pair (the host end goes a moment later); a host end left
  // alone by an interrupted `up` goes here.
  if (await linkExists(layout.vethHost)) {
    const r = await runCommand('ip', ['link', 'del', layout.vethHost]);
    if (r.code !== 0 && (await linkExists(layout.vethHost))) throw new LedgerflowError('LF_CLUSTER', `ip link del ${layout.vethHost}: ${r.stderr.trim()}`);
  }
}

/** What of the node's network is left on this machine (status, and the test of `down`). */
export async function networkLeftovers(layout: ClusterLayout): Promise<string[]> {
  const { addresses: a } = layout;
  const out: string[] = [];
  if (netnsExists(layout)) out.push(`network namespace ${layout.netns}`);
  if (await linkExists(layout.vethHost)) out.push(`link ${layout.vethHost}`);
  const routes = await runCommand('ip', ['route', 'show']);
  for (const line of routes.stdout.split('\n')) {
    if (line.includes(layout.vethHost) || line.startsWith(`${a.podCidr} `) || line.startsWith(`${a.serviceCidr} `)) out.push(`route ${line.trim()}`);
  }
  const rules = await runCommand('iptables-save', []);
  for (const line of rules.stdout.split('\n')) {
    if (line.includes('ledgerflow') || line.includes(layout.vethHost) || line.includes('KUBE-')) out.push(`host iptables: ${line.trim()}`);
  }
  return out;
}
