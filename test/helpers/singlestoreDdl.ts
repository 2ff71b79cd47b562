/**
 * SingleStore's table rules, read statically from the migrations and the statements in src/, as
 * its documentation states them (docs/singlestore.md lists the pages): a unique or primary key
 * must contain every shard key column; an explicit shard key must be part of the primary key; a
 * table with a primary key and no shard key is sharded on the primary key; an upsert may not
 * assign a rowstore table's shard key, nor any unique key column of a columnstore table; an UPDATE
 * may not modify the shard key; an AUTO_INCREMENT column of a sharded table is a BIGINT.
 */
import fs from 'node:fs';
import path from 'node:path';
import { splitStatements } from '../../src/store/dialect';

export interface TableShape {
  name: string;
  rowstore: boolean;
  primary: string[] | null;
  uniques: Array<{ name: string; columns: string[] }>;
  shard: string[] | null;
  /** Shard columns as SingleStore derives them: the explicit shard key, else the primary key. */
  effectiveShard: string[];
  autoIncrement: Array<{ column: string; type: string }>;
  source: string;
}

const columnsOf = (list: string) => list.split(',').map((c) => c.trim().replace(/`/g, '').replace(/\(\d+\)$/, '').toLowerCase()).filter((c) => c.length > 0);

/** Every CREATE TABLE of the given statements, with its keys. */
export function tablesOf(statements: ReadonlyArray<{ sql: string; source: string }>): Map<string, TableShape> {
  const tables = new Map<string, TableShape>();
  for (const { sql, source } of statements) {
    const m = /^CREATE\s+(ROWSTORE\s+|COLUMNSTORE\s+|REFERENCE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?\s*\(([\s\S]*)\)[^)]*$/i.exec(sql.trim());
    if (!m) continue;
    const body = m[3] as string;
    const shape: TableShape = { name: (m[2] as string).toLowerCase(), rowstore: /ROWSTORE/i.test(m[1] ?? ''), primary: null, uniques: [], shard: null, effectiveShard: [], autoIncrement: [], source };
    for (const line of body.split('\n').map((l) => l.trim().replace(/,$/, ''))) {
      let k: RegExpExecArray | null;
      if ((k = /^PRIMARY\s+KEY\s*\(([^)]*)\)/i.exec(line))) shape.primary = columnsOf(k[1] as string);
      else if ((k = /^(?:UNIQUE\s+KEY|CONSTRAINT\s+\w+\s+UNIQUE|UNIQUE)\s*(\w*)\s*\(([^)]*)\)/i.exec(line))) shape.uniques.push({ name: k[1] || '(unnamed)', columns: columnsOf(k[2] as string) });
      else if ((k = /^SHARD\s+KEY\s*\w*\s*\(([^)]*)\)/i.exec(line))) shape.shard = columnsOf(k[1] as string);
      else if ((k = /^(\w+)\s+(\w+)[^]*\bAUTO_INCREMENT\b/i.exec(line))) shape.autoIncrement.push({ column: (k[1] as string).toLowerCase(), type: (k[2] as string).toUpperCase() });
      else if ((k = /^(\w+)\s+[^]*\bPRIMARY\s+KEY\b/i.exec(line)) && !/^(KEY|INDEX|SORT)\b/i.test(line)) shape.primary = [(k[1] as string).toLowerCase()];
    }
    shape.effectiveShard = shape.shard ?? shape.primary ?? [];
    tables.set(shape.name, shape);
  }
  return tables;
}

/** The SingleStore migrations' statements, each with its file. */
export function singlestoreStatements(dir: string): Array<{ sql: string; source: string }> {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.singlestore.sql'))
    .sort()
    .flatMap((f) => splitStatements(fs.readFileSync(path.join(dir, f), 'utf8')).map((sql) => ({ sql, source: f })));
}

/** Violations of the key rules in the table definitions. */
export function keyViolations(tables: ReadonlyMap<string, TableShape>): string[] {
  const out: string[] = [];
  for (const t of tables.values()) {
    const shard = t.effectiveShard;
    const keys = [...(t.primary ? [{ name: 'PRIMARY', columns: t.primary }] : []), ...t.uniques];
    for (const k of keys) {
      const missing = shard.filter((c) => !k.columns.includes(c));
      if (missing.length > 0) out.push(`${t.source}: ${t.name} key ${k.name} (${k.columns.join(', ')}) lacks shard key column(s) ${missing.join(', ')}`);
    }
    if (t.shard && t.primary && !t.shard.every((c) => t.primary?.includes(c))) out.push(`${t.source}: ${t.name} shard key (${t.shard.join(', ')}) is not part of its primary key`);
    for (const a of t.autoIncrement) if (a.type !== 'BIGINT') out.push(`${t.source}: ${t.name}.${a.column} is AUTO_INCREMENT but ${a.type}, not BIGINT`);
  }
  return out;
}

/** `INSERT INTO t … ON DUPLICATE KEY UPDATE a = …, b = …` and `UPDATE t SET a = …` found in a source text. */
export function assignmentsIn(text: string): Array<{ kind: 'upsert' | 'update'; table: string; columns: string[]; sql: string }> {
  const out: Array<{ kind: 'upsert' | 'update'; table: string; columns: string[]; sql: string }> = [];
  const assigned = (list: string) => [...list.matchAll(/(?:^|,)\s*`?(\w+)`?\s*=(?!=)/g)].map((m) => (m[1] as string).toLowerCase());
  for (const m of text.matchAll(/INSERT\s+(?:IGNORE\s+)?INTO\s+`?(\w+)`?[^`'"]*?ON\s+DUPLICATE\s+KEY\s+UPDATE\s+([^`'"]*)/gi)) {
    out.push({ kind: 'upsert', table: (m[1] as string).toLowerCase(), columns: assigned(m[2] as string), sql: m[0] });
  }
  for (const m of text.matchAll(/\bUPDATE\s+`?(\w+)`?(?:\s+\w+)?\s+SET\s+([^`'"]*?)(?:\s+WHERE\b|$)/gi)) {
    out.push({ kind: 'update', table: (m[1] as string).toLowerCase(), columns: assigned(m[2] as string), sql: m[0] });
  }
  return out;
}

/** Assignments SingleStore refuses: see the module comment. */
export function assignmentViolations(tables: ReadonlyMap<string, TableShape>, text: string, source: string): string[] {
  const out: string[] = [];
  for (const a of assignmentsIn(text)) {
    const t = tables.get(a.table);
    if (!t) continue;
    const forbidden = new Set(t.effectiveShard);
    if (a.kind === 'upsert' && !t.rowstore) for (const k of [...(t.primary ?? []), ...t.uniques.flatMap((u) => u.columns)]) forbidden.add(k);
    const bad = a.columns.filter((c) => forbidden.has(c));
    if (bad.length > 0) out.push(`${source}: ${a.kind} of ${t.rowstore ? 'rowstore' : 'columnstore'} ${t.name} assigns ${bad.join(', ')} (${a.kind === 'upsert' && !t.rowstore ? 'a unique key column' : 'the shard key'})`);
  }
  return out;
}
