import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config';
import { withBlankImportsOnly, withoutLocalReplaces } from '../../../src/cluster/gobuild';
import { cidrsOverlap, clusterAddresses, clusterLayout, nthAddress } from '../../../src/cluster/layout';

test('addresses of the node come from the configured ranges', () => {
  const a = clusterAddresses(loadConfig({}, { LF_CLUSTER_LINK_CIDR: '10.250.0.4/30', LF_CLUSTER_SERVICE_CIDR: '10.96.0.0/24', LF_CLUSTER_POD_CIDR: '10.244.0.0/24' }));
  assert.deepEqual(
    [a.hostIp, a.nodeIp, a.linkPrefix, a.apiServiceIp, a.dnsServiceIp, a.podGatewayIp],
    ['10.250.0.5', '10.250.0.6', 30, '10.96.0.1', '10.96.0.10', '10.244.0.1'],
  );
  assert.equal(nthAddress('10.0.255.0/23', 300), '10.1.0.44');
  assert.throws(() => nthAddress('10.0.0.0/30', 4), RangeError);
});

test('wrong cluster ranges are refused at load, naming the variable', () => {
  assert.throws(() => loadConfig({}, { LF_CLUSTER_LINK_CIDR: '10.250.0.0/24' }), /cluster.linkCidr.*LF_CLUSTER_LINK_CIDR/);
  assert.throws(() => loadConfig({}, { LF_CLUSTER_POD_CIDR: '10.244.0.1/24' }), /host bits/);
  assert.throws(() => loadConfig({}, { LF_CLUSTER_SERVICE_CIDR: 'fd00::/64' }), /LF_CLUSTER_SERVICE_CIDR/);
});

test('overlap of ranges', () => {
  assert.ok(cidrsOverlap('10.96.0.0/24', '10.96.0.128/25'));
  assert.ok(cidrsOverlap('10.0.0.0/8', '10.96.0.0/24'));
  assert.ok(!cidrsOverlap('10.96.0.0/24', '10.96.1.0/24'));
});

test('names stay unique per clone directory and short enough for Linux interfaces', () => {
  const a = clusterLayout(loadConfig({}, { LF_CLUSTER_DIR: '/tmp/one/.stack/cluster' }));
  const b = clusterLayout(loadConfig({}, { LF_CLUSTER_DIR: '/tmp/two/.stack/cluster' }));
  assert.notEqual(a.netns, b.netns);
  assert.notEqual(a.vethHost, b.vethHost);
  for (const name of [a.vethHost, a.vethNode, a.bridge]) assert.ok(name.length <= 15, name);
  assert.ok(a.containerdSocket.length < 100, 'a unix socket path fits in sun_path');
});

test("the node's binaries and images are cached per user, outside the clone", () => {
  assert.equal(clusterLayout(loadConfig({}, { XDG_CACHE_HOME: '/var/cache/u' })).cacheRoot, '/var/cache/u/ledgerflow/cluster');
  assert.equal(clusterLayout(loadConfig({}, { LF_CACHE_DIR: '/x' })).binDir('etcd', 'v1'), '/x/cluster/etcd-v1/bin');
});

test("a module's own local replaces become requirements of the published version", () => {
  const goMod = [
    'module k8s.io/kubernetes',
    'require (',
    '\tgithub.com/x/y v1.2.3',
    '\tk8s.io/api v0.0.0',
    '\tk8s.io/client-go v0.0.0 // indirect',
    ')',
    'replace (',
    '\tk8s.io/api => ./staging/src/k8s.io/api',
    '\tk8s.io/client-go => ./staging/src/k8s.io/client-go',
    '\tgithub.com/x/y => github.com/x/z v1.0.0',
    ')',
    'replace k8s.io/other v1.0.0 => ../other',
  ].join('\n');
  const out = withoutLocalReplaces(goMod, { prefix: 'k8s.io/', version: 'v0.34.2' });
  assert.match(out, /\tk8s\.io\/api v0\.34\.2\n/);
  assert.match(out, /\tk8s\.io\/client-go v0\.34\.2 \/\/ indirect/);
  assert.doesNotMatch(out, /staging|\.\.\/other/);
  assert.match(out, /github\.com\/x\/y => github\.com\/x\/z v1\.0\.0/, 'a replace by another module stays');
  assert.match(out, /github\.com\/x\/y v1\.2\.3/);
});

test('a trimmed plugin list keeps only the named blank imports, and refuses a name it does not find', () => {
  const source = ['package plugin', '', 'import (', '\t// Include all plugins.', '\t_ "x/a"', '\t_ "x/b"', '\t_ "x/c"', ')', ''].join('\n');
  assert.equal(withBlankImportsOnly(source, ['x/a', 'x/c']), ['package plugin', '', 'import (', '\t// Include all plugins.', '\t_ "x/a"', '\t_ "x/c"', ')', ''].join('\n'));
  assert.throws(() => withBlankImportsOnly(source, ['x/z']), /x\/z/);
});
