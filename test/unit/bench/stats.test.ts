import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketsBetween, histogramQuantile, parseHistogram, percentiles } from '../../../src/bench/stats';
import { renderMacros } from '../../../src/bench/dashboardSql';
import { barChart, lineChart } from '../../../src/bench/svg';
import { fetchSizes } from '../../../src/consumer';

test('percentiles by nearest rank', () => {
  const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.deepEqual([p.count, p.p50, p.p95, p.p99, p.max], [100, 50, 95, 99, 100]);
  assert.ok(Number.isNaN(percentiles([]).p99));
});

test('histogram quantiles interpolate inside the bucket, from the difference of two scrapes', () => {
  const text = [
    '# TYPE ledgerflow_produce_to_commit_seconds histogram',
    'ledgerflow_produce_to_commit_seconds_bucket{le="0.1"} 10',
    'ledgerflow_produce_to_commit_seconds_bucket{le="0.5"} 50',
    'ledgerflow_produce_to_commit_seconds_bucket{le="1"} 100',
    'ledgerflow_produce_to_commit_seconds_bucket{le="+Inf"} 100',
    'ledgerflow_produce_to_commit_seconds_count 100',
  ].join('\n');
  const after = parseHistogram(text, 'ledgerflow_produce_to_commit_seconds');
  assert.equal(after.length, 4);
  assert.equal(histogramQuantile(after, 0.5), 0.5);
  assert.ok(Math.abs(histogramQuantile(after, 0.3) - 0.3) < 1e-9);
  const before = [{ le: 0.1, count: 10 }, { le: 0.5, count: 10 }, { le: 1, count: 10 }, { le: Number.POSITIVE_INFINITY, count: 10 }];
  const between = bucketsBetween(before, after);
  assert.deepEqual(between.map((b) => b.count), [0, 40, 90, 90]);
  assert.ok(histogramQuantile(between, 0.99) > 0.9 && histogramQuantile(between, 0.99) <= 1);
});

test('Grafana macros render to plain SQL for a fixed window', () => {
  const sql = renderMacros("SELECT $__timeGroupAlias(minute, $__interval), SUM(tx_count) FROM rollup_minute WHERE $__timeFilter(minute) AND currency = '$currency'", '2026-01-01 00:00:00.000', '2026-01-01 01:00:00.000', 60, 'EUR');
  assert.equal(sql, "SELECT UNIX_TIMESTAMP(minute) DIV 60 * 60 AS `time`, SUM(tx_count) FROM rollup_minute WHERE minute BETWEEN '2026-01-01 00:00:00.000' AND '2026-01-01 01:00:00.000' AND currency = 'EUR'");
});

test('charts are standalone SVG with escaped text', () => {
  const line = lineChart('a < b', 's', 'tx/s', [{ name: 'x & y', points: [[0, 1], [1, 3]] }]);
  assert.match(line, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(line, /a &lt; b/);
  assert.match(line, /x &amp; y/);
  assert.match(line, /<path d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+"/);
  assert.match(barChart('q', 'ms', ['h'], [{ name: 's', values: [5] }], true), /<rect x=/);
});

test('a fetch has room for one batch of every partition processed at once', () => {
  const { maxBytesPerPartition, maxBytes } = fetchSizes(2000, 12);
  assert.ok(maxBytesPerPartition >= 2000 * 300);
  assert.ok(maxBytes >= maxBytesPerPartition * 12);
  assert.ok(fetchSizes(1, 1).maxBytesPerPartition >= 64 << 10);
  assert.ok(fetchSizes(1e6, 1000).maxBytes <= 64 << 20);
});
