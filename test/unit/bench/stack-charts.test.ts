import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineChart, stackCharts } from '../../../src/bench/svg';

test('stacked charts are one SVG, each chart below the last, both titles kept', () => {
  const a = lineChart('Replicas', 's', 'n', [{ name: 'consumers', points: [[0, 1], [10, 4]] }]);
  const b = lineChart('Lag', 's', 'events', [{ name: 'lag', points: [[0, 0], [10, 9000]] }]);
  const svg = stackCharts([a, b]);
  assert.equal(svg.match(/<svg /g)?.length, 3);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="760" height="720"/);
  assert.match(svg, /<svg y="0" [^>]*>.*Replicas.*<svg y="360" [^>]*>.*Lag/s);
});
