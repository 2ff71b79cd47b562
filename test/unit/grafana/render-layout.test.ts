/** docs/dashboards/*.svg (the README's view of each dashboard's layout) are drawn from the JSON. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DASHBOARD_DIR, layoutDrift, renderLayout } from '../../../grafana/tools/render-layout';

test('the committed layout SVGs are in sync with grafana/dashboards (npx tsx grafana/tools/render-layout.ts --write)', () => {
  assert.deepEqual(layoutDrift(), []);
});

test('every panel and row of every dashboard is drawn, once, with its title', () => {
  for (const file of fs.readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as { panels: Array<{ id: number; title: string }> };
    const svg = renderLayout(d as never);
    for (const p of d.panels) {
      assert.equal(svg.split(`<g id="panel-${p.id}">`).length - 1, 1, `${file}: panel ${p.id}`);
      const shown = p.title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').slice(0, 20);
      assert.ok(svg.includes(shown), `${file}: title of panel ${p.id} (${p.title})`);
    }
  }
});

test('a panel is placed by its gridPos, coloured by its data source, and its text is escaped', () => {
  const svg = renderLayout({
    uid: 'u',
    title: 'A <b> & c',
    templating: { list: [{ name: 'db', type: 'datasource', query: 'mysql' }] },
    panels: [
      { id: 1, type: 'row', title: 'Row', gridPos: { x: 0, y: 0, w: 24, h: 1 } },
      { id: 2, type: 'stat', title: 'x < y', gridPos: { x: 12, y: 1, w: 6, h: 4 }, datasource: { uid: '${db}' }, targets: [{}] },
      { id: 3, type: 'timeseries', title: 'p', gridPos: { x: 0, y: 1, w: 12, h: 4 }, datasource: { type: 'prometheus', uid: 'p' }, targets: [{}] },
    ],
  });
  assert.match(svg, /<title>A &lt;b&gt; &amp; c: panel layout<\/title>/);
  // 16 px margin + 12 columns × 44 px + half a 4 px gap; 44 px header + 1 unit × 22 px + 2.
  assert.match(svg, /<g id="panel-2">\n\s+<rect x="546" y="68" width="260" height="84" rx="3" fill="#fdf0e2"/);
  assert.match(svg, /<g id="panel-3">\n\s+<rect x="18" y="68" width="524" height="84" rx="3" fill="#e8f1fb"/);
  assert.match(svg, />x &lt; y</);
  assert.ok(svg.indexOf('panel-1') < svg.indexOf('panel-3') && svg.indexOf('panel-3') < svg.indexOf('panel-2'), 'drawn top to bottom, left to right');
});
