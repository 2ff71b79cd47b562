/**
 * Keeps the chart's generated files in step with their sources:
 *   README.md values table and values.schema.json  <- the `## @param` comments of values.yaml
 *   dashboards/*.json                              <- grafana/dashboards/*.json (Helm cannot read outside the chart)
 *
 *   npx tsx charts/tools/sync.ts          check only: prints the drift, exits 1 if any
 *   npx tsx charts/tools/sync.ts --write  rewrites the generated files
 */
import fs from 'node:fs';
import path from 'node:path';
import { expectedFiles } from './values-docs';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CHART_DIR = path.join(REPO_ROOT, 'charts', 'ledgerflow');
const DASHBOARD_SOURCE = path.join(REPO_ROOT, 'grafana', 'dashboards');
const DASHBOARD_COPY = path.join(CHART_DIR, 'dashboards');

function jsonFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!fs.existsSync(dir)) return files;
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.endsWith('.json')) files.set(name, fs.readFileSync(path.join(dir, name), 'utf8'));
  }
  return files;
}

/** Human-readable differences between the generated files on disk and what they should be. */
export function chartDrift(): string[] {
  const drift: string[] = [];
  for (const [name, want] of Object.entries(expectedFiles(CHART_DIR))) {
    const file = path.join(CHART_DIR, name);
    const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (have !== want) drift.push(`charts/ledgerflow/${name} is not generated from values.yaml`);
  }
  const source = jsonFiles(DASHBOARD_SOURCE);
  const copy = jsonFiles(DASHBOARD_COPY);
  for (const [name, text] of source) {
    if (copy.get(name) !== text) drift.push(`charts/ledgerflow/dashboards/${name} differs from grafana/dashboards/${name}`);
  }
  for (const name of copy.keys()) {
    if (!source.has(name)) drift.push(`charts/ledgerflow/dashboards/${name} has no source in grafana/dashboards/`);
  }
  return drift;
}

export function writeGenerated(): void {
  for (const [name, text] of Object.entries(expectedFiles(CHART_DIR))) {
    fs.writeFileSync(path.join(CHART_DIR, name), text);
  }
  const source = jsonFiles(DASHBOARD_SOURCE);
  fs.mkdirSync(DASHBOARD_COPY, { recursive: true });
  for (const name of jsonFiles(DASHBOARD_COPY).keys()) {
    if (!source.has(name)) fs.rmSync(path.join(DASHBOARD_COPY, name));
  }
  for (const [name, text] of source) fs.writeFileSync(path.join(DASHBOARD_COPY, name), text);
}

if (require.main === module) {
  if (process.argv.includes('--write')) writeGenerated();
  const drift = chartDrift();
  for (const line of drift) console.error(line);
  if (drift.length > 0) {
    console.error('run: npx tsx charts/tools/sync.ts --write');
    process.exit(1);
  }
  console.log('chart README, values.schema.json and dashboards are in sync');
}
