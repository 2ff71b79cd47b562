/**
 * Draws each dashboard's panel grid (gridPos, title, panel type, data source) as an SVG, the
 * "rendered view of each dashboard's layout" the README shows; no Grafana needed.
 *
 *   npx tsx grafana/tools/render-layout.ts          check only: prints the drift, exits 1 if any
 *   npx tsx grafana/tools/render-layout.ts --write  rewrites docs/dashboards/*.svg
 */
import fs from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DASHBOARD_DIR = path.join(REPO_ROOT, 'grafana', 'dashboards');
export const LAYOUT_DIR = path.join(REPO_ROOT, 'docs', 'dashboards');

/** Grafana's grid: 24 columns; one height unit is about 30 px on screen. */
const COLUMNS = 24;
const COLUMN_PX = 44;
const ROW_UNIT_PX = 22;
const MARGIN_PX = 16;
const HEADER_PX = 44;
const GAP_PX = 4;
/** Width of one character at the 12 px sans-serif used below, for cutting long titles. */
const CHAR_PX = 6.4;

interface GridPos { x: number; y: number; w: number; h: number }
interface Target { datasource?: { type?: string; uid?: string } }
interface Panel { id: number; type: string; title: string; gridPos: GridPos; datasource?: { type?: string; uid?: string }; targets?: Target[]; panels?: Panel[] }
interface Variable { name: string; type: string; query?: unknown }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating?: { list: Variable[] } }

/** Fill colour by what a panel queries: Prometheus, SQL, both, or nothing (rows). */
const COLOURS = { promql: '#e8f1fb', sql: '#fdf0e2', mixed: '#efe9f7', none: '#f2f2f2' } as const;
const STROKES = { promql: '#5b8fd0', sql: '#d49343', mixed: '#8a6cc2', none: '#9a9a9a' } as const;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function cut(text: string, widthPx: number): string {
  const max = Math.max(3, Math.floor(widthPx / CHAR_PX));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** 'promql' | 'sql' by the data source type, resolving `${var}` data source variables. */
function sourceKind(d: Dashboard, p: Panel): keyof typeof COLOURS {
  const kinds = new Set<string>();
  for (const ref of [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]) {
    if (!ref) continue;
    const type = ref.type ?? d.templating?.list.find((v) => v.type === 'datasource' && ref.uid === `\${${v.name}}`)?.query;
    if (type === 'prometheus') kinds.add('promql');
    if (type === 'mysql') kinds.add('sql');
  }
  if (p.type === 'row' || kinds.size === 0) return 'none';
  return kinds.size > 1 ? 'mixed' : (kinds.values().next().value as 'promql' | 'sql');
}

const flatten = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);

/** The SVG of one dashboard: the same input gives the same bytes (the sync test relies on it). */
export function renderLayout(d: Dashboard): string {
  const panels = flatten(d.panels);
  const bottom = Math.max(0, ...panels.map((p) => p.gridPos.y + p.gridPos.h));
  const width = MARGIN_PX * 2 + COLUMNS * COLUMN_PX;
  const height = HEADER_PX + bottom * ROW_UNIT_PX + MARGIN_PX;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `  <title>${escapeXml(d.title)}: panel layout</title>`,
    `  <rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `  <text x="${MARGIN_PX}" y="26" font-size="16" font-weight="bold" fill="#222222">${escapeXml(d.title)}</text>`,
    `  <text x="${width - MARGIN_PX}" y="26" font-size="11" fill="#555555" text-anchor="end">blue: Prometheus · orange: SQL · uid ${escapeXml(d.uid)}</text>`,
  ];
  for (const p of [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x || a.id - b.id)) {
    const { x, y, w, h } = p.gridPos;
    const left = MARGIN_PX + x * COLUMN_PX + GAP_PX / 2;
    const top = HEADER_PX + y * ROW_UNIT_PX + GAP_PX / 2;
    const boxW = w * COLUMN_PX - GAP_PX;
    const boxH = h * ROW_UNIT_PX - GAP_PX;
    if (p.type === 'row') {
      out.push(
        `  <g id="panel-${p.id}">`,
        `    <line x1="${left}" y1="${top + boxH}" x2="${left + boxW}" y2="${top + boxH}" stroke="#888888"/>`,
        `    <text x="${left + 2}" y="${top + boxH - 5}" font-size="13" font-weight="bold" fill="#333333">${escapeXml(cut(p.title, boxW))}</text>`,
        '  </g>',
      );
      continue;
    }
    const kind = sourceKind(d, p);
    out.push(
      `  <g id="panel-${p.id}">`,
      `    <rect x="${left}" y="${top}" width="${boxW}" height="${boxH}" rx="3" fill="${COLOURS[kind]}" stroke="${STROKES[kind]}"/>`,
      `    <text x="${left + 6}" y="${top + 16}" font-size="12" fill="#222222">${escapeXml(cut(p.title, boxW - 12))}</text>`,
      `    <text x="${left + 6}" y="${top + boxH - 7}" font-size="10" fill="#666666">${escapeXml(`${p.type} · ${w}×${h}`)}</text>`,
      '  </g>',
    );
  }
  out.push('</svg>', '');
  return out.join('\n');
}

/** docs/dashboards/<file>.svg for every grafana/dashboards/<file>.json. */
export function expectedLayouts(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of fs.readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort()) {
    const dashboard = JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, name), 'utf8')) as Dashboard;
    files.set(name.replace(/\.json$/, '.svg'), renderLayout(dashboard));
  }
  return files;
}

/** Differences between docs/dashboards/ and what the dashboards render to. */
export function layoutDrift(): string[] {
  const want = expectedLayouts();
  const drift: string[] = [];
  for (const [name, text] of want) {
    const file = path.join(LAYOUT_DIR, name);
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) drift.push(`docs/dashboards/${name} is not rendered from grafana/dashboards/`);
  }
  const have = fs.existsSync(LAYOUT_DIR) ? fs.readdirSync(LAYOUT_DIR).filter((f) => f.endsWith('.svg')) : [];
  for (const name of have) if (!want.has(name)) drift.push(`docs/dashboards/${name} has no dashboard`);
  return drift;
}

export function writeLayouts(): void {
  fs.mkdirSync(LAYOUT_DIR, { recursive: true });
  const want = expectedLayouts();
  for (const name of fs.readdirSync(LAYOUT_DIR).filter((f) => f.endsWith('.svg') && !want.has(f))) fs.rmSync(path.join(LAYOUT_DIR, name));
  for (const [name, text] of want) fs.writeFileSync(path.join(LAYOUT_DIR, name), text);
}

if (require.main === module) {
  if (process.argv.includes('--write')) writeLayouts();
  const drift = layoutDrift();
  for (const line of drift) process.stderr.write(`${line}\n`);
  if (drift.length > 0) {
    process.stderr.write('run: npx tsx grafana/tools/render-layout.ts --write\n');
    process.exit(1);
  }
  process.stdout.write('docs/dashboards/*.svg are in sync with grafana/dashboards/*.json\n');
}
