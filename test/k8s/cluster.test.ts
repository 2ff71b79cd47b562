import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';
import { loadConfig } from '../../src/config';
import { clusterDown, clusterLayout, clusterLeftovers, clusterStatus, clusterUp, kubectl } from '../../src/cluster';
import { runCommand } from '../../src/cluster/exec';
import { TOOLBOX_IMAGE } from '../../src/cluster/images';
import { httpGet } from '../../src/cluster/probe';
import { readPid } from '../../src/stack/process';
import { askUntil, K8S_TESTS_SKIP, processesMentioning } from './helpers';

/**
 * The local Kubernetes node is real and sealed: built and started by `cluster up` (idempotent, a
 * crashed component restarted), a pod from a locally built image runs, CoreDNS resolves Service
 * names, a ClusterIP Service reaches its pods (from another pod, from one of its own pods through
 * the hairpin, and from this machine through the route into the node), no pod reaches any address
 * outside the node, and `cluster down` leaves no process, mount, namespace, link, route or rule.
 */

const config = loadConfig();
const layout = clusterLayout(config);
const NS = 'lf-cluster-test';
/** test/k8s/run.sh builds everything first (`cluster install`): this bounds the start, not a cold build. */
const FIRST_UP_TIMEOUT_MS = 20 * 60_000;

const lines: string[] = [];
const log = (line: string) => {
  lines.push(line);
  console.error(line);
};

const echoServer = [
  'mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www',
];

function workloads(): string {
  const podSpec = (command: string[], labels: Record<string, string>) => ({
    metadata: { labels },
    spec: {
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsNonRoot: true, runAsUser: 65532 },
      containers: [
        {
          name: 'main',
          image: TOOLBOX_IMAGE,
          imagePullPolicy: 'Never',
          command: ['/bin/sh', '-c', ...command],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  });
  const deployment = (name: string, replicas: number, command: string[]) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podSpec(command, { app: name }) },
  });
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      deployment('echo', 2, echoServer),
      deployment('client', 1, ['exec sleep 100000']),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: NS }, spec: { selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] } },
      // A Service without a pod: kube-proxy must refuse its connections at once.
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nobody', namespace: NS }, spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] } },
    ],
  });
}

async function podNames(app: string): Promise<string[]> {
  const out = await kubectl(config, ['-n', NS, 'get', 'pods', '-l', `app=${app}`, '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}']);
  return out.split(' ').filter(Boolean);
}

