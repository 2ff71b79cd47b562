/**
 * Keeps the chart's generated files in step with their sources:
 *   README.md values table and values.schema.json  <- the `## @param` comments of values.yaml
 *   dashboards/*.json                              <- grafana/dashboards/*.json (Helm cannot read outside the chart)
 *   rules/*.rules.yml                              <- grafana/prometheus/*.rules.yml (the PrometheusRule's groups)
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
const RULES_SOURCE = path.join(REPO_ROOT, 'grafana', 'prometheus');
const RULES_COPY = path.join(CHART_DIR, 'rules');

/** Copies kept in step with their sources: [source dir, copy dir, file suffix]. */
const COPIES: Array<[string, string, string]> = [
  [DASHBOARD_SOURCE, DASHBOARD_COPY, '.json'],
  [RULES_SOURCE, RULES_COPY, '.rules.yml'],
];

function filesEnding(dir: string, suffix: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!fs.existsSync(dir)) return files;
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.endsWith(suffix)) files.set(name, fs.readFileSync(path.join(dir, name), 'utf8'));
  }
  return files;
}

const rel = (dir: string) => path.relative(REPO_ROOT, dir);

/** Human-readable differences between the generated files on disk and what they should be. */
export function chartDrift(): string[] {
  const drift: string[] = [];
  for (const [name, want] of Object.entries(expectedFiles(CHART_DIR))) {
    const file = path.join(CHART_DIR, name);
    const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (have !== want) drift.push(`charts/ledgerflow/${name} is not generated from values.yaml`);
  }
  for (const [sourceDir, copyDir, suffix] of COPIES) {
    const source = filesEnding(sourceDir, suffix);
    const copy = filesEnding(copyDir, suffix);
    for (const [name, text] of source) {
      if (copy.get(name) !== text) drift.push(`${rel(copyDir)}/${name} differs from ${rel(sourceDir)}/${name}`);
    }
    for (const name of copy.keys()) {
      if (!source.has(name)) drift.push(`${rel(copyDir)}/${name} has no source in ${rel(sourceDir)}/`);
    }
  }
  return drift;
}

export function writeGenerated(): void {
  for (const [name, text] of Object.entries(expectedFiles(CHART_DIR))) {
    fs.writeFileSync(path.join(CHART_DIR, name), text);
  }
  for (const [sourceDir, copyDir, suffix] of COPIES) {
    const source = filesEnding(sourceDir, suffix);
    fs.mkdirSync(copyDir, { recursive: true });
    for (const name of filesEnding(copyDir, suffix).keys()) {
      if (!source.has(name)) fs.rmSync(path.join(copyDir, name));
    }
    for (const [name, text] of source) fs.writeFileSync(path.join(copyDir, name), text);
  }
}

if (require.main === module) {
  if (process.argv.includes('--write')) writeGenerated();
  const drift = chartDrift();
  for (const line of drift) console.error(line);
  if (drift.length > 0) {
    console.error('run: npx tsx charts/tools/sync.ts --write');
    process.exit(1);
  }
  console.log('chart README, values.schema.json, dashboards and rules are in sync');
}
