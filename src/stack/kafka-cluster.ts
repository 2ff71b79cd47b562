import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { ensureSystemPackages, requireBinary, runStep } from './install';
import { brokerProperties, installKafka, KAFKA_LOG4J_PROPERTIES, kafkaPaths, newKafkaClusterId } from './kafka';
import { ensureDir, STACK_HOST, writeFileIfChanged } from './layout';
import { ensureStackDirs, stackContext } from './lifecycle';
import { assertPortFree, isAlive, isOurs, quoteTail, readPid, removeFile, signalAndWait, sleep, spawnDetached, stopProcess } from './process';
import type { StackContext } from './service';

/**
 * A 3-broker KRaft profile for failover tests: nodes 1-3 in combined broker+controller mode, each a
 * quorum voter, beside (never instead of) the single-node stack. It reuses that stack's Kafka jars
 * and broker-properties builder; data lives in <stack.dir>/kafka-cluster/. Topics default to
 * replication 3, min.insync.replicas 2 and no unclean leader election: one broker may die with no
 * acknowledged write lost.
 */

export const KAFKA_CLUSTER_NODE_IDS: readonly number[] = [1, 2, 3];
/** Default of stack.kafkaClusterBasePort. */
export const KAFKA_CLUSTER_BASE_PORT = 19092;
/** Small heaps: three brokers share a 2-core dev machine with the rest of the stack. */
const HEAP_MB = 384;
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;

export interface KafkaClusterOptions {
  /** Broker port of node 1 (default: stack.kafkaClusterBasePort); node n listens on base + 2(n-1), its controller one above. */
  basePort?: number;
  heapMb?: number;
  log?: (line: string) => void;
}

export interface KafkaClusterNode {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** host:port clients use */
  address: string;
  dir: string;
  serverProperties: string;
  logFile: string;
  pidFile: string;
}

function clusterRoot(ctx: StackContext): string {
  return path.join(ctx.layout.root, 'kafka-cluster');
}

export function kafkaClusterNodes(config: Config, opts: KafkaClusterOptions = {}): KafkaClusterNode[] {
  const ctx = stackContext(config, () => undefined);
  const base = opts.basePort ?? config.stack.kafkaClusterBasePort ?? KAFKA_CLUSTER_BASE_PORT;
  return KAFKA_CLUSTER_NODE_IDS.map((nodeId) => {
    const port = base + 2 * (nodeId - 1);
    const dir = path.join(clusterRoot(ctx), `node-${nodeId}`);
    return {
      nodeId,
      port,
      controllerPort: port + 1,
      address: `${STACK_HOST}:${port}`,
      dir,
      serverProperties: path.join(dir, 'server.properties'),
      logFile: path.join(ctx.layout.logs, `kafka-cluster-node-${nodeId}.log`),
      pidFile: path.join(ctx.layout.run, `kafka-cluster-node-${nodeId}.pid`),
    };
  });
}

/** The bootstrap list for `kafka.brokers` (LF_KAFKA_BROKERS). */
export function kafkaClusterBrokers(config: Config, opts: KafkaClusterOptions = {}): string {
  return kafkaClusterNodes(config, opts).map((n) => n.address).join(',');
}

function nodeOf(config: Config, nodeId: number, opts: KafkaClusterOptions): KafkaClusterNode {
  const node = kafkaClusterNodes(config, opts).find((n) => n.nodeId === nodeId);
  if (!node) throw new LedgerflowError('LF_STACK', `kafka cluster has no node ${nodeId}; nodes: ${KAFKA_CLUSTER_NODE_IDS.join(', ')}`, nodeId);
  return node;
}

/** The pid of a node when its pid file names a live process of this stack. */
export function kafkaClusterNodePid(config: Config, nodeId: number, opts: KafkaClusterOptions = {}): number | undefined {
  const pid = readPid(nodeOf(config, nodeId, opts).pidFile);
  return pid !== undefined && isOurs(pid, stackContext(config, () => undefined).layout.root) ? pid : undefined;
}

