import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../src/config';

/**
 * Kafka's own command-line tools (console producer, dump-log) from the broker jars the local
 * stack installed: a producer that is not kafkajs, Java's client with its own codecs.
 */
function libs(config: Config): string {
  return path.join(path.resolve(config.stack.dir), 'kafka', 'libs');
}

const LOG4J = 'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=%p %m (%c)%n\n';

async function runJava(config: Config, mainClass: string, args: string[], stdin: string, timeoutMs = 120_000): Promise<string> {
  const log4j = path.join(os.tmpdir(), `ledgerflow-tools-log4j-${process.pid}.properties`);
  fs.writeFileSync(log4j, LOG4J);
  const child = spawn('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${libs(config)}/*`, `-Dlog4j.configuration=file:${log4j}`, mainClass, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${mainClass} exited ${code}: ${Buffer.concat(err).toString().slice(-2000)}`);
  return Buffer.concat(out).toString('utf8');
}

/**
 * Sends `key<TAB>value` lines with kafka-console-producer, compressing with `codec`; linger and
 * batch size let several records share a batch, so the codec really compresses them.
 */
export async function consoleProduce(config: Config, topic: string, records: ReadonlyArray<{ key: string; value: string }>, codec: string): Promise<void> {
  for (const r of records) if (/[\t\n]/.test(r.key + r.value)) throw new Error('console producer lines cannot hold tabs or newlines');
  await runJava(config, 'kafka.tools.ConsoleProducer', [
    '--bootstrap-server', config.kafka.brokers.join(','),
    '--topic', topic,
    '--compression-codec', codec,
    '--property', 'parse.key=true',
    '--property', 'key.separator=\t',
    '--producer-property', 'acks=all',
    '--producer-property', 'linger.ms=50',
    '--producer-property', 'enable.idempotence=true',
  ], records.map((r) => `${r.key}\t${r.value}\n`).join(''));
}

export interface DumpedBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  codec: string;
  position: number;
}

/** The record batches of each partition's log segments as the broker stores them (one kafka-dump-log run). */
export async function dumpLog(config: Config, topic: string, partitions: ReadonlyArray<number>): Promise<Map<number, DumpedBatch[]>> {
  const files = partitions.flatMap((partition) => {
    const dir = partitionDir(config, topic, partition);
    return fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort().map((f) => path.join(dir, f));
  });
  const text = await runJava(config, 'kafka.tools.DumpLogSegments', ['--files', files.join(',')], '');
  const out = new Map<number, DumpedBatch[]>(partitions.map((p) => [p, []]));
  let current: DumpedBatch[] | undefined;
  for (const line of text.split('\n')) {
    const file = /^Dumping .*-(\d+)\/\d+\.log$/.exec(line);
    if (file) current = out.get(Number(file[1]));
    const m = /^baseOffset: (\d+) lastOffset: (\d+) .*position: (\d+) .*compresscodec: (\w+)/.exec(line);
    if (m && current) current.push({ baseOffset: BigInt(m[1] as string), lastOffset: BigInt(m[2] as string), position: Number(m[3]), codec: (m[4] as string).toLowerCase() });
  }
  return out;
}

export function partitionDir(config: Config, topic: string, partition: number): string {
  return path.join(path.resolve(config.stack.dir), 'kafka', 'data', `${topic}-${partition}`);
}
