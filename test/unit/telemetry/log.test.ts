import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logLevel } from 'kafkajs';
import { kafkaRecordLevel } from '../../../src/kafka/logLevels';
import { prettyLine, resolveLogFormat } from '../../../src/telemetry/log';

test('log format: auto is pretty on a terminal and JSON otherwise; an explicit setting wins', () => {
  assert.equal(resolveLogFormat('auto', true), 'pretty');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('json', true), 'json');
  assert.equal(resolveLogFormat('pretty', false), 'pretty');
});

test('a pretty line: time, level, process, message, then the fields', () => {
  const line = prettyLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 5, 9, 30, 1), pid: 7, name: 'worker', msg: 'batch retried', batchId: 'tx-t-0-5', attempt: 2 }));
  assert.equal(line, '09:30:01 WARN  worker: batch retried  batchId=tx-t-0-5 attempt=2');
  assert.equal(prettyLine('not json\n'), 'not json');
});

test('kafkajs records: notices and retried protocol errors are not warnings; real trouble keeps its level', () => {
  const entry = (level: logLevel, message: string, extra: Record<string, unknown> = {}) => ({ level, log: { message, timestamp: '', logger: 'kafkajs', ...extra } });
  assert.equal(kafkaRecordLevel(entry(logLevel.WARN, 'KafkaJS v2.0.0 switched default partitioner. To retain the same partitioning behavior ...')), 'debug');
  assert.equal(kafkaRecordLevel(entry(logLevel.ERROR, 'Response InitProducerId(key: 22, version: 1)', { error: 'The group coordinator is not available' })), 'debug');
  assert.equal(kafkaRecordLevel(entry(logLevel.ERROR, 'Response GroupCoordinator(key: 10, version: 2)', { error: 'This is not the correct coordinator for this group' })), 'debug');
  assert.equal(kafkaRecordLevel(entry(logLevel.WARN, 'The group is rebalancing, re-joining')), 'info');
  assert.equal(kafkaRecordLevel(entry(logLevel.ERROR, 'Response SaslAuthenticate(key: 36, version: 1)', { error: 'Authentication failed' })), 'error');
  assert.equal(kafkaRecordLevel(entry(logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED')), 'error');
  assert.equal(kafkaRecordLevel(entry(logLevel.WARN, 'Could not create topics')), 'warn');
});