function properties(config: Config, node: KafkaClusterNode, nodes: KafkaClusterNode[]): string {
  const base = brokerProperties({
    nodeId: node.nodeId,
    host: STACK_HOST,
    port: node.port,
    controllerPort: node.controllerPort,
    quorumVoters: nodes.map((n) => `${n.nodeId}@${STACK_HOST}:${n.controllerPort}`).join(','),
    logDir: path.join(node.dir, 'data'),
    replicationFactor: 3,
    minInsyncReplicas: 2,
    numPartitions: config.kafka.partitions,
  });
  const profile: Record<string, string | number | boolean> = {
    // A replica that missed acknowledged writes must never become leader.
    'unclean.leader.election.enable': false,
    // Frugal threads and internal partitions: three brokers on two cores.
    'offsets.topic.num.partitions': 6,
    'transaction.state.log.num.partitions': 6,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'num.replica.fetchers': 1,
    'background.threads': 2,
    'log.cleaner.threads': 1,
  };
  return `${base}# 3-broker profile\n${Object.entries(profile).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

function jvmArgs(ctx: StackContext, node: KafkaClusterNode, heapMb: number): string[] {
  return [
    `-Xms${Math.min(128, heapMb)}m`, `-Xmx${heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:ParallelGCThreads=1', '-XX:ConcGCThreads=1',
    '-XX:+ExitOnOutOfMemoryError', '-cp', `${kafkaPaths(ctx).libs}/*`, `-Dlog4j.configuration=file:${path.join(clusterRoot(ctx), 'log4j.properties')}`,
    '-Djava.awt.headless=true', 'kafka.Kafka', node.serverProperties,
  ];
}

