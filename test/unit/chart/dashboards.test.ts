/** Grafana dashboards ship as ConfigMaps for the Grafana sidecar, from a copy of grafana/dashboards/. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CHART_DIR, copyChart, render } from './render';

const dashboardMaps = (objects: ReturnType<typeof render>) =>
  objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard !== undefined);

test('one ConfigMap per dashboard file, labelled for the sidecar, and none when there are no files', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-chart-'));
  try {
    const chart = copyChart(tmp);
    const dir = path.join(chart, 'dashboards');
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.json')) fs.rmSync(path.join(dir, f));
    assert.deepEqual(dashboardMaps(render({ chartDir: chart })), [], 'zero dashboards must render zero ConfigMaps');

    const board = JSON.stringify({ title: 'Ledgerflow ops', panels: [] }, null, 2);
    fs.writeFileSync(path.join(dir, 'Ledgerflow Ops.json'), board);
    fs.writeFileSync(path.join(dir, 'business.json'), board);
    const maps = dashboardMaps(render({ chartDir: chart }));
    assert.equal(maps.length, 2);
    for (const map of maps) {
      assert.equal(map.metadata.labels?.grafana_dashboard, '1');
      assert.equal(map.metadata.annotations?.grafana_folder, 'Ledgerflow');
      assert.match(map.metadata.name, /^lf-ledgerflow-dashboard-[a-z0-9-]+$/);
    }
    const ops = maps.find((m) => m.metadata.name === 'lf-ledgerflow-dashboard-ledgerflow-ops');
    assert.deepEqual(JSON.parse((ops?.data as Record<string, string>)['Ledgerflow Ops.json'] ?? ''), JSON.parse(board));

    const custom = dashboardMaps(render({ chartDir: chart, setString: ['grafanaDashboards.label=dash', 'grafanaDashboards.labelValue=yes'] }));
    assert.equal(custom.length, 0, 'the default label is gone when another is configured');
    const relabelled = render({ chartDir: chart, setString: ['grafanaDashboards.label=dash'] }).filter((o) => o.metadata.labels?.dash === '1');
    assert.equal(relabelled.length, 2);
    assert.equal(dashboardMaps(render({ chartDir: chart, set: ['grafanaDashboards.enabled=false'] })).length, 0);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the chart ships exactly the dashboards of grafana/dashboards/', () => {
  const source = path.join(CHART_DIR, '..', '..', 'grafana', 'dashboards');
  const names = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : []);
  assert.deepEqual(names(path.join(CHART_DIR, 'dashboards')), names(source), 'run: npx tsx charts/tools/sync.ts --write');
  assert.equal(dashboardMaps(render()).length, names(source).length);
});