/** Runs a shell command in a pod; resolves its exit code and output (a failing command is data here). */
async function execIn(pod: string, script: string): Promise<{ code: number; out: string }> {
  const layoutKubectl = (await import('../../src/cluster')).binaryPath(config, 'kubernetes', 'kubectl');
  const r = await runCommand(layoutKubectl, ['--kubeconfig', layout.kubeconfig, '-n', NS, 'exec', pod, '--', '/bin/sh', '-c', script], { timeoutMs: 60_000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

/**
 * Hostnames of the pods that answered `count` requests to the Service, asked from inside `pod`. The
 * name is resolved by busybox's nslookup (cluster DNS), and the request is plain HTTP over nc: a
 * static glibc cannot load its NSS modules, so busybox's wget (getaddrinfo) crashes.
 */
async function answeringPods(pod: string, name: string, count: number): Promise<Set<string>> {
  const resolve = `addr=$(nslookup ${name} | sed -n 's/^Address:[[:space:]]*//p' | tail -1)`;
  const r = await execIn(pod, `${resolve}; for i in $(seq ${count}); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 "$addr" 80 | tail -n 1; done`);
  assert.equal(r.code, 0, r.out);
  return new Set(r.out.split('\n').map((l) => l.trim()).filter(Boolean));
}

test('cluster up builds and starts a Ready node with CoreDNS and metrics-server; a second up changes nothing', { skip: K8S_TESTS_SKIP, timeout: FIRST_UP_TIMEOUT_MS }, async () => {
  await clusterUp(config, log);
  const status = await clusterStatus(config);
  assert.ok(status.nodeReady, JSON.stringify(status));
  assert.ok(status.components.every((c) => c.ready), JSON.stringify(status.components));
  const pids = status.components.map((c) => c.pid);
  lines.length = 0;
  await clusterUp(config, log);
  assert.deepEqual((await clusterStatus(config)).components.map((c) => c.pid), pids, 'a second up restarted a component');
  assert.ok(!lines.some((l) => /started \(pid/.test(l)), lines.join('\n'));
});

test('a crashed component is started again by up', { skip: K8S_TESTS_SKIP, timeout: 10 * 60_000 }, async () => {
  for (const name of ['kube-scheduler', 'kube-proxy']) {
    const pid = readPid(layout.pidFile(name)) as number;
    process.kill(pid, 'SIGKILL');
  }
  await new Promise((r) => setTimeout(r, 500));
  const down = (await clusterStatus(config)).components.filter((c) => !c.ready).map((c) => c.name);
  assert.deepEqual(down, ['kube-scheduler', 'kube-proxy']);
  lines.length = 0;
  await clusterUp(config, log);
  assert.ok((await clusterStatus(config)).components.every((c) => c.ready));
  assert.equal(lines.filter((l) => /started \(pid/.test(l)).length, 2, lines.join('\n'));
});

test('pods from a locally built image run; CoreDNS resolves Services; a ClusterIP Service reaches its pods', { skip: K8S_TESTS_SKIP, timeout: 10 * 60_000 }, async () => {
  await kubectl(config, ['apply', '-f', '-'], { input: workloads() });
  for (const d of ['echo', 'client']) await kubectl(config, ['-n', NS, 'rollout', 'status', `deployment/${d}`, '--timeout=180s'], { timeoutMs: 200_000 });
  const echo = await podNames('echo');
  const [client] = await podNames('client');
  assert.equal(echo.length, 2);
  assert.ok(client);
  const clusterIp = (await kubectl(config, ['-n', NS, 'get', 'service', 'echo', '-o', 'jsonpath={.spec.clusterIP}'])).trim();

  // A new Service's name answers once CoreDNS has seen its endpoints and kube-proxy has programmed
  // the DNS Service's rules on this fresh node: asked until it does (within a minute), never once only.
  const answers = new RegExp(`Address:?\\s+${clusterIp.replace(/\./g, '\\.')}`);
  const resolves = (name: string) => askUntil(() => execIn(client as string, `nslookup ${name}`), (r) => r.code === 0 && answers.test(r.out), 60_000);
  const lookup = await resolves(`echo.${NS}.svc.cluster.local`);
  assert.equal(lookup.code, 0, lookup.out);
  assert.match(lookup.out, answers, lookup.out);
  // The short name through the pod's search path, as applications use it.
  const short = await resolves('echo');
  assert.match(short.out, answers, short.out);
  assert.deepEqual(await answeringPods(client, `echo.${NS}.svc.cluster.local`, 20), new Set(echo), 'from another pod, every endpoint answers');
  // A pod reaching its own Service may land on itself: the bridge's hairpin mode and kube-proxy's masquerade.
  assert.deepEqual(await answeringPods(echo[0] as string, `echo.${NS}.svc.cluster.local`, 20), new Set(echo), 'from one of its own pods');

  // This machine reaches the Service through its route into the node.
  const seen = new Set<string>();
  for (let i = 0; i < 20; i += 1) seen.add((await httpGet(`http://${clusterIp}/`, 5_000))?.body.trim() ?? 'no answer');
  assert.deepEqual(seen, new Set(echo), 'from this machine through the veth');
});

test('no pod reaches anything outside the node: connects fail at once, nothing leaves', { skip: K8S_TESTS_SKIP, timeout: 5 * 60_000 }, async () => {
  const [client] = await podNames('client');
  // The node's namespace has no default route at all.
  const routes = await runCommand('ip', ['-n', layout.netns, 'route', 'show', 'default']);
  assert.equal(routes.stdout.trim(), '');
  const machine = Object.values(os.networkInterfaces()).flat().filter((i) => i && i.family === 'IPv4' && !i.internal && i.address !== layout.addresses.hostIp).map((i) => i?.address as string);
  // TEST-NET-3 (never a real host), this machine's own addresses, the host end of the veth, and a
  // Service address no Service holds.
  const unusedServiceIp = layout.addresses.serviceCidr.replace(/\d+\/\d+$/, '200');
  for (const target of ['203.0.113.7', ...machine, layout.addresses.hostIp, unusedServiceIp]) {
    const r = await execIn(client as string, `nc -w 10 ${target} 80 </dev/null; echo exit=$?`);
    assert.match(r.out, /exit=1/, `${target}: ${r.out}`);
    assert.match(r.out, /unreachable|No route to host|prohibited/i, `${target} must be refused at once, not time out: ${r.out}`);
  }
  const nobody = (await kubectl(config, ['-n', NS, 'get', 'service', 'nobody', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  const r = await execIn(client as string, `nc -w 10 ${nobody} 80 </dev/null; echo exit=$?`);
  assert.match(r.out, /refused|unreachable/i, `a Service without endpoints is refused by kube-proxy: ${r.out}`);
});

test('metrics-server serves the resource metrics API', { skip: K8S_TESTS_SKIP, timeout: 5 * 60_000 }, async () => {
  const deadline = Date.now() + 180_000;
  let out = '';
  while (Date.now() < deadline) {
    const r = await runCommand((await import('../../src/cluster')).binaryPath(config, 'kubernetes', 'kubectl'), ['--kubeconfig', layout.kubeconfig, 'top', 'node', '--no-headers']);
    out = `${r.stdout}${r.stderr}`;
    if (r.code === 0 && /ledgerflow-node\s+\d+m/.test(out)) return;
    await new Promise((res) => setTimeout(res, 5_000));
  }
  assert.fail(`kubectl top node never answered: ${out}`);
});

test('cluster down leaves no process, mount, namespace, link, route or rule; up brings the same cluster back', { skip: K8S_TESTS_SKIP, timeout: 20 * 60_000 }, async () => {
  await clusterDown(config, log);
  assert.deepEqual(await clusterLeftovers(config), []);
  assert.deepEqual(processesMentioning(layout.root), []);
  assert.ok(!(await runCommand('ip', ['netns', 'list'])).stdout.includes(layout.netns));
  assert.ok(!fs.existsSync(layout.runtimeDir));
  await clusterUp(config, log);
  await kubectl(config, ['-n', NS, 'rollout', 'status', 'deployment/echo', '--timeout=180s'], { timeoutMs: 200_000 });
  assert.equal((await podNames('echo')).length, 2, 'the Deployment stored in etcd runs again');
  await kubectl(config, ['delete', 'namespace', NS, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
});