/** Writes configs and formats each node's storage once, all with one cluster id. */
async function prepare(ctx: StackContext, nodes: KafkaClusterNode[]): Promise<void> {
  const root = ensureDir(clusterRoot(ctx));
  writeFileIfChanged(path.join(root, 'log4j.properties'), KAFKA_LOG4J_PROPERTIES);
  const idFile = path.join(root, 'cluster.id');
  if (!fs.existsSync(idFile)) fs.writeFileSync(idFile, `${newKafkaClusterId()}\n`);
  const clusterId = fs.readFileSync(idFile, 'utf8').trim();
  const java = requireBinary('java', 'formatting Kafka storage');
  await Promise.all(nodes.map(async (node) => {
    writeFileIfChanged(node.serverProperties, properties(ctx.config, node, nodes));
    if (fs.existsSync(path.join(node.dir, 'data', 'meta.properties'))) return;
    await runStep(
      java,
      ['-Xmx256m', '-cp', `${kafkaPaths(ctx).libs}/*`, `-Dlog4j.configuration=file:${path.join(root, 'log4j.properties')}`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', node.serverProperties],
      { step: `kafka cluster node ${node.nodeId} StorageTool format`, logFile: ctx.layout.installLogFile('kafka-cluster'), cwd: node.dir },
    );
  }));
}

/** Brokers that answer through this one node's listener and count as registered and unfenced. */
async function registeredBrokers(node: KafkaClusterNode, timeoutMs: number): Promise<number> {
  const kafka = new Kafka({
    clientId: 'ledgerflow-cluster-probe',
    brokers: [node.address],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length;
  } catch {
    return 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function waitNodeReady(node: KafkaClusterNode, pid: number, expectedBrokers: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if ((await registeredBrokers(node, 3_000)) >= expectedBrokers) return;
    if (!isAlive(pid)) {
      throw new LedgerflowError('LF_STACK', `kafka cluster node ${node.nodeId} (pid ${pid}) exited before answering on ${node.address}${quoteTail(node.logFile)}`, node.nodeId);
    }
    if (Date.now() > deadline) {
      throw new LedgerflowError('LF_STACK', `kafka cluster node ${node.nodeId} did not see ${expectedBrokers} brokers within ${READY_TIMEOUT_MS / 1000} s${quoteTail(node.logFile)}`, node.nodeId);
    }
    await sleep(500);
  }
}

/** Spawns the node unless it runs already; returns its pid. */
async function spawnNode(ctx: StackContext, node: KafkaClusterNode, heapMb: number): Promise<number> {
  const running = readPid(node.pidFile);
  if (running !== undefined && isOurs(running, ctx.layout.root)) return running;
  removeFile(node.pidFile);
  for (const port of [node.port, node.controllerPort]) await assertPortFree(port, `kafka cluster node ${node.nodeId}`);
  const pid = spawnDetached(requireBinary('java', 'starting Kafka'), jvmArgs(ctx, node, heapMb), {
    logFile: node.logFile,
    pidFile: node.pidFile,
    cwd: node.dir,
    service: `kafka cluster node ${node.nodeId}`,
  });
  ctx.log(`stack: kafka cluster node ${node.nodeId}: started (pid ${pid}, ${node.address}, log ${node.logFile})`);
  return pid;
}

/**
 * Starts the three nodes (installing the jars once, formatting once) and waits until every node
 * answers and sees all three brokers. Idempotent: running nodes are left alone.
 */
export async function startKafkaCluster(config: Config, opts: KafkaClusterOptions = {}): Promise<KafkaClusterNode[]> {
  const ctx = stackContext(config, opts.log ?? (() => undefined));
  const t0 = Date.now();
  ensureStackDirs(ctx);
  await ensureSystemPackages([{ binary: 'java', debianPackage: 'default-jre-headless' }, { binary: 'mvn', debianPackage: 'maven' }], ctx.layout.installLogFile('apt'), ctx.log);
  await installKafka(ctx);
  const nodes = kafkaClusterNodes(config, opts);
  await prepare(ctx, nodes);
  const pids: number[] = [];
  for (const node of nodes) pids.push(await spawnNode(ctx, node, opts.heapMb ?? HEAP_MB));
  await Promise.all(nodes.map((node, i) => waitNodeReady(node, pids[i] as number, nodes.length)));
  ctx.log(`stack: kafka cluster: ${nodes.length} brokers ready on ${nodes.map((n) => n.address).join(',')} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return nodes;
}

/** Starts one node again (after a kill) and waits until it has rejoined: all brokers registered. */
export async function startKafkaClusterNode(config: Config, nodeId: number, opts: KafkaClusterOptions = {}): Promise<void> {
  const ctx = stackContext(config, opts.log ?? (() => undefined));
  const nodes = kafkaClusterNodes(config, opts);
  const node = nodeOf(config, nodeId, opts);
  await prepare(ctx, nodes);
  const pid = await spawnNode(ctx, node, opts.heapMb ?? HEAP_MB);
  await waitNodeReady(node, pid, nodes.length);
}

/** Chaos: sends one signal to one node and waits until it is gone (no escalation, pid file kept). */
export async function killKafkaClusterNode(config: Config, nodeId: number, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL', opts: KafkaClusterOptions = {}): Promise<void> {
  const pid = kafkaClusterNodePid(config, nodeId, opts);
  if (pid === undefined) throw new LedgerflowError('LF_STACK', `kafka cluster node ${nodeId} is not running`, nodeId);
  (opts.log ?? (() => undefined))(`stack: kafka cluster node ${nodeId}: sending ${signal} to pid ${pid}`);
  if (!(await signalAndWait(pid, signal, STOP_GRACE_MS))) {
    throw new LedgerflowError('LF_STACK', `kafka cluster node ${nodeId} (pid ${pid}) still running after ${signal}`, nodeId);
  }
}

/**
 * Stops every node (SIGTERM, SIGKILL after a grace period). `wipe` also deletes the cluster's data
 * and configs, so the next start formats a fresh cluster; logs stay in <stack.dir>/logs.
 */
export async function stopKafkaCluster(config: Config, opts: KafkaClusterOptions & { wipe?: boolean } = {}): Promise<void> {
  const ctx = stackContext(config, opts.log ?? (() => undefined));
  const nodes = kafkaClusterNodes(config, opts);
  await Promise.all(nodes.map(async (node) => {
    const pid = kafkaClusterNodePid(config, node.nodeId, opts);
    if (pid !== undefined) ctx.log(`stack: kafka cluster node ${node.nodeId}: ${await stopProcess(pid, STOP_GRACE_MS)}`);
    removeFile(node.pidFile);
  }));
  if (opts.wipe) fs.rmSync(clusterRoot(ctx), { recursive: true, force: true });
}
