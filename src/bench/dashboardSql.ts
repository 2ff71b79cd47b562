import fs from 'node:fs';
import path from 'node:path';

/** A Grafana panel's SQL, with its macros rendered for a fixed time window (as Grafana would). */
export interface DashboardQuery {
  name: string;
  /** The table it reads: a rollup (an aggregate, counted in aggregateP99Ms), balances or transactions. */
  table: 'rollup' | 'transactions' | 'balances';
  sql: string;
}

function dashboardsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'grafana', 'dashboards');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`no grafana/dashboards above ${__dirname}`);
  }
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: Array<{ rawSql?: string }>;
}

function sqlTargets(panels: ReadonlyArray<Panel>): Array<{ title: string; rawSql: string }> {
  return panels.flatMap((p) => [
    ...(p.targets ?? []).filter((t) => t.rawSql).map((t) => ({ title: p.title ?? 'untitled', rawSql: t.rawSql as string })),
    ...sqlTargets(p.panels ?? []),
  ]);
}

/** Renders Grafana's MySQL macros the way its data source does, for [from, to] and one interval. */
export function renderMacros(rawSql: string, from: string, to: string, intervalS: number, currency: string): string {
  return rawSql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_m, col: string) => `${col.trim()} BETWEEN '${from}' AND '${to}'`)
    .replace(/\$__timeFrom\(\)/g, `'${from}'`)
    .replace(/\$__timeTo\(\)/g, `'${to}'`)
    .replace(/\$__timeGroupAlias\(([^,]+),[^)]*\)/g, (_m, col: string) => `UNIX_TIMESTAMP(${col.trim()}) DIV ${intervalS} * ${intervalS} AS \`time\``)
    .replace(/\$currency/g, currency);
}

/** Every SQL panel of every dashboard, rendered for the window [from, to]. */
export function dashboardQueries(from: string, to: string, intervalS: number, currency: string): DashboardQuery[] {
  const dir = dashboardsDir();
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const dashboard = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Panel;
      return sqlTargets(dashboard.panels ?? []).map(({ title, rawSql }) => {
        const table = /\bFROM\s+rollup_\w+/i.test(rawSql) ? 'rollup' : /\bFROM\s+balances\b/i.test(rawSql) ? 'balances' : 'transactions';
        return { name: `${path.basename(file, '.json')}: ${title}`, table, sql: renderMacros(rawSql, from, to, intervalS, currency) } as DashboardQuery;
      });
    });
}
